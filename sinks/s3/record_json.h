/* One decoded record as a JSON object in the form Hive's JSON reader (and so Trino's) reads:
 * decimals as exact strings, timestamps as "YYYY-MM-DD HH:MM:SS.ffffff" (UTC), dates as
 * "YYYY-MM-DD", unions as their branch's value, bytes as base64. */
#ifndef SALESCDC_SINK_RECORD_JSON_H
#define SALESCDC_SINK_RECORD_JSON_H

#include <avro.h>
#include <stddef.h>

#include "avro_type.h"
#include "strbuf.h"

/* Appends VALUE (decoded with avro-c from the schema whose type graph is TYPE) to OUT as JSON,
 * without a newline. Returns 0, or -1 with errstr naming the field when VALUE does not match
 * TYPE (a programming error: both come from the same schema text). */
int sink_record_json(struct strbuf *out, const struct sink_avro_type *type, avro_value_t *value,
                     char *errstr, size_t errstr_size);

/* Appends one value of TYPE as JSON (the same rules, for any type). */
int sink_value_json(struct strbuf *out, const struct sink_avro_type *type, avro_value_t *value,
                    char *errstr, size_t errstr_size);

#endif
