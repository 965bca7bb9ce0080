/* Parsing an Avro schema's JSON into the sink's type graph, logical types included. */
#include "avro_type.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Parser state: the schema under construction and its named types by full name. */
struct parse {
    struct sink_avro_schema *s;
    json_t *named; /* full name -> json_integer(index into s->nodes) */
    char *errstr;
    size_t errstr_size;
};

static struct sink_avro_type *new_node(struct parse *p, enum sink_avro_kind kind)
{
    struct sink_avro_schema *s = p->s;
    if (s->n_nodes == s->cap_nodes) {
        s->cap_nodes = s->cap_nodes ? 2 * s->cap_nodes : 16;
        s->nodes = xrealloc(s->nodes, s->cap_nodes * sizeof *s->nodes);
    }
    struct sink_avro_type *t = xcalloc(1, sizeof *t);
    t->kind = kind;
    s->nodes[s->n_nodes++] = t;
    return t;
}

static const struct {
    const char *name;
    enum sink_avro_kind kind;
} primitives[] = {
    {"null", SINK_AVRO_NULL},   {"boolean", SINK_AVRO_BOOLEAN}, {"int", SINK_AVRO_INT},
    {"long", SINK_AVRO_LONG},   {"float", SINK_AVRO_FLOAT},     {"double", SINK_AVRO_DOUBLE},
    {"bytes", SINK_AVRO_BYTES}, {"string", SINK_AVRO_STRING},
};

static int primitive_kind(const char *name, enum sink_avro_kind *kind)
{
    for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
        if (strcmp(primitives[i].name, name) == 0) {
            *kind = primitives[i].kind;
            return 0;
        }
    return -1;
}

/* Full name of NAME declared in namespace NS (explicit, else enclosing). Caller frees. */
static char *full_name(const char *name, const char *ns)
{
    if (strchr(name, '.') || !ns || !*ns)
        return xstrdup(name);
    return xasprintf("%s.%s", ns, name);
}

/* Namespace part of FULL (caller frees), "" when it has none. */
static char *namespace_of(const char *full)
{
    const char *dot = strrchr(full, '.');
    if (!dot)
        return xstrdup("");
    char *ns = xstrdup(full);
    ns[dot - full] = '\0';
    return ns;
}

static struct sink_avro_type *parse_type(struct parse *p, json_t *j, const char *ns);

static struct sink_avro_type *lookup_named(struct parse *p, const char *name, const char *ns)
{
    char *full = full_name(name, ns);
    json_t *idx = json_object_get(p->named, full);
    if (!idx)
        idx = json_object_get(p->named, name);
    free(full);
    if (!idx) {
        snprintf(p->errstr, p->errstr_size, "unknown type name '%s'", name);
        return NULL;
    }
    return p->s->nodes[json_integer_value(idx)];
}

static struct sink_avro_type *parse_name(struct parse *p, const char *name, const char *ns)
{
    enum sink_avro_kind kind;
    if (primitive_kind(name, &kind) == 0)
        return new_node(p, kind);
    return lookup_named(p, name, ns);
}

/* Registers T under the name in J; returns its namespace for nested definitions (caller frees),
 * or NULL on error. */
static char *declare_named(struct parse *p, json_t *j, const char *ns, struct sink_avro_type *t)
{
    const char *name = json_string_value(json_object_get(j, "name"));
    const char *own_ns = json_string_value(json_object_get(j, "namespace"));
    if (!name || !*name) {
        snprintf(p->errstr, p->errstr_size, "a named type has no name");
        return NULL;
    }
    t->full_name = full_name(name, own_ns ? own_ns : ns);
    json_object_set_new(p->named, t->full_name, json_integer((json_int_t)(p->s->n_nodes - 1)));
    return namespace_of(t->full_name);
}

static int parse_fields(struct parse *p, json_t *j, const char *ns, struct sink_avro_type *t)
{
    json_t *fields = json_object_get(j, "fields");
    if (!json_is_array(fields)) {
        snprintf(p->errstr, p->errstr_size, "record %s has no fields array", t->full_name);
        return -1;
    }
    t->n = json_array_size(fields);
    t->children = xcalloc(t->n ? t->n : 1, sizeof *t->children);
    t->names = xcalloc(t->n ? t->n : 1, sizeof *t->names);
    for (size_t i = 0; i < t->n; i++) {
        json_t *f = json_array_get(fields, i);
        const char *fname = json_string_value(json_object_get(f, "name"));
        if (!fname) {
            snprintf(p->errstr, p->errstr_size, "field %zu of record %s has no name", i,
                     t->full_name);
            return -1;
        }
        t->names[i] = xstrdup(fname);
        t->children[i] = parse_type(p, json_object_get(f, "type"), ns);
        if (!t->children[i]) {
            size_t n = strlen(p->errstr);
            snprintf(p->errstr + n, p->errstr_size - n, " (field %s of %s)", fname, t->full_name);
            return -1;
        }
    }
    return 0;
}

