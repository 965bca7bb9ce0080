/* The per-record decision: unframe, find the plan, flatten (fast path for Avro output), encode. */
#include "process.h"

#include <stdio.h>
#include <string.h>

#include "avro_wire.h"
#include "xalloc.h"

struct processor {
    struct schemas *schemas;
    enum transformer_format format;
    int pass_tombstones;
};

struct processor *processor_new(struct schemas *schemas, enum transformer_format format,
                                int pass_tombstones)
{
    struct processor *p = xcalloc(1, sizeof *p);
    *p = (struct processor){schemas, format, pass_tombstones};
    return p;
}

void processor_destroy(struct processor *p)
{
    free(p);
}

static void dead_letter(struct process_result *r, const char *error_class)
{
    r->action = PROCESS_DLQ;
    r->error_class = error_class;
}

/* Encodes the plan's last flat record in the configured format into R->value. */
static void encode(struct processor *p, struct flatten_plan *plan, const char *output_topic,
                   struct process_result *r)
{
    if (p->format == TRANSFORMER_FORMAT_JSON) {
        flatten_write_json(plan, &r->value);
        r->action = PROCESS_PUBLISH;
        return;
    }
    char subject[1024];
    int32_t id = 0;
    snprintf(subject, sizeof subject, "%s-value", output_topic);
    switch (schemas_output_id(p->schemas, subject, plan, &id, r->error, sizeof r->error)) {
    case SCHEMAS_UNAVAILABLE: r->action = PROCESS_RETRY; return;
    case SCHEMAS_POISON: dead_letter(r, "output_schema_refused"); return;
    case SCHEMAS_OK: break;
    }
    flatten_emit_avro(plan, id, &r->value);
    r->action = PROCESS_PUBLISH;
}

void processor_run(struct processor *p, const struct process_input *in, struct process_result *r)
{
    int32_t id = 0;
    const char *payload = NULL, *error_class = NULL;
    size_t payload_len = 0;
    struct flatten_plan *plan = NULL;
    r->value.len = 0;
    r->error[0] = '\0';
    r->error_class = NULL;
    if (!in->value) {
        r->action = p->pass_tombstones ? PROCESS_TOMBSTONE : PROCESS_DROP;
        return;
    }
    if (avro_wire_parse(in->value, in->value_len, &id, &payload, &payload_len, r->error,
                        sizeof r->error) < 0) {
        dead_letter(r, "not_framed");
        return;
    }
    switch (schemas_plan(p->schemas, id, &plan, &error_class, r->error, sizeof r->error)) {
    case SCHEMAS_UNAVAILABLE: r->action = PROCESS_RETRY; return;
    case SCHEMAS_POISON: dead_letter(r, error_class); return;
    case SCHEMAS_OK: break;
    }
    /* Avro out: the fast path (no generic values); JSON out renders from generic values. */
    enum flatten_result fr =
        p->format == TRANSFORMER_FORMAT_AVRO
            ? flatten_scan(plan, payload, payload_len, r->error, sizeof r->error)
            : flatten_record(plan, payload, payload_len, r->error, sizeof r->error);
    switch (fr) {
    case FLATTEN_SKIP: r->action = PROCESS_DROP; return;
    case FLATTEN_ERROR:
        dead_letter(r, flatten_last_error_was_decode(plan) ? "corrupt_avro" : "bad_envelope");
        return;
    case FLATTEN_OK: break;
    }
    encode(p, plan, in->output_topic, r);
}
