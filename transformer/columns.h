/* Column selection and renaming for the flat records, like Kafka Connect's ReplaceField
 * transformation: an include list, an exclude list and old:new renames, applied to every table. */
#ifndef SALESCDC_TRANSFORMER_COLUMNS_H
#define SALESCDC_TRANSFORMER_COLUMNS_H

#include <stddef.h>

struct columns_rules;

/* Parses the rules: INCLUDE and EXCLUDE are comma-separated column names (empty: none); RENAME
 * is comma-separated "old:new" pairs. Blanks around names are ignored. Returns the rules (caller
 * frees with columns_rules_destroy()) or NULL with errstr naming the option and the problem (a
 * new name that is not a valid Avro name or starts with "__", an empty name, a column renamed
 * twice, two columns renamed to one name). NULL or empty strings mean "no rule". */
struct columns_rules *columns_rules_new(const char *include, const char *exclude,
                                        const char *rename, char *errstr, size_t errstr_size);
void columns_rules_destroy(struct columns_rules *rules);

/* The output name of column NAME: NULL when the rules drop it (an include list without it, or
 * the exclude list with it), else its new name or NAME itself (borrowed from RULES or NAME).
 * RULES may be NULL (keep everything). */
const char *columns_rules_apply(const struct columns_rules *rules, const char *name);

/* True if NAME is a valid Avro name: [A-Za-z_][A-Za-z0-9_]*. */
int columns_valid_name(const char *name);

#endif
