/* Derivation of the flat schema from a CDC envelope's writer schema (JSON, with jansson). */
#include "flat_schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avsc_names.h"
#include "xalloc.h"

static const char *const meta_names[FLAT_META_COUNT] = {
    "__op", "__lsn", "__txid", "__source_ts_ms", "__table", "__deleted",
};

const char *flat_schema_meta_name(enum flat_schema_meta m)
{
    return meta_names[m];
}

struct derive {
    struct avsc_names *names;
    json_t *emitted; /* object used as a set: full names already defined in the flat schema */
    char *errstr;
    size_t errstr_size;
};

static int field_index(json_t *record, const char *name)
{
    size_t i;
    json_t *f;
    json_array_foreach(json_object_get(record, "fields"), i, f)
    {
        const char *n = json_string_value(json_object_get(f, "name"));
        if (n && strcmp(n, name) == 0)
            return (int)i;
    }
    return -1;
}

static json_t *field_type(json_t *record, int index)
{
    return json_object_get(json_array_get(json_object_get(record, "fields"), (size_t)index),
                           "type");
}

/* The definition behind TYPE: a named reference resolved in NS, {"type": X} unwrapped. */
static json_t *resolve(const struct derive *d, json_t *type, const char *ns)
{
    for (int depth = 0; depth < 8; depth++) {
        json_t *t = json_object_get(type, "type");
        const char *name = json_string_value(json_is_object(type) ? t : type);
        if (json_is_object(type) && !json_is_string(t))
            type = t; /* {"type": [...]} or {"type": {...}} */
        else if (name && !avsc_names_is_primitive(name) && !avsc_names_is_complex(name))
            return avsc_names_lookup(d->names, name, ns);
        else
            return type;
    }
    return NULL;
}

/* Name of the primitive under TYPE ("long", "string", ...), looking through one union with
 * "null"; NULL for anything else. */
static const char *scalar_of(const struct derive *d, json_t *type, const char *ns)
{
    if (json_is_array(type)) {
        json_t *other = NULL, *b;
        size_t i;
        json_array_foreach(type, i, b)
        {
            if (!(json_is_string(b) && strcmp(json_string_value(b), "null") == 0))
                other = other ? NULL : b;
        }
        if (!other || json_array_size(type) > 2)
            return NULL;
        type = other;
    }
    type = resolve(d, type, ns);
    if (json_is_object(type))
        type = json_object_get(type, "type");
    return json_is_string(type) && avsc_names_is_primitive(json_string_value(type))
               ? json_string_value(type)
               : NULL;
}

static int is_record(json_t *def)
{
    const char *t = json_string_value(json_object_get(def, "type"));
    return t && (strcmp(t, "record") == 0 || strcmp(t, "error") == 0);
}

/* The record inside the union ["null", record] TYPE of envelope field NAME; *FULL gets its
 * full name (caller frees). */
static json_t *nullable_record(struct derive *d, json_t *type, const char *ns, const char *name,
                               char **full)
{
    json_t *rec = NULL, *b;
    size_t i;
    json_array_foreach(type, i, b)
    {
        if (json_is_string(b) && strcmp(json_string_value(b), "null") == 0)
            continue;
        json_t *def = resolve(d, b, ns);
        if (rec || !is_record(def)) {
            rec = NULL;
            break;
        }
        rec = def;
    }
    const char *known = rec ? avsc_names_name_of(d->names, rec) : NULL;
    if (!json_is_array(type) || json_array_size(type) != 2 || !known) {
        snprintf(d->errstr, d->errstr_size,
                 "envelope field %s is not a union of null and a row record", name);
        return NULL;
    }
    *full = xstrdup(known);
    return rec;
}

static json_t *rewrite(struct derive *d, json_t *type, const char *ns);

/* Copies the named type DEF (full name FULL) with its full name as "name", so that it means the
 * same wherever the flat schema puts it. */
static json_t *rewrite_named(struct derive *d, json_t *def, const char *full)
{
    json_object_set_new(d->emitted, full, json_true());
    json_t *copy = json_deep_copy(def);
    json_object_set_new(copy, "name", json_string(full));
    json_object_del(copy, "namespace");
    if (is_record(def)) {
        char *inner = avsc_names_namespace_of(full);
        size_t i;
        json_t *f;
        json_array_foreach(json_object_get(def, "fields"), i, f)
        {
            json_t *t = rewrite(d, json_object_get(f, "type"), inner);
            json_object_set_new(json_array_get(json_object_get(copy, "fields"), i), "type",
                                t ? t : json_null());
        }
        free(inner);
    }
    return copy;
}

