/* The registry's changing operations (register, delete, config) and compatibility checks. */
#include <stdlib.h>
#include <string.h>

#include "avsc.h"
#include "avsc_canonical.h"
#include "log.h"
#include "registry.h"
#include "registry_internal.h"
#include "store_record.h"
#include "xalloc.h"

/* Checks CAND against SUB's live versions under LEVEL (ONLY >= 0: against that version alone).
 * Returns 1 if compatible; 0 with *DETAIL (caller frees) and *FAILED (the version) if not. */
static int check_versions(const struct store *st, const struct store_subject *sub,
                          enum avsc_compat_level level, const struct avsc *cand, int only,
                          char **detail, int *failed)
{
    size_t n = 0;
    const struct avsc **list = xcalloc(sub ? sub->n_versions + 1 : 1, sizeof *list);
    int *numbers = xcalloc(sub ? sub->n_versions + 1 : 1, sizeof *numbers);
    for (size_t i = 0; sub && i < sub->n_versions; i++) {
        const struct store_version *v = &sub->versions[i];
        const struct store_schema *s = store_schema_by_id(st, v->id);
        if (v->deleted || !s || (only >= 0 && v->version != only))
            continue;
        numbers[n] = v->version;
        list[n++] = s->avsc;
    }
    size_t bad = 0;
    int ok = avsc_compat_check(level, cand, list, n, detail, &bad);
    if (!ok)
        *failed = numbers[bad];
    free(list);
    free(numbers);
    return ok;
}

/* The decision a registration needs, taken under the read lock. */
struct plan {
    int existing_id; /* > 0: the subject already has this schema live: answer with it */
    int id, version;
    char *text; /* what the new record stores: the id's first text */
};

static int plan_register(struct registry *r, const char *subject, const struct avsc *cand,
                         const char *identity, const char *text, struct plan *p,
                         struct registry_error *err)
{
    const struct store *st = r->store;
    const struct store_subject *sub = store_subject(st, subject);
    const struct store_schema *same = store_schema_by_identity(st, identity);
    for (size_t i = 0; same && sub && i < sub->n_versions; i++)
        if (sub->versions[i].id == same->id && !sub->versions[i].deleted)
            p->existing_id = same->id;
    if (p->existing_id)
        return 0;
    enum avsc_compat_level level = store_level(st, subject);
    char *detail = NULL;
    int failed = 0;
    if (!check_versions(st, sub, level, cand, -1, &detail, &failed)) {
        registry_incompatible(err, subject, detail, failed, level);
        free(detail);
        return -1;
    }
    int next = store_max_id(st) + 1;
    p->id = same ? same->id : (next > r->id_floor ? next : r->id_floor);
    p->version = store_next_version(sub);
    p->text = xstrdup(same ? same->text : text);
    return 0;
}

json_t *registry_register(struct registry *r, const char *subject, const char *schema,
                          struct registry_error *err)
{
    struct avsc *cand = registry_parse_schema(schema, err);
    if (!cand)
        return NULL;
    char *identity = avsc_canonical(cand, AVSC_CANONICAL_IDENTITY);
    struct plan p = {0, 0, 0, NULL};
    json_t *out = NULL;
    pthread_mutex_lock(&r->write_lock);
    pthread_rwlock_rdlock(&r->state_lock);
    int rc = plan_register(r, subject, cand, identity, schema, &p, err);
    pthread_rwlock_unlock(&r->state_lock);
    if (rc == 0 && p.existing_id) {
        out = json_pack("{s:i}", "id", p.existing_id);
    } else if (rc == 0) {
        char *key = store_record_schema_key(subject, p.version);
        char *value = store_record_schema_value(subject, p.version, p.id, p.text, 0);
        if (p.id >= r->id_floor)
            r->id_floor = p.id + 1; /* issued now, whatever becomes of the append */
        if (registry_persist(r, key, value, "Register schema", err) == 0) {
            out = json_pack("{s:i}", "id", p.id);
            log_info("registered schema id %d as version %d of %s", p.id, p.version, subject);
        }
        free(key);
        free(value);
    }
    pthread_mutex_unlock(&r->write_lock);
    free(p.text);
    free(identity);
    avsc_destroy(cand);
    return out;
}

json_t *registry_delete_subject(struct registry *r, const char *subject, int permanent,
                                struct registry_error *err)
{
    json_t *out = NULL;
    pthread_mutex_lock(&r->write_lock);
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_subject *sub = store_subject(r->store, subject);
    int any = store_subject_exists(sub, 1), live = store_subject_exists(sub, 0);
    int has_level = sub && sub->has_level;
    json_t *versions = json_array();
    int up_to = 0;
    for (size_t i = 0; live && i < sub->n_versions; i++) {
        if (!sub->versions[i].deleted) {
            json_array_append_new(versions, json_integer(sub->versions[i].version));
            up_to = sub->versions[i].version;
        }
    }
    pthread_rwlock_unlock(&r->state_lock);
    if (!any)
        registry_fail(err, 404, 40401, "Subject '%s' not found.", subject);
    else if (permanent)
        registry_fail(err, 422, 42205,
                      "Permanent deletion is not supported by salescdc-registry: schema ids "
                      "must never be reused");
    else if (!live)
        registry_fail(err, 404, 40404,
                      "Subject '%s' was soft deleted.Set permanent=true to delete permanently",
                      subject);
    else {
        char *key = store_record_delete_subject_key(subject);
        char *value = store_record_delete_subject_value(subject, up_to);
        char *ckey = has_level ? store_record_config_key(subject) : NULL;
        if (registry_persist(r, key, value, "Delete subject", err) == 0 &&
            (!ckey || registry_persist(r, ckey, NULL, "Delete subject", err) == 0))
            out = json_incref(versions);
        free(key);
        free(value);
        free(ckey);
    }
    pthread_mutex_unlock(&r->write_lock);
    json_decref(versions);
    return out;
}

