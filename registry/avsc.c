/* Avro schema parsing and validation into an expanded tree with full names. */
#include "avsc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avsc_default.h"
#include "xalloc.h"

/* Deeper nesting than this is refused (it is never needed, and bounds recursion). */
#define AVSC_MAX_DEPTH 64

struct avsc {
    json_t *root;
    json_t *named; /* full name -> definition inside root (borrowed references) */
};

static const char *const primitives[] = {"null",  "boolean", "int",   "long",
                                         "float", "double",  "bytes", "string"};

/* Parser state: the names defined so far and the first error. */
struct parse_ctx {
    json_t *named;
    char *errstr;
    size_t errstr_size;
};

/* Complex type keywords: not usable as type names, so {"type": "map"} is never a reference. */
static int avsc_is_keyword(const char *name)
{
    static const char *const keywords[] = {"record", "error", "enum", "fixed", "array", "map"};
    for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++)
        if (strcmp(name, keywords[i]) == 0)
            return 1;
    return 0;
}

int avsc_is_primitive(const char *name)
{
    for (size_t i = 0; i < sizeof primitives / sizeof primitives[0]; i++)
        if (strcmp(name, primitives[i]) == 0)
            return 1;
    return 0;
}

static int fail(struct parse_ctx *ctx, const char *fmt, const char *arg)
{
    char msg[512];
    snprintf(msg, sizeof msg, fmt, arg ? arg : "");
    snprintf(ctx->errstr, ctx->errstr_size, "%s", msg);
    return -1;
}

/* Avro names: [A-Za-z_][A-Za-z0-9_]* */
static int valid_simple_name(const char *s, size_t n)
{
    if (n == 0 || !((s[0] >= 'A' && s[0] <= 'Z') || (s[0] >= 'a' && s[0] <= 'z') || s[0] == '_'))
        return 0;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
              c == '_'))
            return 0;
    }
    return 1;
}

/* A dotted full name (or namespace, when EMPTY_OK allows ""): components are simple names. */
static int valid_dotted(const char *s, int empty_ok)
{
    if (!*s)
        return empty_ok;
    const char *start = s;
    for (const char *p = s;; p++) {
        if (*p == '.' || *p == '\0') {
            if (!valid_simple_name(start, (size_t)(p - start)))
                return 0;
            if (*p == '\0')
                return 1;
            start = p + 1;
        }
    }
}

/* Full name from NAME and a namespace (the explicit one, else the enclosing one). */
static char *full_name(const char *name, const char *ns)
{
    if (strchr(name, '.') || !ns || !*ns)
        return xstrdup(name);
    return xasprintf("%s.%s", ns, name);
}

/* The namespace part of FULL (caller frees); "" when it has none. */
static char *namespace_of(const char *full)
{
    const char *dot = strrchr(full, '.');
    return dot ? xasprintf("%.*s", (int)(dot - full), full) : xstrdup("");
}

static json_t *expand(struct parse_ctx *ctx, json_t *in, const char *ns, int depth);

/* Resolves a reference to an already defined named type, as the Java parser does: in the
 * enclosing namespace first, then in the null namespace. Returns a new string node. */
static json_t *expand_reference(struct parse_ctx *ctx, const char *name, const char *ns)
{
    char *full = full_name(name, ns);
    json_t *out = NULL;
    if (json_object_get(ctx->named, full))
        out = json_string(full);
    else if (json_object_get(ctx->named, name))
        out = json_string(name);
    else
        fail(ctx, "undefined type name '%s' (a named type must be defined before use)", name);
    free(full);
    return out;
}

/* Copies every attribute of IN except those in SKIP (NULL-terminated) into OUT. */
static void copy_attrs(json_t *out, json_t *in, const char *const *skip)
{
    const char *key;
    json_t *value;
    json_object_foreach(in, key, value)
    {
        int skipped = 0;
        for (size_t i = 0; skip[i]; i++)
            skipped |= strcmp(key, skip[i]) == 0;
        if (!skipped)
            json_object_set(out, key, value);
    }
}

