/* The JSON output format: one plain object per flat record, like the AWS demo's Lambda wrote
 * them — columns by name, decimals as strings with every scale digit ("123.40"), timestamps as
 * ISO-8601 UTC ("2024-01-01T00:00:00.000000Z"), dates "YYYY-MM-DD", bytes base64, enums by
 * symbol, nulls as null, NaN and infinities as strings. */
#ifndef SALESCDC_TRANSFORMER_FLAT_JSON_H
#define SALESCDC_TRANSFORMER_FLAT_JSON_H

#include <avro.h>

#include "flat_schema.h"
#include "strbuf.h"

/* Appends FLAT (a value of FS's flat schema; borrowed) to OUT as one JSON object. */
void flat_json_render(const struct flat_schema *fs, avro_value_t *flat, struct strbuf *out);

/* Appends the JSON string literal of S[0..LEN) (quotes, escapes; UTF-8 passed through). */
void flat_json_string(const char *s, size_t len, struct strbuf *out);

#endif
