/* Caches of flatten plans (by writer schema id) and output schema ids (by subject and plan). */
#include "schemas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "xalloc.h"

/* One writer schema id: its plan, or why it cannot have one. */
struct plan_entry {
    int32_t id;
    struct flatten_plan *plan; /* NULL: POISON, see error */
    char *error;
    const char *error_class;
    struct plan_entry *next;
};

/* A flat schema under a subject: its id, or the registry's refusal (e.g. 409 incompatible),
 * remembered until RETRY_AT so that the records meanwhile go to the dead-letter queue without a
 * request each. */
struct output_entry {
    char *subject;
    const struct flatten_plan *plan;
    int32_t id;
    char *refusal; /* NULL: registered */
    double retry_at;
    int refusals; /* in a row: the back-off doubles with each */
    struct output_entry *next;
};

struct schemas {
    struct schemas_registry registry;
    const struct columns_rules *rules;
    struct plan_entry *plans;
    struct output_entry *outputs;
    unsigned long registered;
    long refusal_backoff_min_ms, refusal_backoff_max_ms;
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct schemas *schemas_new(const struct schemas_registry *registry,
                            const struct columns_rules *rules)
{
    struct schemas *s = xcalloc(1, sizeof *s);
    s->registry = *registry;
    s->rules = rules;
    s->refusal_backoff_min_ms = SCHEMAS_REFUSAL_BACKOFF_MIN_MS;
    s->refusal_backoff_max_ms = SCHEMAS_REFUSAL_BACKOFF_MAX_MS;
    return s;
}

void schemas_set_refusal_backoff(struct schemas *s, long min_ms, long max_ms)
{
    s->refusal_backoff_min_ms = min_ms;
    s->refusal_backoff_max_ms = max_ms;
}

void schemas_destroy(struct schemas *s)
{
    if (!s)
        return;
    for (struct plan_entry *e = s->plans, *next; e; e = next) {
        next = e->next;
        flatten_plan_destroy(e->plan);
        free(e->error);
        free(e);
    }
    for (struct output_entry *e = s->outputs, *next; e; e = next) {
        next = e->next;
        free(e->subject);
        free(e->refusal);
        free(e);
    }
    free(s);
}

unsigned long schemas_registered(const struct schemas *s)
{
    return s->registered;
}

static struct plan_entry *add_plan(struct schemas *s, int32_t id)
{
    struct plan_entry *e = xcalloc(1, sizeof *e);
    e->id = id;
    e->next = s->plans;
    s->plans = e;
    return e;
}

/* Fetches writer schema ID and derives its plan into a new entry. */
static enum schemas_status load_plan(struct schemas *s, int32_t id, char *errstr,
                                     size_t errstr_size)
{
    const char *text = NULL;
    char err[1024];
    enum registry_lookup_status st =
        s->registry.fetch(s->registry.arg, id, &text, errstr, errstr_size);
    if (st == REGISTRY_LOOKUP_UNAVAILABLE)
        return SCHEMAS_UNAVAILABLE;
    struct plan_entry *e = add_plan(s, id);
    if (st != REGISTRY_LOOKUP_OK) {
        e->error = xstrdup(errstr);
        e->error_class = st == REGISTRY_LOOKUP_NOT_FOUND ? "unknown_schema" : "unsupported_schema";
        return SCHEMAS_POISON;
    }
    e->plan = flatten_plan_new(text, s->rules, err, sizeof err);
    if (!e->plan) {
        e->error = xasprintf("writer schema id %ld: %s", (long)id, err);
        e->error_class = "unsupported_schema";
        snprintf(errstr, errstr_size, "%s", e->error);
        return SCHEMAS_POISON;
    }
    log_info("writer schema loaded id=%ld row=%s columns=%zu", (long)id,
             flatten_plan_schema(e->plan)->row_name, flatten_plan_schema(e->plan)->n_columns);
    return SCHEMAS_OK;
}

enum schemas_status schemas_plan(struct schemas *s, int32_t id, struct flatten_plan **plan,
                                 const char **error_class, char *errstr, size_t errstr_size)
{
    struct plan_entry *e;
    for (e = s->plans; e && e->id != id; e = e->next)
        ;
    if (!e) {
        enum schemas_status st = load_plan(s, id, errstr, errstr_size);
        if (st == SCHEMAS_UNAVAILABLE)
            return st;
        e = s->plans;
    }
    if (!e->plan) {
        snprintf(errstr, errstr_size, "%s", e->error);
        *error_class = e->error_class;
        return SCHEMAS_POISON;
    }
    *plan = e->plan;
    return SCHEMAS_OK;
}

/* Remembers the refusal ERR of PLAN's schema under SUBJECT in E (new when NULL). */
static void refused(struct schemas *s, struct output_entry *e, const char *subject,
                    const struct flatten_plan *plan, const char *err)
{
    if (!e) {
        e = xcalloc(1, sizeof *e);
        *e = (struct output_entry){.subject = xstrdup(subject), .plan = plan, .next = s->outputs};
        s->outputs = e;
    }
    free(e->refusal);
    e->refusal = xstrdup(err);
    long wait = s->refusal_backoff_min_ms;
    for (int i = 1; i < e->refusals && wait < s->refusal_backoff_max_ms; i++)
        wait *= 2;
    if (wait > s->refusal_backoff_max_ms)
        wait = s->refusal_backoff_max_ms;
    e->refusals++;
    e->retry_at = now_s() + (double)wait / 1000.0;
    log_warn("flat schema refused subject=%s row=%s refusals=%d error=\"%s\"; its records go to "
             "the dead-letter queue, registering again in %ld ms",
             subject, flatten_plan_schema(plan)->row_name, e->refusals, err, wait);
}

enum schemas_status schemas_output_id(struct schemas *s, const char *subject,
                                      const struct flatten_plan *plan, int32_t *id, char *errstr,
                                      size_t errstr_size)
{
    struct output_entry *e;
    for (e = s->outputs; e && !(e->plan == plan && strcmp(e->subject, subject) == 0); e = e->next)
        ;
    if (e && !e->refusal) {
        *id = e->id;
        return SCHEMAS_OK;
    }
    if (e && now_s() < e->retry_at) { /* refused recently: no request */
        snprintf(errstr, errstr_size, "%s", e->refusal);
        return SCHEMAS_POISON;
    }
    const char *text = flatten_plan_schema(plan)->text;
    enum registry_lookup_status st =
        s->registry.register_schema(s->registry.arg, subject, text, id, errstr, errstr_size);
    if (st == REGISTRY_LOOKUP_UNAVAILABLE)
        return SCHEMAS_UNAVAILABLE;
    if (st != REGISTRY_LOOKUP_OK) {
        refused(s, e, subject, plan, errstr);
        return SCHEMAS_POISON;
    }
    if (e) {
        log_info("flat schema accepted subject=%s id=%ld after %d refusals", subject, (long)*id,
                 e->refusals);
        free(e->refusal);
        e->refusal = NULL;
        e->refusals = 0;
    } else {
        e = xcalloc(1, sizeof *e);
        *e = (struct output_entry){.subject = xstrdup(subject), .plan = plan, .next = s->outputs};
        s->outputs = e;
    }
    e->id = *id;
    s->registered++;
    return SCHEMAS_OK;
}