/* Defines the named type of object IN; sets *FULL (caller frees). Returns 0 or -1. */
static int define_name(struct parse_ctx *ctx, json_t *in, const char *ns, json_t *out, char **full)
{
    json_t *name = json_object_get(in, "name");
    json_t *space = json_object_get(in, "namespace");
    if (!json_is_string(name) || !valid_dotted(json_string_value(name), 0))
        return fail(ctx, "a %s needs a valid \"name\"",
                    json_string_value(json_object_get(in, "type")));
    if (space && !json_is_null(space) &&
        (!json_is_string(space) || !valid_dotted(json_string_value(space), 1)))
        return fail(ctx, "invalid namespace of '%s'", json_string_value(name));
    const char *explicit_ns = json_is_string(space) ? json_string_value(space) : NULL;
    *full = full_name(json_string_value(name), explicit_ns ? explicit_ns : ns);
    if (avsc_is_primitive(*full) || avsc_is_keyword(*full) || json_object_get(ctx->named, *full)) {
        fail(ctx, "the type name '%s' is defined twice or is a reserved type name", *full);
        free(*full);
        *full = NULL;
        return -1;
    }
    json_object_set_new(out, "name", json_string(*full));
    json_object_set(ctx->named, *full, out);
    return 0;
}

static int check_symbols(struct parse_ctx *ctx, json_t *in, const char *full)
{
    json_t *symbols = json_object_get(in, "symbols");
    if (!json_is_array(symbols))
        return fail(ctx, "enum '%s' needs a \"symbols\" array", full);
    for (size_t i = 0; i < json_array_size(symbols); i++) {
        json_t *s = json_array_get(symbols, i);
        const char *v = json_string_value(s);
        if (!v || !valid_simple_name(v, strlen(v)))
            return fail(ctx, "enum '%s' has an invalid symbol", full);
        for (size_t j = 0; j < i; j++)
            if (strcmp(v, json_string_value(json_array_get(symbols, j))) == 0)
                return fail(ctx, "enum symbol '%s' appears twice", v);
    }
    json_t *def = json_object_get(in, "default");
    if (def) {
        int found = 0;
        for (size_t i = 0; json_is_string(def) && i < json_array_size(symbols); i++)
            found |=
                strcmp(json_string_value(def), json_string_value(json_array_get(symbols, i))) == 0;
        if (!found)
            return fail(ctx, "the default of enum '%s' is not one of its symbols", full);
    }
    return 0;
}

/* One record field: name, expanded type, validated default, other attributes kept. */
static json_t *expand_field(struct parse_ctx *ctx, json_t *f, const char *ns, int depth,
                            json_t *seen)
{
    json_t *name = json_object_get(f, "name");
    const char *n = json_string_value(name);
    if (!json_is_object(f) || !n || !valid_simple_name(n, strlen(n))) {
        fail(ctx, "a record field needs a valid \"name\"%s", "");
        return NULL;
    }
    if (json_object_get(seen, n)) {
        fail(ctx, "field '%s' appears twice in one record", n);
        return NULL;
    }
    json_object_set_new(seen, n, json_true());
    json_t *type = json_object_get(f, "type");
    if (!type) {
        fail(ctx, "field '%s' has no \"type\"", n);
        return NULL;
    }
    json_t *out = json_object();
    json_object_set(out, "name", name);
    json_t *t = expand(ctx, type, ns, depth + 1);
    if (!t) {
        json_decref(out);
        return NULL;
    }
    json_object_set_new(out, "type", t);
    static const char *const skip[] = {"name", "type", NULL};
    copy_attrs(out, f, skip);
    return out;
}

/* Validates field defaults once the whole record (and any recursive use of it) is defined. */
static int check_defaults(struct parse_ctx *ctx, json_t *fields)
{
    struct avsc view = {NULL, ctx->named};
    for (size_t i = 0; i < json_array_size(fields); i++) {
        json_t *f = json_array_get(fields, i);
        json_t *def = json_object_get(f, "default");
        if (def && !avsc_default_valid(&view, json_object_get(f, "type"), def, 0))
            return fail(ctx, "the default of field '%s' does not match its type",
                        json_string_value(json_object_get(f, "name")));
    }
    return 0;
}

