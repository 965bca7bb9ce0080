/* Avro schema (.avsc JSON) parsing and validation per the Avro 1.11 specification, producing an
 * expanded tree the registry compares and checks: every named type carries its full name,
 * namespaces are resolved away, and later uses of a named type are its full name as a string.
 * (avro-c 1.11.1 is no help here: it drops logicalType when it re-serialises a schema, has no
 * canonical form, and its resolver is unreliable; see avsc_compat.h.) */
#ifndef SALESCDC_AVSC_H
#define SALESCDC_AVSC_H

#include <jansson.h>
#include <stddef.h>

struct avsc;

/* Parses and validates schema TEXT (LEN bytes): JSON syntax, types, names, duplicate
 * definitions, unions, enum symbols, fixed sizes and field defaults. Returns 0 and *OUT (caller
 * frees with avsc_destroy()), or -1 with errstr saying what is invalid and where. */
int avsc_parse(const char *text, size_t len, struct avsc **out, char *errstr, size_t errstr_size);

void avsc_destroy(struct avsc *s);

/* The expanded schema tree (borrowed; lives as long as S). */
const json_t *avsc_root(const struct avsc *s);

/* The definition of named type FULLNAME in S (borrowed), or NULL. */
const json_t *avsc_named(const struct avsc *s, const char *fullname);

/* Follows a named-type reference (a full-name string, or {"type": full-name}) to its definition;
 * returns any other node unchanged. Borrowed. */
const json_t *avsc_resolve(const struct avsc *s, const json_t *node);

/* The type of NODE (after avsc_resolve()): "null" ... "string", "record", "error", "enum",
 * "fixed", "array", "map", or "union" for a JSON array. */
const char *avsc_type(const json_t *node);

/* True if NAME is one of Avro's eight primitive type names. */
int avsc_is_primitive(const char *name);

#endif
