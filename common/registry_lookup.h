/* Writer schemas fetched by id from a Confluent-compatible schema registry
 * (GET /schemas/ids/{id}), cached for the life of the lookup: a registry never changes the schema
 * behind an id. Works with Confluent's registry and with salescdc-registry. */
#ifndef SALESCDC_REGISTRY_LOOKUP_H
#define SALESCDC_REGISTRY_LOOKUP_H

#include <stddef.h>
#include <stdint.h>

/* Outcome of registry_lookup_schema(). */
enum registry_lookup_status {
    REGISTRY_LOOKUP_OK = 0,
    REGISTRY_LOOKUP_NOT_FOUND,   /* 404 (error_code 40403): no schema has this id */
    REGISTRY_LOOKUP_REJECTED,    /* another 4xx, a non-Avro schema, or an answer we cannot use */
    REGISTRY_LOOKUP_UNAVAILABLE, /* not reached, timed out, 5xx, 408 or 429: worth retrying */
};

struct registry_lookup_options {
    const char *url;      /* base URL, e.g. http://127.0.0.1:8081 (a trailing / is ignored) */
    const char *user;     /* HTTP basic auth user, or NULL/"" for none */
    const char *password; /* secret: never logged */
    long timeout_ms;      /* whole request; 0: 30 s */
};

struct registry_lookup;

/* Creates a lookup for OPT (strings copied). Caller frees with registry_lookup_destroy(). */
struct registry_lookup *registry_lookup_new(const struct registry_lookup_options *opt);
void registry_lookup_destroy(struct registry_lookup *rl);

/* Returns the schema text registered under ID in *SCHEMA (borrowed; valid until
 * registry_lookup_destroy()), from the cache or the registry. On any other status errstr names
 * the id, the registry URL and the cause (HTTP status, the registry's error_code and message,
 * or libcurl's transport error). */
enum registry_lookup_status registry_lookup_schema(struct registry_lookup *rl, int32_t id,
                                                   const char **schema, char *errstr,
                                                   size_t errstr_size);

/* Number of schemas fetched from the registry so far (cache misses that succeeded). */
unsigned long registry_lookup_fetches(const struct registry_lookup *rl);

/* Classifies an HTTP status of a registry answer: OK for 2xx, NOT_FOUND for 404, UNAVAILABLE
 * for 0 (no answer), 408, 429 and 5xx, REJECTED otherwise. */
enum registry_lookup_status registry_lookup_classify(long http_status);

/* Writes "HTTP <status>, error_code <code>: <message>" from a registry error answer BODY (the
 * JSON {"error_code": ..., "message": ...}; other bodies are quoted, shortened) into OUT. */
void registry_lookup_describe_error(long http_status, const char *body, char *out, size_t out_size);

#endif