static int expand_fields(struct parse_ctx *ctx, json_t *in, json_t *out, const char *full,
                         int depth)
{
    json_t *fields = json_object_get(in, "fields");
    if (!json_is_array(fields))
        return fail(ctx, "record '%s' needs a \"fields\" array", full);
    char *ns = namespace_of(full);
    json_t *list = json_array(), *seen = json_object();
    json_object_set_new(out, "fields", list);
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < json_array_size(fields); i++) {
        json_t *f = expand_field(ctx, json_array_get(fields, i), ns, depth, seen);
        rc = f ? json_array_append_new(list, f) : -1;
    }
    json_decref(seen);
    free(ns);
    return rc == 0 ? check_defaults(ctx, list) : -1;
}

/* record, error, enum, fixed: defined under their full name. */
static json_t *expand_named(struct parse_ctx *ctx, json_t *in, const char *type, const char *ns,
                            int depth)
{
    json_t *out = json_object();
    char *full = NULL;
    json_object_set_new(out, "type", json_string(type));
    int rc = define_name(ctx, in, ns, out, &full);
    if (rc == 0 && (strcmp(type, "record") == 0 || strcmp(type, "error") == 0))
        rc = expand_fields(ctx, in, out, full, depth);
    else if (rc == 0 && strcmp(type, "enum") == 0)
        rc = check_symbols(ctx, in, full);
    else if (rc == 0) {
        json_t *size = json_object_get(in, "size");
        if (!json_is_integer(size) || json_integer_value(size) < 0 ||
            json_integer_value(size) > 0x7fffffff)
            rc = fail(ctx, "fixed '%s' needs a non-negative integer \"size\"", full);
    }
    static const char *const skip[] = {"type", "name", "namespace", "fields", NULL};
    if (rc == 0)
        copy_attrs(out, in, skip);
    free(full);
    if (rc != 0) {
        json_decref(out);
        return NULL;
    }
    return out;
}

/* array and map: their items/values expanded. */
static json_t *expand_container(struct parse_ctx *ctx, json_t *in, const char *type, const char *ns,
                                int depth)
{
    const char *attr = strcmp(type, "array") == 0 ? "items" : "values";
    json_t *child = json_object_get(in, attr);
    if (!child) {
        fail(ctx,
             strcmp(type, "array") == 0 ? "an array needs \"items\"%s" : "a map needs \"values\"%s",
             "");
        return NULL;
    }
    json_t *t = expand(ctx, child, ns, depth + 1);
    if (!t)
        return NULL;
    json_t *out = json_object();
    json_object_set_new(out, "type", json_string(type));
    json_object_set_new(out, attr, t);
    static const char *const skip[] = {"type", "items", "values", NULL};
    copy_attrs(out, in, skip);
    return out;
}

static json_t *expand_object(struct parse_ctx *ctx, json_t *in, const char *ns, int depth)
{
    json_t *type = json_object_get(in, "type");
    if (json_is_object(type) || json_is_array(type))
        return expand(ctx, type, ns, depth + 1); /* {"type": {...}} is that schema */
    const char *t = json_string_value(type);
    if (!t)
        return fail(ctx, "a schema object needs a \"type\"%s", ""), NULL;
    if (avsc_is_primitive(t)) {
        json_t *out = json_deep_copy(in); /* keeps logicalType and its attributes */
        json_object_set_new(out, "type", json_string(t));
        return out;
    }
    if (!strcmp(t, "record") || !strcmp(t, "error") || !strcmp(t, "enum") || !strcmp(t, "fixed"))
        return expand_named(ctx, in, t, ns, depth);
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0)
        return expand_container(ctx, in, t, ns, depth);
    return expand_reference(ctx, t, ns);
}