json_t *registry_delete_version(struct registry *r, const char *subject, int version, int permanent,
                                struct registry_error *err)
{
    json_t *out = NULL;
    pthread_mutex_lock(&r->write_lock);
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_subject *sub = store_subject(r->store, subject);
    int any = store_subject_exists(sub, 1);
    const struct store_version *v = store_version_find(sub, version, version >= 0);
    struct store_version found = v ? *v : (struct store_version){0, 0, 0};
    const struct store_schema *s = v ? store_schema_by_id(r->store, v->id) : NULL;
    char *text = s ? xstrdup(s->text) : NULL;
    pthread_rwlock_unlock(&r->state_lock);
    if (!any)
        registry_fail(err, 404, 40401, "Subject '%s' not found.", subject);
    else if (!v || !text)
        registry_fail(err, 404, 40402, "Version %d not found.", version);
    else if (permanent)
        registry_fail(err, 422, 42205,
                      "Permanent deletion is not supported by salescdc-registry: schema ids "
                      "must never be reused");
    else if (found.deleted)
        registry_fail(err, 404, 40406,
                      "Subject '%s' Version %d was soft deleted.Set permanent=true to delete "
                      "permanently",
                      subject, found.version);
    else {
        char *key = store_record_schema_key(subject, found.version);
        char *value = store_record_schema_value(subject, found.version, found.id, text, 1);
        if (registry_persist(r, key, value, "Delete Schema Version", err) == 0)
            out = json_integer(found.version);
        free(key);
        free(value);
    }
    pthread_mutex_unlock(&r->write_lock);
    free(text);
    return out;
}

json_t *registry_set_config(struct registry *r, const char *subject, const char *level,
                            struct registry_error *err)
{
    enum avsc_compat_level l;
    if (avsc_compat_level_parse(level, &l) < 0)
        return registry_fail(err, 422, 42203,
                             "Invalid compatibility level. Valid values are none, backward, "
                             "forward, full, backward_transitive, forward_transitive, and "
                             "full_transitive");
    char *key = store_record_config_key(subject);
    char *value = store_record_config_value(l);
    pthread_mutex_lock(&r->write_lock);
    int rc = registry_persist(r, key, value, "Update compatibility level", err);
    pthread_mutex_unlock(&r->write_lock);
    free(key);
    free(value);
    if (rc == 0)
        log_info("compatibility of %s set to %s", subject ? subject : "(global)",
                 avsc_compat_level_name(l));
    return rc == 0 ? json_pack("{s:s}", "compatibility", avsc_compat_level_name(l)) : NULL;
}

json_t *registry_delete_config(struct registry *r, const char *subject, struct registry_error *err)
{
    json_t *out = NULL;
    pthread_mutex_lock(&r->write_lock);
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_subject *sub = store_subject(r->store, subject);
    int has = sub && sub->has_level;
    enum avsc_compat_level old = has ? sub->level : AVSC_COMPAT_NONE;
    pthread_rwlock_unlock(&r->state_lock);
    if (!has) {
        registry_fail(err, 404, 40401, "Subject '%s' not found.", subject);
    } else {
        char *key = store_record_config_key(subject);
        if (registry_persist(r, key, NULL, "Delete compatibility level", err) == 0)
            out = json_pack("{s:s}", "compatibilityLevel", avsc_compat_level_name(old));
        free(key);
    }
    pthread_mutex_unlock(&r->write_lock);
    return out;
}

json_t *registry_check(struct registry *r, const char *subject, int version, int all_versions,
                       const char *schema, int verbose, struct registry_error *err)
{
    struct avsc *cand = registry_parse_schema(schema, err);
    if (!cand)
        return NULL;
    char *detail = NULL;
    int failed = 0, ok = 1, missing = 0;
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_subject *sub = store_subject(r->store, subject);
    enum avsc_compat_level level = store_level(r->store, subject);
    const struct store_version *v = all_versions ? NULL : store_version_find(sub, version, 0);
    if (!all_versions && !v)
        missing = version >= 0; /* "latest" of nothing is compatible, as Confluent answers */
    else
        ok = check_versions(r->store, sub, level, cand, v ? v->version : -1, &detail, &failed);
    pthread_rwlock_unlock(&r->state_lock);
    avsc_destroy(cand);
    json_t *out = NULL;
    if (missing) {
        registry_fail(err, 404, 40402, "Version %d not found.", version);
    } else {
        out = json_pack("{s:b}", "is_compatible", ok);
        if (verbose && !ok)
            json_object_set_new(out, "messages", json_pack("[s]", detail ? detail : ""));
        else if (verbose)
            json_object_set_new(out, "messages", json_array());
    }
    free(detail);
    return out;
}
