/* The registry's in-memory state — schemas by id, subjects and their versions, compatibility
 * settings — built only by applying the records of the `_schemas` log, so a restart that replays
 * the log rebuilds exactly the state that was acknowledged. Not thread-safe: registry.c locks. */
#ifndef SALESCDC_STORE_H
#define SALESCDC_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "avsc_compat.h"

struct avsc;

struct store_schema {
    int id;
    char *text;        /* the schema text exactly as first registered */
    char *identity;    /* avsc_canonical(..., AVSC_CANONICAL_IDENTITY) */
    uint64_t hash;     /* of identity, to skip most string comparisons */
    struct avsc *avsc; /* parsed */
};

struct store_version {
    int version;
    int id;
    int deleted; /* soft-deleted: hidden unless asked for, id still served */
};

struct store_subject {
    char *name;
    struct store_version *versions; /* ascending by version */
    size_t n_versions, cap_versions;
    int has_level; /* a subject-level compatibility is set */
    enum avsc_compat_level level;
};

struct store;

/* Creates an empty store whose global compatibility is DEFAULT_LEVEL until a CONFIG record says
 * otherwise. Caller frees with store_destroy(). */
struct store *store_new(enum avsc_compat_level default_level);
void store_destroy(struct store *st);

/* --- Applying log records --- */

/* Records that SUBJECT's VERSION is schema ID with TEXT (parsed here unless ID is known).
 * Returns 0, or -1 with errstr if TEXT is not a valid Avro schema (the id still counts as
 * used, so it is never issued again). */
int store_put_version(struct store *st, const char *subject, int version, int id, const char *text,
                      int deleted, char *errstr, size_t errstr_size);
/* Marks ID as issued (for records whose schema the store cannot hold, e.g. other types). */
void store_note_id(struct store *st, int id);
/* Forgets SUBJECT's VERSION (a tombstone: hard delete by another registry). */
void store_remove_version(struct store *st, const char *subject, int version);
/* Soft-deletes SUBJECT's versions up to and including UP_TO. */
void store_delete_subject(struct store *st, const char *subject, int up_to);
/* Sets (HAS_LEVEL 1) or clears the level of SUBJECT, or the global level when SUBJECT is NULL
 * (clearing the global level restores the default). */
void store_set_level(struct store *st, const char *subject, int has_level,
                     enum avsc_compat_level level);

/* --- Queries (all results borrowed, valid until the next change) --- */

const struct store_schema *store_schema_by_id(const struct store *st, int id);
const struct store_schema *store_schema_by_identity(const struct store *st, const char *identity);
/* The subject, or NULL if no record ever named it. */
const struct store_subject *store_subject(const struct store *st, const char *name);
size_t store_subject_count(const struct store *st);
const struct store_subject *store_subject_at(const struct store *st, size_t i);
/* Number of subjects with at least one live (not deleted) version. */
size_t store_live_subject_count(const struct store *st);
size_t store_schema_count(const struct store *st);
const struct store_schema *store_schema_at(const struct store *st, size_t i);
/* The highest id ever issued (0 when none). */
int store_max_id(const struct store *st);

/* The global level in effect, and the level in effect for SUBJECT. */
enum avsc_compat_level store_global_level(const struct store *st);
enum avsc_compat_level store_level(const struct store *st, const char *subject);

/* True if SUBJECT has a live version (or any version, when INCLUDE_DELETED). */
int store_subject_exists(const struct store_subject *sub, int include_deleted);
/* VERSION of SUB (-1: the latest live one; with INCLUDE_DELETED the latest of all), or NULL;
 * deleted versions only with INCLUDE_DELETED. */
const struct store_version *store_version_find(const struct store_subject *sub, int version,
                                               int include_deleted);
/* The version number the next registration under SUB gets (one more than any, deleted too). */
int store_next_version(const struct store_subject *sub);

#endif
