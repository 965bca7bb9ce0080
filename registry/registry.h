/* The schema registry's operations, with Confluent Schema Registry's semantics and error codes,
 * over a durable record log: every change is appended to the log, and becomes visible (and is
 * acknowledged) only once the log has it and it has been read back and applied. Thread-safe:
 * reads run concurrently; writes are serialised (a single writer). */
#ifndef SALESCDC_REGISTRY_H
#define SALESCDC_REGISTRY_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "avsc_compat.h"
#include "strbuf.h"

/* Receives one log record (VALUE NULL: a tombstone); buffers are borrowed for the call. */
typedef void (*registry_record_fn)(void *arg, const char *key, size_t key_len, const char *value,
                                   size_t value_len);

/* A durable, ordered record log (Kafka's `_schemas` topic, or memory in tests). */
struct registry_log {
    void *ctx;
    /* Appends KEY/VALUE (VALUE NULL: tombstone); returns 0 once it is durable, with *OFFSET its
     * position, or -1 with errstr (the record may or may not have been written). */
    int (*append)(void *ctx, const char *key, const char *value, int64_t *offset, char *errstr,
                  size_t errstr_size);
    /* Passes the records after the last one read to FN, in order, up to and including UNTIL
     * (-1: up to the end of the log as it is now). Returns 1 when there, 0 when TIMEOUT_MS
     * passed first, -1 with errstr on an error. */
    int (*read_until)(void *ctx, int64_t until, int timeout_ms, registry_record_fn fn, void *arg,
                      char *errstr, size_t errstr_size);
};

/* An error answer: HTTP status, Confluent error code, message. */
struct registry_error {
    int status;
    int code;
    char message[2048];
};

/* Fills ERR (message printf-formatted) and returns NULL, so callers can return it. */
json_t *registry_fail(struct registry_error *err, int status, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

struct registry;

/* Creates a registry over LOG (copied; its ctx must outlive the registry); DEFAULT_LEVEL is the
 * global compatibility until set with PUT /config; WRITE_TIMEOUT_MS bounds reading back a write.
 * Caller frees with registry_destroy(). */
struct registry *registry_new(const struct registry_log *log, enum avsc_compat_level default_level,
                              int write_timeout_ms);
void registry_destroy(struct registry *r);

/* Replays the whole log (up to its end as found now), then marks the registry ready. Gives up
 * after TIMEOUT_MS, or when STOP(STOP_ARG) returns non-zero (checked about every second).
 * Returns 0, or -1 with errstr. */
int registry_load(struct registry *r, int timeout_ms, int (*stop)(void *), void *stop_arg,
                  char *errstr, size_t errstr_size);
/* True once registry_load() has finished. */
int registry_is_ready(const struct registry *r);
/* Appends Prometheus text: readiness, schema, subject and highest-id gauges. */
void registry_metrics(struct registry *r, struct strbuf *out);

/* The operations. Each returns a new JSON value (caller json_decref()s it) or NULL with ERR
 * filled. VERSION -1 means "latest". DELETED non-zero includes soft-deleted entries. */
json_t *registry_register(struct registry *r, const char *subject, const char *schema,
                          struct registry_error *err);
json_t *registry_lookup(struct registry *r, const char *subject, const char *schema, int deleted,
                        struct registry_error *err);
json_t *registry_schema_by_id(struct registry *r, int id, struct registry_error *err);
json_t *registry_id_subjects(struct registry *r, int id, int deleted, struct registry_error *err);
json_t *registry_id_versions(struct registry *r, int id, int deleted, struct registry_error *err);
json_t *registry_subjects(struct registry *r, const char *prefix, int deleted);
json_t *registry_versions(struct registry *r, const char *subject, int deleted,
                          struct registry_error *err);
json_t *registry_version(struct registry *r, const char *subject, int version, int deleted,
                         struct registry_error *err);
json_t *registry_delete_subject(struct registry *r, const char *subject, int permanent,
                                struct registry_error *err);
json_t *registry_delete_version(struct registry *r, const char *subject, int version, int permanent,
                                struct registry_error *err);
/* SUBJECT NULL: the global setting. */
json_t *registry_get_config(struct registry *r, const char *subject, int default_to_global,
                            struct registry_error *err);
json_t *registry_set_config(struct registry *r, const char *subject, const char *level,
                            struct registry_error *err);
json_t *registry_delete_config(struct registry *r, const char *subject, struct registry_error *err);
/* Is SCHEMA compatible with SUBJECT's VERSION (ALL_VERSIONS: with the versions its level
 * names)? {"is_compatible": bool}, plus "messages" when VERBOSE. */
json_t *registry_check(struct registry *r, const char *subject, int version, int all_versions,
                       const char *schema, int verbose, struct registry_error *err);

#endif
