/* Client of a Confluent-compatible schema registry (Confluent's or salescdc-registry): registers
 * schemas under subjects and caches the ids, so each (subject, schema text) costs one request. */
#ifndef SALESCDC_REGISTRY_CLIENT_H
#define SALESCDC_REGISTRY_CLIENT_H

#include <stddef.h>
#include <stdint.h>

struct registry_client_options {
    const char *url;      /* e.g. "http://127.0.0.1:58081" (borrowed) */
    const char *user;     /* HTTP basic auth user, or NULL/"" for none (borrowed) */
    const char *password; /* secret: never logged (borrowed) */
    long timeout_ms;      /* per request; 0: 10 s */
    int retries;          /* extra attempts when the registry cannot be reached */
};

struct registry_client;

/* Creates a client; OPT's strings must outlive it. Caller frees with registry_client_destroy(). */
struct registry_client *registry_client_new(const struct registry_client_options *opt);
void registry_client_destroy(struct registry_client *rc);

/* Registers SCHEMA (Avro schema JSON text, kept verbatim) under SUBJECT, or finds the id it
 * already has; sets *ID. Cached: the same (subject, schema) asks the registry once. Returns 0,
 * or -1 with errstr naming the subject and the registry's error_code and message (409: the
 * schema is incompatible with the subject's earlier versions) or the transport error. */
int registry_client_register(struct registry_client *rc, const char *subject, const char *schema,
                             int32_t *id, char *errstr, size_t errstr_size);

/* HTTP status of the last request sent (0 when the registry could not be reached): lets a
 * caller tell a lasting refusal (4xx, e.g. 409 incompatible) from an outage worth retrying. */
long registry_client_last_status(const struct registry_client *rc);

#endif