static json_t *rewrite_reference(struct derive *d, const char *name, const char *ns)
{
    if (avsc_names_is_primitive(name))
        return json_string(name);
    json_t *def = avsc_names_lookup(d->names, name, ns);
    const char *known = def ? avsc_names_name_of(d->names, def) : NULL;
    if (!known) /* unknown name: kept, and avro-c will say so */
        return json_string(name);
    if (json_object_get(d->emitted, known))
        return json_string(known);
    return rewrite_named(d, def, known);
}

/* Copies TYPE (used inside namespace NS) so that it stands alone in the flat schema: named types
 * are written with full names and defined at their first use. */
static json_t *rewrite(struct derive *d, json_t *type, const char *ns)
{
    if (json_is_string(type))
        return rewrite_reference(d, json_string_value(type), ns);
    if (json_is_array(type)) {
        json_t *out = json_array(), *b;
        size_t i;
        json_array_foreach(type, i, b) json_array_append_new(out, rewrite(d, b, ns));
        return out;
    }
    json_t *t = json_object_get(type, "type");
    if (!json_is_object(type) || !t)
        return json_deep_copy(type);
    if (!json_is_string(t))
        return rewrite(d, t, ns);
    const char *kind = json_string_value(t);
    if (strcmp(kind, "record") == 0 || strcmp(kind, "error") == 0 || strcmp(kind, "enum") == 0 ||
        strcmp(kind, "fixed") == 0) {
        const char *full = avsc_names_name_of(d->names, type);
        if (!full)
            return json_deep_copy(type);
        return json_object_get(d->emitted, full) ? json_string(full) : rewrite_named(d, type, full);
    }
    json_t *copy = json_deep_copy(type);
    if (strcmp(kind, "array") == 0)
        json_object_set_new(copy, "items", rewrite(d, json_object_get(type, "items"), ns));
    else if (strcmp(kind, "map") == 0)
        json_object_set_new(copy, "values", rewrite(d, json_object_get(type, "values"), ns));
    else if (!avsc_names_is_primitive(kind)) {
        json_decref(copy);
        return rewrite_reference(d, kind, ns);
    }
    return copy;
}

/* Finds the envelope's fields and checks their types. */
static int find_envelope(struct derive *d, json_t *root, const char *ns,
                         struct flat_schema_envelope *env)
{
    static const char *const required[] = {"after", "op", "source"};
    env->before = field_index(root, "before");
    env->after = field_index(root, "after");
    env->op = field_index(root, "op");
    env->source = field_index(root, "source");
    for (size_t i = 0; i < 3; i++) {
        if (field_index(root, required[i]) < 0) {
            snprintf(d->errstr, d->errstr_size,
                     "writer schema has no field '%s': not a CDC envelope", required[i]);
            return -1;
        }
    }
    const char *op = scalar_of(d, field_type(root, env->op), ns);
    if (!op || strcmp(op, "string") != 0 || json_is_array(field_type(root, env->op))) {
        snprintf(d->errstr, d->errstr_size, "envelope field op is not a string");
        return -1;
    }
    json_t *src = resolve(d, field_type(root, env->source), ns);
    if (!is_record(src)) {
        snprintf(d->errstr, d->errstr_size, "envelope field source is not a record");
        return -1;
    }
    char *src_ns = avsc_names_namespace_of(avsc_names_name_of(d->names, src));
    env->src_ts_ms = field_index(src, "ts_ms");
    env->src_table = field_index(src, "table");
    env->src_txid = field_index(src, "txId");
    env->src_lsn = field_index(src, "lsn");
    const char *ts =
        env->src_ts_ms < 0 ? NULL : scalar_of(d, field_type(src, env->src_ts_ms), src_ns);
    const char *table =
        env->src_table < 0 ? NULL : scalar_of(d, field_type(src, env->src_table), src_ns);
    const char *txid =
        env->src_txid < 0 ? "long" : scalar_of(d, field_type(src, env->src_txid), src_ns);
    const char *lsn =
        env->src_lsn < 0 ? "long" : scalar_of(d, field_type(src, env->src_lsn), src_ns);
    free(src_ns);
    int longs_ok = ts && txid && lsn && strstr("int long", ts) && strstr("int long", txid) &&
                   strstr("int long", lsn);
    if (!longs_ok || !table || strcmp(table, "string") != 0) {
        snprintf(d->errstr, d->errstr_size,
                 "envelope's source record lacks ts_ms (long) or table (string), or has a "
                 "txId/lsn that is not a long");
        return -1;
    }
    return 0;
}

