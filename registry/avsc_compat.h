/* Schema compatibility by the Avro 1.11 schema-resolution rules ("can a reader with schema R read
 * data written with schema W?") and the registry's compatibility levels built on them.
 *
 * Why not avro-c's resolver (avro_resolved_writer_new) — facts about avro-c 1.11.1, checked:
 *  - it rejects a reader field missing from the writer even when the field has a default
 *    ("Reader field b doesn't appear in writer"), so "add a field with a default" would be
 *    refused although the specification allows it;
 *  - it has no string<->bytes promotion;
 *  - it accepts a reader enum that lacks writer symbols, and a reader union that lacks writer
 *    branches (it fails later, per value, when such data arrives);
 *  - it crashes (SIGSEGV) when the items of an array or the values of a map cannot be resolved,
 *    e.g. array<long> written, array<int> read.
 * So this module implements the specification's rules itself (as Java's SchemaCompatibility,
 * which Confluent uses, does) over the expanded trees of avsc.h. */
#ifndef SALESCDC_AVSC_COMPAT_H
#define SALESCDC_AVSC_COMPAT_H

#include <stddef.h>

struct avsc;

enum avsc_compat_level {
    AVSC_COMPAT_NONE,
    AVSC_COMPAT_BACKWARD,
    AVSC_COMPAT_BACKWARD_TRANSITIVE,
    AVSC_COMPAT_FORWARD,
    AVSC_COMPAT_FORWARD_TRANSITIVE,
    AVSC_COMPAT_FULL,
    AVSC_COMPAT_FULL_TRANSITIVE,
};

/* Parses a level name (case-insensitive, as Confluent accepts it); returns 0, or -1. */
int avsc_compat_level_parse(const char *name, enum avsc_compat_level *out);
/* The level's name in capitals, e.g. "BACKWARD_TRANSITIVE". */
const char *avsc_compat_level_name(enum avsc_compat_level level);

/* Checks whether data written with WRITER can be read with READER. Returns 1 if so; 0 if not,
 * with *DETAIL (caller frees; may be NULL to skip) describing the first incompatibility in
 * Confluent's style: {errorType:'...', description:'...', additionalInfo:'...'}. READER_ROLE and
 * WRITER_ROLE ("new", "old") name the two schemas in that description. Rules: primitive
 * promotions int->long/float/double, long->float/double, float->double, string<->bytes; records
 * match by unqualified name or reader alias, reader fields missing in the writer need a default;
 * enums need every writer symbol unless the reader has a default symbol; fixed sizes equal;
 * unions branch by branch; two decimals must keep their scale (the specification's rule, which
 * Confluent does not check). */
int avsc_can_read(const struct avsc *reader, const struct avsc *writer, const char *reader_role,
                  const char *writer_role, char **detail);

/* Checks CANDIDATE against EXISTING (N live versions, oldest first) under LEVEL: BACKWARD — the
 * candidate reads the latest; FORWARD — the latest reads the candidate; FULL — both; the
 * _TRANSITIVE forms against every version. Returns 1 if compatible; 0 if not, with *DETAIL
 * (caller frees; may be NULL) and *FAILED_INDEX set to the index of the version that failed. */
int avsc_compat_check(enum avsc_compat_level level, const struct avsc *candidate,
                      const struct avsc *const *existing, size_t n, char **detail,
                      size_t *failed_index);

#endif
