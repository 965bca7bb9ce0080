/* Canonical text forms of an expanded Avro schema. */
#include "avsc_canonical.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "avsc.h"
#include "strbuf.h"

/* Appends S as a JSON string literal: UTF-8 kept as is, only what JSON requires escaped. */
static void put_string(struct strbuf *out, const char *s)
{
    json_t *j = json_string(s);
    char *text = j ? json_dumps(j, JSON_ENCODE_ANY) : NULL;
    strbuf_puts(out, text ? text : "\"\"");
    free(text);
    json_decref(j);
}

static void put_json(struct strbuf *out, const json_t *value)
{
    char *text = json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT | JSON_SORT_KEYS);
    strbuf_puts(out, text ? text : "null");
    free(text);
}

static void put_node(struct strbuf *out, const json_t *node, unsigned flags);

/* ,"logicalType":...,"precision":...,"scale":... when kept and present. */
static void put_logical(struct strbuf *out, const json_t *node, unsigned flags)
{
    static const char *const keys[] = {"logicalType", "precision", "scale"};
    if (!(flags & AVSC_CANONICAL_LOGICAL) || !json_object_get(node, "logicalType"))
        return;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        json_t *v = json_object_get(node, keys[i]);
        if (v) {
            strbuf_printf(out, ",\"%s\":", keys[i]);
            put_json(out, v);
        }
    }
}

static void put_fields(struct strbuf *out, const json_t *fields, unsigned flags)
{
    strbuf_puts(out, ",\"fields\":[");
    for (size_t i = 0; i < json_array_size(fields); i++) {
        json_t *f = json_array_get(fields, i);
        strbuf_puts(out, i ? ",{\"name\":" : "{\"name\":");
        put_string(out, json_string_value(json_object_get(f, "name")));
        strbuf_puts(out, ",\"type\":");
        put_node(out, json_object_get(f, "type"), flags);
        json_t *def = json_object_get(f, "default");
        if (def && (flags & AVSC_CANONICAL_DEFAULTS)) {
            strbuf_puts(out, ",\"default\":");
            put_json(out, def);
        }
        strbuf_puts(out, "}");
    }
    strbuf_puts(out, "]");
}

/* Named types: name, type, then fields / symbols / size, in the specification's order. */
static void put_named(struct strbuf *out, const json_t *node, const char *type, unsigned flags)
{
    strbuf_puts(out, "{\"name\":");
    put_string(out, json_string_value(json_object_get(node, "name")));
    strbuf_puts(out, ",\"type\":");
    put_string(out, type);
    if (strcmp(type, "enum") == 0) {
        json_t *symbols = json_object_get(node, "symbols");
        strbuf_puts(out, ",\"symbols\":[");
        for (size_t i = 0; i < json_array_size(symbols); i++) {
            if (i)
                strbuf_puts(out, ",");
            put_string(out, json_string_value(json_array_get(symbols, i)));
        }
        strbuf_puts(out, "]");
        json_t *def = json_object_get(node, "default");
        if (def && (flags & AVSC_CANONICAL_DEFAULTS)) {
            strbuf_puts(out, ",\"default\":");
            put_json(out, def);
        }
    } else if (strcmp(type, "fixed") == 0) {
        strbuf_printf(out, ",\"size\":%lld",
                      (long long)json_integer_value(json_object_get(node, "size")));
        put_logical(out, node, flags);
    } else {
        put_fields(out, json_object_get(node, "fields"), flags);
    }
    strbuf_puts(out, "}");
}

static void put_node(struct strbuf *out, const json_t *node, unsigned flags)
{
    if (json_is_string(node)) { /* a primitive, or a named type defined earlier */
        put_string(out, json_string_value(node));
        return;
    }
    if (json_is_array(node)) {
        strbuf_puts(out, "[");
        for (size_t i = 0; i < json_array_size(node); i++) {
            if (i)
                strbuf_puts(out, ",");
            put_node(out, json_array_get(node, i), flags);
        }
        strbuf_puts(out, "]");
        return;
    }
    const char *type = avsc_type(node);
    if (avsc_is_primitive(type)) {
        int logical = (flags & AVSC_CANONICAL_LOGICAL) && json_object_get(node, "logicalType");
        if (!logical) {
            put_string(out, type);
            return;
        }
        strbuf_puts(out, "{\"type\":");
        put_string(out, type);
        put_logical(out, node, flags);
        strbuf_puts(out, "}");
    } else if (strcmp(type, "array") == 0 || strcmp(type, "map") == 0) {
        int array = strcmp(type, "array") == 0;
        strbuf_printf(out, "{\"type\":\"%s\",\"%s\":", type, array ? "items" : "values");
        put_node(out, json_object_get(node, array ? "items" : "values"), flags);
        strbuf_puts(out, "}");
    } else {
        put_named(out, node, type, flags);
    }
}

char *avsc_canonical(const struct avsc *s, unsigned flags)
{
    struct strbuf out = STRBUF_INIT;
    put_node(&out, avsc_root(s), flags);
    return strbuf_detach(&out);
}