static int parse_symbols(struct parse *p, json_t *j, struct sink_avro_type *t)
{
    json_t *symbols = json_object_get(j, "symbols");
    if (!json_is_array(symbols)) {
        snprintf(p->errstr, p->errstr_size, "enum %s has no symbols array", t->full_name);
        return -1;
    }
    t->n = json_array_size(symbols);
    t->names = xcalloc(t->n ? t->n : 1, sizeof *t->names);
    for (size_t i = 0; i < t->n; i++) {
        const char *sym = json_string_value(json_array_get(symbols, i));
        t->names[i] = xstrdup(sym ? sym : "");
    }
    return 0;
}

static struct sink_avro_type *parse_named(struct parse *p, json_t *j, const char *ns,
                                          enum sink_avro_kind kind)
{
    struct sink_avro_type *t = new_node(p, kind);
    char *inner_ns = declare_named(p, j, ns, t);
    int rc = inner_ns ? 0 : -1;
    if (rc == 0 && kind == SINK_AVRO_RECORD)
        rc = parse_fields(p, j, inner_ns, t);
    else if (rc == 0 && kind == SINK_AVRO_ENUM)
        rc = parse_symbols(p, j, t);
    else if (rc == 0 && kind == SINK_AVRO_FIXED) {
        json_t *size = json_object_get(j, "size");
        if (!json_is_integer(size) || json_integer_value(size) < 0) {
            snprintf(p->errstr, p->errstr_size, "fixed %s has no size", t->full_name);
            rc = -1;
        }
        t->size = (size_t)json_integer_value(size);
    }
    free(inner_ns);
    return rc == 0 ? t : NULL;
}

static struct sink_avro_type *parse_container(struct parse *p, json_t *j, const char *ns,
                                              enum sink_avro_kind kind)
{
    const char *attr = kind == SINK_AVRO_ARRAY ? "items" : "values";
    json_t *inner = json_object_get(j, attr);
    if (!inner) {
        snprintf(p->errstr, p->errstr_size, "%s without %s",
                 kind == SINK_AVRO_ARRAY ? "array" : "map", attr);
        return NULL;
    }
    struct sink_avro_type *t = new_node(p, kind);
    t->n = 1;
    t->children = xcalloc(1, sizeof *t->children);
    t->children[0] = parse_type(p, inner, ns);
    return t->children[0] ? t : NULL;
}

static struct sink_avro_type *parse_union(struct parse *p, json_t *j, const char *ns)
{
    struct sink_avro_type *t = new_node(p, SINK_AVRO_UNION);
    t->n = json_array_size(j);
    t->children = xcalloc(t->n ? t->n : 1, sizeof *t->children);
    for (size_t i = 0; i < t->n; i++) {
        t->children[i] = parse_type(p, json_array_get(j, i), ns);
        if (!t->children[i])
            return NULL;
    }
    return t;
}

static int json_int_attr(json_t *j, const char *name, int *out)
{
    json_t *v = json_object_get(j, name);
    if (!json_is_integer(v))
        return -1;
    *out = (int)json_integer_value(v);
    return 0;
}

/* Applies J's logicalType to T when it fits T's base type (the specification's rule). */
static void apply_logical(json_t *j, struct sink_avro_type *t)
{
    static const struct {
        const char *name;
        enum sink_avro_kind base;
        enum sink_avro_logical logical;
    } map[] = {
        {"date", SINK_AVRO_INT, SINK_LOGICAL_DATE},
        {"time-millis", SINK_AVRO_INT, SINK_LOGICAL_TIME_MILLIS},
        {"time-micros", SINK_AVRO_LONG, SINK_LOGICAL_TIME_MICROS},
        {"timestamp-millis", SINK_AVRO_LONG, SINK_LOGICAL_TIMESTAMP_MILLIS},
        {"timestamp-micros", SINK_AVRO_LONG, SINK_LOGICAL_TIMESTAMP_MICROS},
        {"local-timestamp-millis", SINK_AVRO_LONG, SINK_LOGICAL_LOCAL_TS_MILLIS},
        {"local-timestamp-micros", SINK_AVRO_LONG, SINK_LOGICAL_LOCAL_TS_MICROS},
        {"uuid", SINK_AVRO_STRING, SINK_LOGICAL_UUID},
    };
    const char *lt = json_string_value(json_object_get(j, "logicalType"));
    if (!lt)
        return;
    if (strcmp(lt, "decimal") == 0) {
        int precision = 0, scale = 0;
        if ((t->kind != SINK_AVRO_BYTES && t->kind != SINK_AVRO_FIXED) ||
            json_int_attr(j, "precision", &precision) < 0 || precision <= 0)
            return;
        if (json_object_get(j, "scale") && json_int_attr(j, "scale", &scale) < 0)
            return;
        if (scale < 0 || scale > precision)
            return;
        t->logical = SINK_LOGICAL_DECIMAL;
        t->precision = precision;
        t->scale = scale;
        return;
    }
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].name, lt) == 0 && map[i].base == t->kind)
            t->logical = map[i].logical;
}

