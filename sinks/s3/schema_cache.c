/* The schema cache: registry text -> type graph + avro-c decoder, per id. */
#include "schema_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct sink_schema_cache {
    struct registry_lookup *rl;
    struct sink_schema **items;
    size_t n, cap;
};

struct sink_schema *sink_schema_new(int32_t id, const char *text, char *errstr, size_t errstr_size)
{
    char err[256];
    struct sink_avro_schema *type = sink_avro_schema_parse(text, err, sizeof err);
    if (!type) {
        snprintf(errstr, errstr_size, "schema id %d: %s", (int)id, err);
        return NULL;
    }
    if (type->root->kind != SINK_AVRO_RECORD) {
        snprintf(errstr, errstr_size, "schema id %d is not a record", (int)id);
        sink_avro_schema_destroy(type);
        return NULL;
    }
    avro_schema_t avro = NULL;
    if (avro_schema_from_json_length(text, strlen(text), &avro) != 0) {
        snprintf(errstr, errstr_size, "schema id %d: avro-c cannot parse it: %s", (int)id,
                 avro_strerror());
        sink_avro_schema_destroy(type);
        return NULL;
    }
    struct sink_schema *s = xcalloc(1, sizeof *s);
    s->id = id;
    s->text = xstrdup(text);
    s->type = type;
    s->avro = avro;
    s->iface = avro_generic_class_from_schema(avro);
    avro_generic_value_new(s->iface, &s->value);
    s->reader = avro_reader_memory("", 0);
    return s;
}

void sink_schema_destroy(struct sink_schema *s)
{
    if (!s)
        return;
    avro_reader_free(s->reader);
    avro_value_decref(&s->value);
    avro_value_iface_decref(s->iface);
    avro_schema_decref(s->avro);
    sink_avro_schema_destroy(s->type);
    free(s->text);
    free(s);
}

avro_value_t *sink_schema_decode(const struct sink_schema *s, const void *payload, size_t len,
                                 char *errstr, size_t errstr_size)
{
    /* The value and reader are scratch space: decoding does not change the schema itself. */
    struct sink_schema *m = (struct sink_schema *)s;
    avro_reader_memory_set_source(m->reader, payload, (int64_t)len);
    avro_value_reset(&m->value);
    if (avro_value_read(m->reader, &m->value) != 0) {
        snprintf(errstr, errstr_size, "cannot decode a %zu-byte datum with schema id %d: %s", len,
                 (int)s->id, avro_strerror());
        return NULL;
    }
    /* avro_reader_is_eof() answers only for file readers, so compare the datum's size. */
    size_t used = 0;
    if (avro_value_sizeof(&m->value, &used) != 0 || used != len) {
        snprintf(errstr, errstr_size,
                 "a %zu-byte datum holds a %zu-byte record and something else (schema id %d)", len,
                 used, (int)s->id);
        return NULL;
    }
    return &m->value;
}

struct sink_schema_cache *sink_schema_cache_new(struct registry_lookup *rl)
{
    struct sink_schema_cache *c = xcalloc(1, sizeof *c);
    c->rl = rl;
    return c;
}

void sink_schema_cache_destroy(struct sink_schema_cache *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n; i++)
        sink_schema_destroy(c->items[i]);
    free(c->items);
    free(c);
}

enum registry_lookup_status sink_schema_cache_get(struct sink_schema_cache *c, int32_t id,
                                                  const struct sink_schema **out, char *errstr,
                                                  size_t errstr_size)
{
    for (size_t i = 0; i < c->n; i++)
        if (c->items[i]->id == id) {
            *out = c->items[i];
            return REGISTRY_LOOKUP_OK;
        }
    const char *text = NULL;
    enum registry_lookup_status st = registry_lookup_schema(c->rl, id, &text, errstr, errstr_size);
    if (st != REGISTRY_LOOKUP_OK)
        return st;
    struct sink_schema *s = sink_schema_new(id, text, errstr, errstr_size);
    if (!s)
        return REGISTRY_LOOKUP_REJECTED;
    if (c->n == c->cap) {
        c->cap = c->cap ? 2 * c->cap : 8;
        c->items = xrealloc(c->items, c->cap * sizeof *c->items);
    }
    c->items[c->n++] = s;
    *out = s;
    return REGISTRY_LOOKUP_OK;
}