/* Two union branches clash if they are unnamed types of one kind, or named types of one name. */
static int branches_clash(const struct avsc *view, json_t *a, json_t *b)
{
    const json_t *ra = avsc_resolve(view, a), *rb = avsc_resolve(view, b);
    const char *ta = avsc_type(ra), *tb = avsc_type(rb);
    if (!ta || !tb || strcmp(ta, tb) != 0)
        return 0;
    json_t *na = json_object_get(ra, "name"), *nb = json_object_get(rb, "name");
    if (json_is_string(na) && json_is_string(nb))
        return strcmp(json_string_value(na), json_string_value(nb)) == 0;
    return 1;
}

static json_t *expand_union(struct parse_ctx *ctx, json_t *in, const char *ns, int depth)
{
    struct avsc view = {NULL, ctx->named};
    json_t *out = json_array();
    for (size_t i = 0; i < json_array_size(in); i++) {
        json_t *b = json_array_get(in, i);
        json_t *t = json_is_array(b) ? NULL : expand(ctx, b, ns, depth + 1);
        if (!t) {
            if (json_is_array(b))
                fail(ctx, "a union may not directly contain another union%s", "");
            json_decref(out);
            return NULL;
        }
        for (size_t j = 0; j < json_array_size(out); j++) {
            if (branches_clash(&view, json_array_get(out, j), t)) {
                fail(ctx, "a union contains two branches of type '%s'",
                     avsc_type(avsc_resolve(&view, t)));
                json_decref(t);
                json_decref(out);
                return NULL;
            }
        }
        json_array_append_new(out, t);
    }
    return out;
}

static json_t *expand(struct parse_ctx *ctx, json_t *in, const char *ns, int depth)
{
    if (depth > AVSC_MAX_DEPTH) {
        fail(ctx, "the schema is nested more than %s levels deep", "64");
        return NULL;
    }
    if (json_is_string(in)) {
        const char *s = json_string_value(in);
        return avsc_is_primitive(s) ? json_string(s) : expand_reference(ctx, s, ns);
    }
    if (json_is_array(in))
        return expand_union(ctx, in, ns, depth);
    if (json_is_object(in))
        return expand_object(ctx, in, ns, depth);
    fail(ctx, "a schema must be a JSON string, object or array%s", "");
    return NULL;
}

int avsc_parse(const char *text, size_t len, struct avsc **out, char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *doc = json_loadb(text, len, JSON_DECODE_ANY, &jerr);
    if (!doc) {
        snprintf(errstr, errstr_size, "not valid JSON: %s at line %d column %d", jerr.text,
                 jerr.line, jerr.column);
        return -1;
    }
    struct parse_ctx ctx = {json_object(), errstr, errstr_size};
    json_t *root = expand(&ctx, doc, "", 0);
    json_decref(doc);
    if (!root) {
        json_decref(ctx.named);
        return -1;
    }
    struct avsc *s = xcalloc(1, sizeof *s);
    s->root = root;
    s->named = ctx.named;
    *out = s;
    return 0;
}

void avsc_destroy(struct avsc *s)
{
    if (!s)
        return;
    /* named holds references into root, and root may (through named) reference itself only by
     * name strings, so there are no cycles: dropping both frees everything. */
    json_decref(s->named);
    json_decref(s->root);
    free(s);
}

const json_t *avsc_root(const struct avsc *s)
{
    return s->root;
}

const json_t *avsc_named(const struct avsc *s, const char *fullname)
{
    return json_object_get(s->named, fullname);
}

const json_t *avsc_resolve(const struct avsc *s, const json_t *node)
{
    const char *name = NULL;
    if (json_is_string(node))
        name = json_string_value(node);
    else if (json_is_object(node) && json_is_string(json_object_get(node, "type")) &&
             !json_object_get(node, "name"))
        name = json_string_value(json_object_get(node, "type"));
    if (!name || avsc_is_primitive(name) || avsc_is_keyword(name))
        return node;
    const json_t *def = json_object_get(s->named, name);
    return def ? def : node;
}

const char *avsc_type(const json_t *node)
{
    if (json_is_array(node))
        return "union";
    if (json_is_string(node))
        return json_string_value(node);
    return json_string_value(json_object_get(node, "type"));
}
