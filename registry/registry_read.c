/* The registry's read-only operations: schemas by id, subjects, versions, lookup, config. */
#include <stdlib.h>
#include <string.h>

#include "avsc.h"
#include "avsc_canonical.h"
#include "registry.h"
#include "registry_internal.h"

static json_t *subject_not_found(struct registry_error *err, const char *subject)
{
    return registry_fail(err, 404, 40401, "Subject '%s' not found.", subject);
}

/* {"subject","version","id","schema"}, as Confluent's Schema entity (AVRO: no schemaType). */
static json_t *version_json(const struct store *st, const char *subject,
                            const struct store_version *v)
{
    const struct store_schema *s = store_schema_by_id(st, v->id);
    return json_pack("{s:s, s:i, s:i, s:s}", "subject", subject, "version", v->version, "id", v->id,
                     "schema", s ? s->text : "");
}

json_t *registry_schema_by_id(struct registry *r, int id, struct registry_error *err)
{
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_schema *s = store_schema_by_id(r->store, id);
    json_t *out = s ? json_pack("{s:s}", "schema", s->text) : NULL;
    pthread_rwlock_unlock(&r->state_lock);
    return out ? out : registry_fail(err, 404, 40403, "Schema %d not found", id);
}

/* Subjects (and versions) that use schema ID; with AS_PAIRS [{"subject","version"}...]. */
static json_t *id_usage(struct registry *r, int id, int deleted, int as_pairs,
                        struct registry_error *err)
{
    pthread_rwlock_rdlock(&r->state_lock);
    json_t *out = NULL;
    if (store_schema_by_id(r->store, id)) {
        out = json_array();
        for (size_t i = 0; i < store_subject_count(r->store); i++) {
            const struct store_subject *sub = store_subject_at(r->store, i);
            int listed = 0;
            for (size_t v = 0; v < sub->n_versions; v++) {
                const struct store_version *ver = &sub->versions[v];
                if (ver->id != id || (ver->deleted && !deleted) || (listed && !as_pairs))
                    continue;
                listed = 1;
                json_array_append_new(out, as_pairs ? json_pack("{s:s, s:i}", "subject", sub->name,
                                                                "version", ver->version)
                                                    : json_string(sub->name));
            }
        }
    }
    pthread_rwlock_unlock(&r->state_lock);
    return out ? out : registry_fail(err, 404, 40403, "Schema %d not found", id);
}

json_t *registry_id_subjects(struct registry *r, int id, int deleted, struct registry_error *err)
{
    return id_usage(r, id, deleted, 0, err);
}

json_t *registry_id_versions(struct registry *r, int id, int deleted, struct registry_error *err)
{
    return id_usage(r, id, deleted, 1, err);
}

json_t *registry_subjects(struct registry *r, const char *prefix, int deleted)
{
    json_t *out = json_array();
    if (prefix && strcmp(prefix, ":*:") == 0) /* Confluent's "every context" wildcard */
        prefix = NULL;
    pthread_rwlock_rdlock(&r->state_lock);
    for (size_t i = 0; i < store_subject_count(r->store); i++) {
        const struct store_subject *sub = store_subject_at(r->store, i);
        if (store_subject_exists(sub, deleted) &&
            (!prefix || strncmp(sub->name, prefix, strlen(prefix)) == 0))
            json_array_append_new(out, json_string(sub->name));
    }
    pthread_rwlock_unlock(&r->state_lock);
    return out;
}

json_t *registry_versions(struct registry *r, const char *subject, int deleted,
                          struct registry_error *err)
{
    json_t *out = NULL;
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_subject *sub = store_subject(r->store, subject);
    if (store_subject_exists(sub, deleted)) {
        out = json_array();
        for (size_t v = 0; v < sub->n_versions; v++)
            if (deleted || !sub->versions[v].deleted)
                json_array_append_new(out, json_integer(sub->versions[v].version));
    }
    pthread_rwlock_unlock(&r->state_lock);
    return out ? out : subject_not_found(err, subject);
}

json_t *registry_version(struct registry *r, const char *subject, int version, int deleted,
                         struct registry_error *err)
{
    json_t *out = NULL;
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_subject *sub = store_subject(r->store, subject);
    const struct store_version *v = store_version_find(sub, version, deleted);
    int exists = store_subject_exists(sub, deleted);
    if (v)
        out = version_json(r->store, subject, v);
    pthread_rwlock_unlock(&r->state_lock);
    if (out)
        return out;
    if (!exists)
        return subject_not_found(err, subject);
    return registry_fail(err, 404, 40402, "Version %d not found.", version);
}

/* The latest version of SUB whose schema has IDENTITY. */
static const struct store_version *find_identity(const struct store *st,
                                                 const struct store_subject *sub,
                                                 const char *identity, int deleted)
{
    const struct store_schema *s = store_schema_by_identity(st, identity);
    for (size_t i = sub && s ? sub->n_versions : 0; i-- > 0;)
        if (sub->versions[i].id == s->id && (deleted || !sub->versions[i].deleted))
            return &sub->versions[i];
    return NULL;
}

json_t *registry_lookup(struct registry *r, const char *subject, const char *schema, int deleted,
                        struct registry_error *err)
{
    struct avsc *a = registry_parse_schema(schema, err);
    if (!a)
        return NULL;
    char *identity = avsc_canonical(a, AVSC_CANONICAL_IDENTITY);
    avsc_destroy(a);
    json_t *out = NULL;
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_subject *sub = store_subject(r->store, subject);
    int exists = store_subject_exists(sub, deleted);
    const struct store_version *v = find_identity(r->store, sub, identity, deleted);
    if (v)
        out = version_json(r->store, subject, v);
    pthread_rwlock_unlock(&r->state_lock);
    free(identity);
    if (out)
        return out;
    if (!exists)
        return subject_not_found(err, subject);
    return registry_fail(err, 404, 40403, "Schema not found");
}

json_t *registry_get_config(struct registry *r, const char *subject, int default_to_global,
                            struct registry_error *err)
{
    pthread_rwlock_rdlock(&r->state_lock);
    const struct store_subject *sub = subject ? store_subject(r->store, subject) : NULL;
    int set = !subject || (sub && sub->has_level) || default_to_global;
    enum avsc_compat_level level =
        subject ? store_level(r->store, subject) : store_global_level(r->store);
    pthread_rwlock_unlock(&r->state_lock);
    if (!set)
        return registry_fail(err, 404, 40408,
                             "Subject '%s' does not have subject-level compatibility configured",
                             subject);
    return json_pack("{s:s}", "compatibilityLevel", avsc_compat_level_name(level));
}
