/* Named types of an Avro schema in JSON form (records, enums, fixed): full names by the Avro
 * specification's namespace rules, so that a reference such as "Value" or "ns.Value" can be
 * resolved to its definition. */
#ifndef SALESCDC_TRANSFORMER_AVSC_NAMES_H
#define SALESCDC_TRANSFORMER_AVSC_NAMES_H

#include <jansson.h>
#include <stddef.h>

struct avsc_names;

/* Collects every named type defined in SCHEMA (borrowed; must outlive the table). Returns the
 * table (caller frees with avsc_names_destroy()) or NULL with errstr naming the problem (a
 * nameless record, a name defined twice). */
struct avsc_names *avsc_names_new(json_t *schema, char *errstr, size_t errstr_size);
void avsc_names_destroy(struct avsc_names *names);

/* Full name of NAME in namespace NS (NULL or "": none): NAME itself when it has a dot. Caller
 * frees with free(). */
char *avsc_names_fullname(const char *name, const char *ns);

/* Namespace part of FULLNAME ("" when none). Caller frees with free(). */
char *avsc_names_namespace_of(const char *fullname);

/* True if NAME is one of Avro's primitive type names. */
int avsc_names_is_primitive(const char *name);

/* Definition (borrowed) of the type referenced by NAME inside namespace NS, or NULL. */
json_t *avsc_names_lookup(const struct avsc_names *names, const char *name, const char *ns);

/* Full name (borrowed) under which DEF, a definition inside the schema, was collected; NULL if
 * DEF is not one of the schema's named types. */
const char *avsc_names_name_of(const struct avsc_names *names, const json_t *def);

/* True for the type names that open a complex type: record, error, enum, fixed, array, map. */
int avsc_names_is_complex(const char *type);

/* Full name of the named type DEF (a record/enum/fixed object) defined inside namespace NS.
 * Caller frees with free(). NULL when DEF has no string "name". */
char *avsc_names_definition_fullname(json_t *def, const char *ns);

#endif
