/* Flattening of one CDC envelope writer schema: decodes envelope values (Avro binary) with
 * avro-c, turns each into the flat record (after-image; before-image for deletes; plus the
 * metadata fields) and encodes it as Avro (Confluent-framed) or as a plain JSON object. One plan
 * per writer schema id; a plan reuses its values, so it serves one record at a time. */
#ifndef SALESCDC_TRANSFORMER_FLATTEN_H
#define SALESCDC_TRANSFORMER_FLATTEN_H

#include <stddef.h>
#include <stdint.h>

#include "columns.h"
#include "flat_schema.h"
#include "strbuf.h"

/* Outcome of decoding or converting one record. */
enum flatten_result {
    FLATTEN_OK,
    FLATTEN_SKIP,  /* nothing to publish: a truncate event (op t) */
    FLATTEN_ERROR, /* errstr says why; the record belongs in the dead-letter queue */
};

struct flatten_plan;

/* Builds the plan for the envelope writer schema ENVELOPE_JSON with column RULES (borrowed, may
 * be NULL). Returns the plan (caller frees with flatten_plan_destroy()) or NULL with errstr
 * saying why the schema does not fit (see flat_schema_derive()) or avro-c's complaint. */
struct flatten_plan *flatten_plan_new(const char *envelope_json, const struct columns_rules *rules,
                                      char *errstr, size_t errstr_size);
void flatten_plan_destroy(struct flatten_plan *plan);

/* The flat schema (borrowed): its text is what to register under the output subject. */
const struct flat_schema *flatten_plan_schema(const struct flatten_plan *plan);

/* Decodes the Avro binary envelope PAYLOAD[0..LEN) and converts it into the plan's flat record.
 * Returns FLATTEN_OK, FLATTEN_SKIP (op t), or FLATTEN_ERROR with errstr naming the cause: the
 * bytes do not decode with the writer schema (truncated or corrupt), or the envelope's content
 * does not fit its op (a delete without before, an unknown op, ...). */
enum flatten_result flatten_record(struct flatten_plan *plan, const void *payload, size_t len,
                                   char *errstr, size_t errstr_size);

/* True if the last record's error came from decoding the bytes (not from its content). */
int flatten_last_error_was_decode(const struct flatten_plan *plan);

/* Appends the last flat record to OUT in the Confluent wire format with schema id SCHEMA_ID.
 * Returns 0, or -1 with errstr (avro-c could not encode it). */
int flatten_write_avro(struct flatten_plan *plan, int32_t schema_id, struct strbuf *out,
                       char *errstr, size_t errstr_size);

/* The fast path (Avro output, no generic values): walks the envelope PAYLOAD[0..LEN) with the
 * plan's precompiled walker and checks its content. Same results and error texts as
 * flatten_record(); flatten_last_error_was_decode() tells decode from content errors. PAYLOAD
 * stays borrowed until flatten_emit_avro(). */
enum flatten_result flatten_scan(struct flatten_plan *plan, const void *payload, size_t len,
                                 char *errstr, size_t errstr_size);

/* After flatten_scan() returned FLATTEN_OK: appends the flat record to OUT in the Confluent wire
 * format with SCHEMA_ID: the row image's bytes copied verbatim (per column when columns are
 * excluded or reordered), then the metadata fields encoded. Equal byte for byte to what
 * flatten_record() + flatten_write_avro() produce for the same input. */
void flatten_emit_avro(struct flatten_plan *plan, int32_t schema_id, struct strbuf *out);

/* Appends the last flat record to OUT as one JSON object (see flat_json.h). */
void flatten_write_json(struct flatten_plan *plan, struct strbuf *out);

#endif
