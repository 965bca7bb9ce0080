/* Caches of flatten plans (by writer schema id) and output schema ids (by subject and plan). */
#include "schemas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

struct output_entry {
    char *subject;
    const struct flatten_plan *plan;
    int32_t id;
    struct output_entry *next;
};

struct schemas {
    struct schemas_registry registry;
    const struct columns_rules *rules;
    struct plan_entry *plans;
    struct output_entry *outputs;
    unsigned long registered;
};

struct schemas *schemas_new(const struct schemas_registry *registry,
                            const struct columns_rules *rules)
{
    struct schemas *s = xcalloc(1, sizeof *s);
    s->registry = *registry;
    s->rules = rules;
    return s;
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

enum schemas_status schemas_output_id(struct schemas *s, const char *subject,
                                      const struct flatten_plan *plan, int32_t *id, char *errstr,
                                      size_t errstr_size)
{
    for (struct output_entry *e = s->outputs; e; e = e->next) {
        if (e->plan == plan && strcmp(e->subject, subject) == 0) {
            *id = e->id;
            return SCHEMAS_OK;
        }
    }
    const char *text = flatten_plan_schema(plan)->text;
    enum registry_lookup_status st =
        s->registry.register_schema(s->registry.arg, subject, text, id, errstr, errstr_size);
    if (st == REGISTRY_LOOKUP_UNAVAILABLE)
        return SCHEMAS_UNAVAILABLE;
    if (st != REGISTRY_LOOKUP_OK)
        return SCHEMAS_POISON;
    struct output_entry *e = xcalloc(1, sizeof *e);
    *e = (struct output_entry){xstrdup(subject), plan, *id, s->outputs};
    s->outputs = e;
    s->registered++;
    return SCHEMAS_OK;
}
