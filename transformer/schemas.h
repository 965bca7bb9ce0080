/* Flatten plans by writer schema id and flat-schema ids by output subject: what the transformer
 * asks the schema registry, each question once. The registry is reached through callbacks so
 * that tests can stand in for it. */
#ifndef SALESCDC_TRANSFORMER_SCHEMAS_H
#define SALESCDC_TRANSFORMER_SCHEMAS_H

#include <stddef.h>
#include <stdint.h>

#include "columns.h"
#include "flatten.h"
#include "registry_lookup.h"

/* The registry as the transformer uses it. Both calls return a registry_lookup_status; errstr
 * names the id or subject and the cause. */
struct schemas_registry {
    /* Writer schema text of ID (*TEXT borrowed until the registry object is destroyed). */
    enum registry_lookup_status (*fetch)(void *arg, int32_t id, const char **text, char *errstr,
                                         size_t errstr_size);
    /* Registers TEXT under SUBJECT (or finds it) and sets *ID. */
    enum registry_lookup_status (*register_schema)(void *arg, const char *subject, const char *text,
                                                   int32_t *id, char *errstr, size_t errstr_size);
    void *arg;
};

/* What became of a question. */
enum schemas_status {
    SCHEMAS_OK,
    SCHEMAS_POISON,      /* permanent for this record: send it to the dead-letter queue */
    SCHEMAS_UNAVAILABLE, /* the registry cannot answer now: retry later */
};

struct schemas;

/* Creates the cache over REGISTRY (copied; its ARG borrowed) and column RULES (borrowed, may be
 * NULL). Caller frees with schemas_destroy(). */
struct schemas *schemas_new(const struct schemas_registry *registry,
                            const struct columns_rules *rules);
void schemas_destroy(struct schemas *s);

/* The flatten plan for writer schema ID (borrowed; lives as long as S), fetching the schema and
 * deriving the plan on first use. SCHEMAS_POISON when the id is unknown or its schema is not a
 * CDC envelope (remembered, so the registry is asked once); errstr says which. *ERROR_CLASS
 * gets "unknown_schema" or "unsupported_schema" then. */
enum schemas_status schemas_plan(struct schemas *s, int32_t id, struct flatten_plan **plan,
                                 const char **error_class, char *errstr, size_t errstr_size);

/* The id of PLAN's flat schema registered under SUBJECT, registering it on first use. POISON
 * when the registry refuses it (e.g. 409 incompatible); the refusal is remembered (and logged
 * once) so that later records get POISON with the same errstr without a request, until a
 * back-off has passed (SCHEMAS_REFUSAL_BACKOFF_MIN_MS, doubling with each refusal in a row up
 * to SCHEMAS_REFUSAL_BACKOFF_MAX_MS); then the registration is tried again. */
enum schemas_status schemas_output_id(struct schemas *s, const char *subject,
                                      const struct flatten_plan *plan, int32_t *id, char *errstr,
                                      size_t errstr_size);

#define SCHEMAS_REFUSAL_BACKOFF_MIN_MS 1000L
#define SCHEMAS_REFUSAL_BACKOFF_MAX_MS 60000L

/* Sets the back-off after a refused registration (tests use 0 for "retry at once"). */
void schemas_set_refusal_backoff(struct schemas *s, long min_ms, long max_ms);

/* Number of distinct flat schemas registered (or found) so far. */
unsigned long schemas_registered(const struct schemas *s);

#endif