/* Appends the kept columns of ROW (full name ROW_FULL) to FIELDS. */
static int add_columns(struct derive *d, json_t *row, const char *row_full,
                       const struct columns_rules *rules, json_t *fields, struct flat_schema *fs)
{
    char *row_ns = avsc_names_namespace_of(row_full);
    json_t *seen = json_object(), *f;
    size_t i;
    int rc = 0;
    fs->column_src = xcalloc(json_array_size(json_object_get(row, "fields")) + 1, sizeof(int));
    for (i = 0; i < FLAT_META_COUNT; i++)
        json_object_set_new(seen, meta_names[i], json_true());
    json_array_foreach(json_object_get(row, "fields"), i, f)
    {
        const char *name = json_string_value(json_object_get(f, "name"));
        const char *out = name ? columns_rules_apply(rules, name) : NULL;
        if (!out)
            continue;
        if (json_object_get(seen, out)) {
            snprintf(d->errstr, d->errstr_size,
                     "column %s of %s would be named %s, which another column or a metadata "
                     "field already has",
                     name, row_full, out);
            rc = -1;
            break;
        }
        json_object_set_new(seen, out, json_true());
        json_t *copy = json_deep_copy(f);
        json_object_set_new(copy, "name", json_string(out));
        json_object_set_new(copy, "type", rewrite(d, json_object_get(f, "type"), row_ns));
        if (strcmp(out, name) != 0)
            json_object_del(copy, "aliases");
        json_array_append_new(fields, copy);
        fs->column_src[fs->n_columns++] = (int)i;
    }
    json_decref(seen);
    free(row_ns);
    return rc;
}

static void add_metadata(json_t *fields)
{
    static const char *const types[FLAT_META_COUNT] = {"string", NULL,     NULL,
                                                       "long",   "string", "boolean"};
    for (int m = 0; m < FLAT_META_COUNT; m++) {
        json_t *f = json_pack("{s:s}", "name", meta_names[m]);
        if (types[m]) {
            json_object_set_new(f, "type", json_string(types[m]));
        } else {
            json_object_set_new(f, "type", json_pack("[s, s]", "null", "long"));
            json_object_set_new(f, "default", json_null());
        }
        json_array_append_new(fields, f);
    }
}

/* Finds the row record behind after (and checks before names the same one). */
static json_t *find_row(struct derive *d, json_t *root, const char *ns,
                        const struct flat_schema_envelope *env, char **row_full)
{
    json_t *row = nullable_record(d, field_type(root, env->after), ns, "after", row_full);
    if (!row || env->before < 0)
        return row;
    char *before_full = NULL;
    json_t *before = nullable_record(d, field_type(root, env->before), ns, "before", &before_full);
    int same = before && strcmp(before_full, *row_full) == 0;
    if (before && !same)
        snprintf(d->errstr, d->errstr_size, "envelope fields before (%s) and after (%s) differ",
                 before_full, *row_full);
    free(before_full);
    if (!same) {
        free(*row_full);
        *row_full = NULL;
        return NULL;
    }
    return row;
}

static int derive(struct derive *d, json_t *root, const struct columns_rules *rules,
                  struct flat_schema *fs)
{
    if (!is_record(root)) {
        snprintf(d->errstr, d->errstr_size, "writer schema is not a record: not a CDC envelope");
        return -1;
    }
    d->names = avsc_names_new(root, d->errstr, d->errstr_size);
    if (!d->names)
        return -1;
    char *ns = avsc_names_namespace_of(avsc_names_name_of(d->names, root));
    int rc = find_envelope(d, root, ns, &fs->env);
    json_t *row = rc == 0 ? find_row(d, root, ns, &fs->env, &fs->row_name) : NULL;
    free(ns);
    if (!row)
        return -1;
    json_t *fields = json_array();
    json_object_set_new(d->emitted, fs->row_name, json_true());
    rc = add_columns(d, row, fs->row_name, rules, fields, fs);
    add_metadata(fields);
    fs->root =
        json_pack("{s:s, s:s, s:o}", "type", "record", "name", fs->row_name, "fields", fields);
    return rc;
}

struct flat_schema *flat_schema_derive(const char *envelope_json, const struct columns_rules *rules,
                                       char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *root = json_loads(envelope_json, JSON_DECODE_ANY, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "writer schema is not JSON: %s (line %d)", jerr.text,
                 jerr.line);
        return NULL;
    }
    struct flat_schema *fs = xcalloc(1, sizeof *fs);
    struct derive d = {.emitted = json_object(), .errstr = errstr, .errstr_size = errstr_size};
    int rc = derive(&d, root, rules, fs);
    if (rc == 0) {
        char *text = json_dumps(fs->root, JSON_COMPACT);
        fs->text = xstrdup(text);
        free(text);
        fs->names = avsc_names_new(fs->root, errstr, errstr_size);
        rc = fs->names ? 0 : -1;
    }
    avsc_names_destroy(d.names);
    json_decref(d.emitted);
    json_decref(root);
    if (rc < 0) {
        flat_schema_destroy(fs);
        return NULL;
    }
    return fs;
}

void flat_schema_destroy(struct flat_schema *fs)
{
    if (!fs)
        return;
    free(fs->text);
    json_decref(fs->root);
    avsc_names_destroy(fs->names);
    free(fs->row_name);
    free(fs->column_src);
    free(fs);
}