static struct sink_avro_type *parse_object(struct parse *p, json_t *j, const char *ns)
{
    json_t *type = json_object_get(j, "type");
    const char *name = json_string_value(type);
    struct sink_avro_type *t;
    if (!name)
        return parse_type(p, type, ns); /* {"type": {...}} or {"type": [...]} */
    if (strcmp(name, "record") == 0 || strcmp(name, "error") == 0)
        t = parse_named(p, j, ns, SINK_AVRO_RECORD);
    else if (strcmp(name, "enum") == 0)
        t = parse_named(p, j, ns, SINK_AVRO_ENUM);
    else if (strcmp(name, "fixed") == 0)
        t = parse_named(p, j, ns, SINK_AVRO_FIXED);
    else if (strcmp(name, "array") == 0)
        t = parse_container(p, j, ns, SINK_AVRO_ARRAY);
    else if (strcmp(name, "map") == 0)
        t = parse_container(p, j, ns, SINK_AVRO_MAP);
    else
        t = parse_name(p, name, ns);
    if (t && t->kind != SINK_AVRO_RECORD && t->kind != SINK_AVRO_ENUM &&
        (t->kind != SINK_AVRO_FIXED || json_object_get(j, "size")))
        apply_logical(j, t);
    return t;
}

static struct sink_avro_type *parse_type(struct parse *p, json_t *j, const char *ns)
{
    if (json_is_string(j))
        return parse_name(p, json_string_value(j), ns);
    if (json_is_array(j))
        return parse_union(p, j, ns);
    if (json_is_object(j))
        return parse_object(p, j, ns);
    snprintf(p->errstr, p->errstr_size, "a type is neither a name, an object nor a union");
    return NULL;
}

struct sink_avro_schema *sink_avro_schema_parse(const char *text, char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *root = json_loads(text, JSON_DECODE_ANY, &jerr);
    if (!root) {
        snprintf(errstr, errstr_size, "schema is not JSON: %s (line %d)", jerr.text, jerr.line);
        return NULL;
    }
    struct sink_avro_schema *s = xcalloc(1, sizeof *s);
    struct parse p = {s, json_object(), errstr, errstr_size};
    s->root = parse_type(&p, root, "");
    json_decref(p.named);
    json_decref(root);
    if (!s->root) {
        sink_avro_schema_destroy(s);
        return NULL;
    }
    return s;
}

void sink_avro_schema_destroy(struct sink_avro_schema *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n_nodes; i++) {
        struct sink_avro_type *t = s->nodes[i];
        if (t->names)
            for (size_t k = 0; k < t->n; k++)
                free(t->names[k]);
        free(t->names);
        free(t->children);
        free(t->full_name);
        free(t);
    }
    free(s->nodes);
    free(s);
}

int sink_avro_field_index(const struct sink_avro_type *t, const char *name)
{
    if (t->kind != SINK_AVRO_RECORD)
        return -1;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->names[i], name) == 0)
            return (int)i;
    return -1;
}

const struct sink_avro_type *sink_avro_unwrap_nullable(const struct sink_avro_type *t,
                                                       int *nullable)
{
    if (nullable)
        *nullable = 0;
    if (t->kind != SINK_AVRO_UNION || t->n != 2)
        return t;
    int null_at = t->children[0]->kind == SINK_AVRO_NULL   ? 0
                  : t->children[1]->kind == SINK_AVRO_NULL ? 1
                                                           : -1;
    if (null_at < 0)
        return t;
    if (nullable)
        *nullable = 1;
    return t->children[1 - null_at];
}
