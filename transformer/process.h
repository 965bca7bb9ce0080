/* What becomes of one consumed record: its flat record to publish, a tombstone to pass on,
 * nothing (dropped tombstone, truncate event), a dead-letter entry with the reason, or "retry
 * later" when the schema registry is unavailable. No Kafka here: the pipeline acts on the
 * decision. */
#ifndef SALESCDC_TRANSFORMER_PROCESS_H
#define SALESCDC_TRANSFORMER_PROCESS_H

#include <stddef.h>
#include <stdint.h>

#include "options.h"
#include "schemas.h"
#include "strbuf.h"

struct process_input {
    const char *output_topic; /* where the flat record goes; its subject is <topic>-value */
    const void *value;        /* Confluent-framed envelope; NULL: a tombstone */
    size_t value_len;
};

enum process_action {
    PROCESS_PUBLISH,   /* send result->value to the output topic with the input's key */
    PROCESS_TOMBSTONE, /* send a null value to the output topic with the input's key */
    PROCESS_DROP,      /* nothing to send (a dropped tombstone, a truncate event) */
    PROCESS_DLQ,       /* send the input record unchanged to the dead-letter topic */
    PROCESS_RETRY,     /* the registry is unavailable: process this record again later */
};

struct process_result {
    enum process_action action;
    struct strbuf value;     /* PROCESS_PUBLISH: the flat record (reused between calls) */
    const char *error_class; /* PROCESS_DLQ: not_framed, unknown_schema, unsupported_schema,
                                corrupt_avro, bad_envelope or output_schema_refused (the
                                pipeline adds record_too_large) */
    char error[1024];        /* PROCESS_DLQ and PROCESS_RETRY: what went wrong */
};

struct processor;

/* Creates a processor over SCHEMAS (borrowed). Caller frees with processor_destroy(). */
struct processor *processor_new(struct schemas *schemas, enum transformer_format format,
                                int pass_tombstones);
void processor_destroy(struct processor *p);

/* Decides about IN (borrowed) and fills RESULT (its value buffer reused; release with
 * strbuf_release() when done with RESULT). */
void processor_run(struct processor *p, const struct process_input *in,
                   struct process_result *result);

#endif
