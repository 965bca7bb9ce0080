/* The registry's in-memory state, built by applying log records. */
#include "store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avsc.h"
#include "avsc_canonical.h"
#include "xalloc.h"

struct store {
    struct store_schema *schemas; /* ascending by id */
    size_t n_schemas, cap_schemas;
    struct store_subject *subjects; /* in order of first appearance */
    size_t n_subjects, cap_subjects;
    int max_id;
    enum avsc_compat_level default_level;
    int has_global;
    enum avsc_compat_level global_level;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

struct store *store_new(enum avsc_compat_level default_level)
{
    struct store *st = xcalloc(1, sizeof *st);
    st->default_level = default_level;
    return st;
}

void store_destroy(struct store *st)
{
    if (!st)
        return;
    for (size_t i = 0; i < st->n_schemas; i++) {
        free(st->schemas[i].text);
        free(st->schemas[i].identity);
        avsc_destroy(st->schemas[i].avsc);
    }
    for (size_t i = 0; i < st->n_subjects; i++) {
        free(st->subjects[i].name);
        free(st->subjects[i].versions);
    }
    free(st->schemas);
    free(st->subjects);
    free(st);
}

/* Index of the first schema with id >= ID. */
static size_t schema_index(const struct store *st, int id)
{
    size_t lo = 0, hi = st->n_schemas;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (st->schemas[mid].id < id)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const struct store_schema *store_schema_by_id(const struct store *st, int id)
{
    size_t i = schema_index(st, id);
    return i < st->n_schemas && st->schemas[i].id == id ? &st->schemas[i] : NULL;
}

const struct store_schema *store_schema_by_identity(const struct store *st, const char *identity)
{
    uint64_t h = fnv1a(identity);
    for (size_t i = 0; i < st->n_schemas; i++)
        if (st->schemas[i].hash == h && strcmp(st->schemas[i].identity, identity) == 0)
            return &st->schemas[i];
    return NULL;
}

void store_note_id(struct store *st, int id)
{
    if (id > st->max_id)
        st->max_id = id;
}

/* Adds schema ID with TEXT unless known. Returns 0, or -1 if TEXT does not parse. */
static int add_schema(struct store *st, int id, const char *text, char *errstr, size_t errstr_size)
{
    store_note_id(st, id);
    if (store_schema_by_id(st, id))
        return 0;
    struct avsc *a;
    if (avsc_parse(text, strlen(text), &a, errstr, errstr_size) < 0)
        return -1;
    if (st->n_schemas == st->cap_schemas) {
        st->cap_schemas = st->cap_schemas ? 2 * st->cap_schemas : 16;
        st->schemas = xrealloc(st->schemas, st->cap_schemas * sizeof *st->schemas);
    }
    size_t i = schema_index(st, id);
    memmove(&st->schemas[i + 1], &st->schemas[i], (st->n_schemas - i) * sizeof *st->schemas);
    st->n_schemas++;
    struct store_schema *s = &st->schemas[i];
    s->id = id;
    s->text = xstrdup(text);
    s->identity = avsc_canonical(a, AVSC_CANONICAL_IDENTITY);
    s->hash = fnv1a(s->identity);
    s->avsc = a;
    return 0;
}

static struct store_subject *find_subject(const struct store *st, const char *name)
{
    for (size_t i = 0; i < st->n_subjects; i++)
        if (strcmp(st->subjects[i].name, name) == 0)
            return &st->subjects[i];
    return NULL;
}

static struct store_subject *get_subject(struct store *st, const char *name)
{
    struct store_subject *sub = find_subject(st, name);
    if (sub)
        return sub;
    if (st->n_subjects == st->cap_subjects) {
        st->cap_subjects = st->cap_subjects ? 2 * st->cap_subjects : 16;
        st->subjects = xrealloc(st->subjects, st->cap_subjects * sizeof *st->subjects);
    }
    sub = &st->subjects[st->n_subjects++];
    memset(sub, 0, sizeof *sub);
    sub->name = xstrdup(name);
    return sub;
}

static void set_version(struct store_subject *sub, int version, int id, int deleted)
{
    size_t i = 0;
    while (i < sub->n_versions && sub->versions[i].version < version)
        i++;
    if (i == sub->n_versions || sub->versions[i].version != version) {
        if (sub->n_versions == sub->cap_versions) {
            sub->cap_versions = sub->cap_versions ? 2 * sub->cap_versions : 4;
            sub->versions = xrealloc(sub->versions, sub->cap_versions * sizeof *sub->versions);
        }
        memmove(&sub->versions[i + 1], &sub->versions[i],
                (sub->n_versions - i) * sizeof *sub->versions);
        sub->n_versions++;
    }
    sub->versions[i] = (struct store_version){version, id, deleted};
}

int store_put_version(struct store *st, const char *subject, int version, int id, const char *text,
                      int deleted, char *errstr, size_t errstr_size)
{
    if (add_schema(st, id, text, errstr, errstr_size) < 0)
        return -1;
    set_version(get_subject(st, subject), version, id, deleted);
    return 0;
}

void store_remove_version(struct store *st, const char *subject, int version)
{
    struct store_subject *sub = find_subject(st, subject);
    for (size_t i = 0; sub && i < sub->n_versions; i++) {
        if (sub->versions[i].version == version) {
            memmove(&sub->versions[i], &sub->versions[i + 1],
                    (sub->n_versions - i - 1) * sizeof *sub->versions);
            sub->n_versions--;
            return;
        }
    }
}

void store_delete_subject(struct store *st, const char *subject, int up_to)
{
    struct store_subject *sub = find_subject(st, subject);
    for (size_t i = 0; sub && i < sub->n_versions; i++)
        if (sub->versions[i].version <= up_to)
            sub->versions[i].deleted = 1;
}

void store_set_level(struct store *st, const char *subject, int has_level,
                     enum avsc_compat_level level)
{
    if (!subject) {
        st->has_global = has_level;
        st->global_level = level;
        return;
    }
    struct store_subject *sub = has_level ? get_subject(st, subject) : find_subject(st, subject);
    if (sub) {
        sub->has_level = has_level;
        sub->level = level;
    }
}

const struct store_subject *store_subject(const struct store *st, const char *name)
{
    return find_subject(st, name);
}

size_t store_subject_count(const struct store *st)
{
    return st->n_subjects;
}

const struct store_subject *store_subject_at(const struct store *st, size_t i)
{
    return &st->subjects[i];
}

size_t store_live_subject_count(const struct store *st)
{
    size_t n = 0;
    for (size_t i = 0; i < st->n_subjects; i++)
        n += store_subject_exists(&st->subjects[i], 0) ? 1 : 0;
    return n;
}

size_t store_schema_count(const struct store *st)
{
    return st->n_schemas;
}

const struct store_schema *store_schema_at(const struct store *st, size_t i)
{
    return &st->schemas[i];
}

int store_max_id(const struct store *st)
{
    return st->max_id;
}

enum avsc_compat_level store_global_level(const struct store *st)
{
    return st->has_global ? st->global_level : st->default_level;
}

enum avsc_compat_level store_level(const struct store *st, const char *subject)
{
    const struct store_subject *sub = find_subject(st, subject);
    return sub && sub->has_level ? sub->level : store_global_level(st);
}

int store_subject_exists(const struct store_subject *sub, int include_deleted)
{
    for (size_t i = 0; sub && i < sub->n_versions; i++)
        if (include_deleted || !sub->versions[i].deleted)
            return 1;
    return 0;
}

const struct store_version *store_version_find(const struct store_subject *sub, int version,
                                               int include_deleted)
{
    for (size_t i = sub ? sub->n_versions : 0; i-- > 0;) {
        const struct store_version *v = &sub->versions[i];
        if ((version < 0 || v->version == version) && (include_deleted || !v->deleted))
            return v;
        if (v->version == version)
            return NULL;
    }
    return NULL;
}

int store_next_version(const struct store_subject *sub)
{
    return sub && sub->n_versions ? sub->versions[sub->n_versions - 1].version + 1 : 1;
}
