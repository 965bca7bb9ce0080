/* Avro binary encoding of pgoutput text values with avro-c generic values, one reusable value
 * per schema. */
#include "avro_encode.h"

#include <avro.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_schema.h"
#include "avro_wire.h"
#include "pgtext.h"
#include "xalloc.h"

/* Field positions in the envelope and source records (avro_schema.c's order). */
enum { ENV_BEFORE, ENV_AFTER, ENV_SOURCE, ENV_OP, ENV_TS_MS };
enum {
    SRC_VERSION,
    SRC_CONNECTOR,
    SRC_NAME,
    SRC_TS_MS,
    SRC_DB,
    SRC_SCHEMA,
    SRC_TABLE,
    SRC_TXID,
    SRC_LSN
};

struct avroenc {
    char *key_json, *value_json;
    avro_schema_t key_schema, value_schema;
    avro_value_iface_t *key_iface, *value_iface;
    avro_value_t key, value;
    int ncols;
    struct avroschema_type *types;
    struct strbuf bytes; /* decimal and bytea conversions */
    char *text;          /* NUL-terminated copy of a value for avro-c and strto*() */
    size_t text_cap;
    char *wbuf; /* binary encoding before framing */
    size_t wbuf_cap;
};

static int load_schema(const char *json, avro_schema_t *schema, avro_value_iface_t **iface,
                       avro_value_t *value)
{
    if (avro_schema_from_json_length(json, strlen(json), schema) != 0)
        return -1;
    *iface = avro_generic_class_from_schema(*schema);
    return *iface && avro_generic_value_new(*iface, value) == 0 ? 0 : -1;
}

struct avroenc *avroenc_new(const struct relcache_rel *rel, const char *prefix, char *errstr,
                            size_t errstr_size)
{
    struct avroenc *enc = xcalloc(1, sizeof *enc);
    char *ns = avroschema_namespace(prefix, rel);
    enc->key_json = avroschema_key_json(rel, ns);
    enc->value_json = avroschema_value_json(rel, ns);
    free(ns);
    enc->ncols = rel->ncols;
    enc->types = xcalloc((size_t)rel->ncols + 1, sizeof *enc->types);
    for (int i = 0; i < rel->ncols; i++)
        enc->types[i] = avroschema_type_of(rel->cols[i].type_oid, rel->cols[i].typmod);
    if (load_schema(enc->key_json, &enc->key_schema, &enc->key_iface, &enc->key) < 0 ||
        load_schema(enc->value_json, &enc->value_schema, &enc->value_iface, &enc->value) < 0) {
        snprintf(errstr, errstr_size, "build Avro schemas of table %s.%s: %s", rel->nspname,
                 rel->relname, avro_strerror());
        avroenc_destroy(enc);
        return NULL;
    }
    return enc;
}

void avroenc_destroy(struct avroenc *enc)
{
    if (!enc)
        return;
    if (enc->key_iface) {
        if (enc->key.self)
            avro_value_decref(&enc->key);
        avro_value_iface_decref(enc->key_iface);
    }
    if (enc->value_iface) {
        if (enc->value.self)
            avro_value_decref(&enc->value);
        avro_value_iface_decref(enc->value_iface);
    }
    if (enc->key_schema)
        avro_schema_decref(enc->key_schema);
    if (enc->value_schema)
        avro_schema_decref(enc->value_schema);
    strbuf_release(&enc->bytes);
    free(enc->types);
    free(enc->text);
    free(enc->wbuf);
    free(enc->key_json);
    free(enc->value_json);
    free(enc);
}

const char *avroenc_key_schema(const struct avroenc *enc)
{
    return enc->key_json;
}

const char *avroenc_value_schema(const struct avroenc *enc)
{
    return enc->value_json;
}

/* A NUL-terminated copy of DATA[0..LEN) in the encoder's scratch (valid until the next call). */
static const char *text_copy(struct avroenc *enc, const char *data, size_t len)
{
    if (len + 1 > enc->text_cap) {
        enc->text_cap = len + 1 > 256 ? len + 1 : 256;
        enc->text = xrealloc(enc->text, enc->text_cap);
    }
    memcpy(enc->text, data, len);
    enc->text[len] = '\0';
    return enc->text;
}

static int set_string(struct avroenc *enc, avro_value_t *v, const char *data, size_t len)
{
    return avro_value_set_string_len(v, text_copy(enc, data, len), len + 1);
}

/* Parses integer text S into V within [MIN, MAX]; returns 0 or -1. */
static int parse_integer(const char *s, long long min, long long max, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno || end == s || *end || *v < min || *v > max ? -1 : 0;
}

/* Sets V (of kind T) from PostgreSQL text DATA[0..LEN); returns 0 or -1 with CAUSE. */
static int set_typed(struct avroenc *enc, avro_value_t *v, const struct avroschema_type *t,
                     const char *data, size_t len, char *cause, size_t cause_size)
{
    long long n;
    int32_t days;
    int64_t micros;
    const char *s;
    char *end;
    strbuf_release(&enc->bytes);
    switch (t->kind) {
    case AVROSCHEMA_BOOLEAN:
        if (len == 1 && (data[0] == 't' || data[0] == 'f'))
            return avro_value_set_boolean(v, data[0] == 't');
        break;
    case AVROSCHEMA_INT:
        if (parse_integer(text_copy(enc, data, len), INT32_MIN, INT32_MAX, &n) == 0)
            return avro_value_set_int(v, (int32_t)n);
        break;
    case AVROSCHEMA_LONG:
        if (parse_integer(text_copy(enc, data, len), LLONG_MIN, LLONG_MAX, &n) == 0)
            return avro_value_set_long(v, n);
        break;
    case AVROSCHEMA_FLOAT:
    case AVROSCHEMA_DOUBLE: /* strtod reads NaN, Infinity and -Infinity as PostgreSQL writes them
                             */
        s = text_copy(enc, data, len);
        double d = strtod(s, &end);
        if (end != s && !*end)
            return t->kind == AVROSCHEMA_FLOAT ? avro_value_set_float(v, (float)d)
                                               : avro_value_set_double(v, d);
        break;
    case AVROSCHEMA_DECIMAL:
        if (pgtext_decimal(data, len, t->scale, &enc->bytes, cause, cause_size) < 0)
            return -1;
        return avro_value_set_bytes(v, enc->bytes.data, enc->bytes.len);
    case AVROSCHEMA_DATE:
        if (pgtext_date(data, len, &days, cause, cause_size) < 0)
            return -1;
        return avro_value_set_int(v, days);
    case AVROSCHEMA_TIMESTAMP:
        if (pgtext_timestamp(data, len, &micros, cause, cause_size) < 0)
            return -1;
        return avro_value_set_long(v, micros);
    case AVROSCHEMA_BYTES:
        if (pgtext_bytea(data, len, &enc->bytes, cause, cause_size) < 0)
            return -1;
        return avro_value_set_bytes(v, enc->bytes.data ? enc->bytes.data : "", enc->bytes.len);
    case AVROSCHEMA_UUID:
    case AVROSCHEMA_STRING: return set_string(enc, v, data, len);
    }
    snprintf(cause, cause_size, "'%.*s' is not a valid %s", (int)(len > 40 ? 40 : len), data,
             t->kind == AVROSCHEMA_BOOLEAN ? "boolean" : "number in range");
    return -1;
}

/* Sets column field F from value C (FALLBACK: the same column of the old row, or NULL). */
static int set_column(struct avroenc *enc, avro_value_t *f, const struct avroschema_type *t,
                      const struct pgoutput_value *c, const struct pgoutput_value *fallback,
                      int nullable, char *cause, size_t cause_size)
{
    avro_value_t branch, *target = f;
    if (c->kind == PGOUTPUT_COL_UNCHANGED_TOAST && fallback &&
        (fallback->kind == PGOUTPUT_COL_TEXT || fallback->kind == PGOUTPUT_COL_NULL))
        c = fallback;
    if (c->kind == PGOUTPUT_COL_NULL) {
        if (!nullable) {
            snprintf(cause, cause_size, "null in a key column");
            return -1;
        }
        return avro_value_set_branch(f, 0, &branch) || avro_value_set_null(&branch) ? -1 : 0;
    }
    if (nullable) {
        if (avro_value_set_branch(f, 1, &branch) != 0)
            return -1;
        target = &branch;
    }
    if (c->kind == PGOUTPUT_COL_UNCHANGED_TOAST) {
        if (t->kind == AVROSCHEMA_STRING || t->kind == AVROSCHEMA_BYTES) {
            const char *p = AVROSCHEMA_UNAVAILABLE;
            return t->kind == AVROSCHEMA_BYTES ? avro_value_set_bytes(target, (void *)p, strlen(p))
                                               : set_string(enc, target, p, strlen(p));
        }
        snprintf(cause, cause_size, "unchanged TOAST value of a non-text column was not sent");
        return -1;
    }
    if (c->kind != PGOUTPUT_COL_TEXT) {
        snprintf(cause, cause_size, "value in binary format (the connector asks for text)");
        return -1;
    }
    return set_typed(enc, target, t, c->data, c->len, cause, cause_size) ? -1 : 0;
}

/* Fills record REC with the columns of TUPLE (only key columns when KEY_ONLY). */
static int fill_columns(struct avroenc *enc, const struct relcache_rel *rel, avro_value_t *rec,
                        const struct pgoutput_tuple *tuple, const struct pgoutput_tuple *fallback,
                        int key_only, char *errstr, size_t errstr_size)
{
    char cause[256];
    if (tuple->ncols != rel->ncols) {
        snprintf(errstr, errstr_size, "encode a row of %s.%s: it has %u columns, the relation %d",
                 rel->nspname, rel->relname, tuple->ncols, rel->ncols);
        return -1;
    }
    for (int i = 0, field = 0; i < rel->ncols; i++) {
        avro_value_t f;
        if (key_only && !rel->cols[i].key)
            continue;
        const struct pgoutput_value *fb =
            fallback && fallback->ncols == tuple->ncols ? &fallback->cols[i] : NULL;
        cause[0] = '\0';
        if (avro_value_get_by_index(rec, (size_t)field++, &f, NULL) != 0 ||
            set_column(enc, &f, &enc->types[i], &tuple->cols[i], fb, !rel->cols[i].key, cause,
                       sizeof cause) != 0) {
            snprintf(errstr, errstr_size, "encode %s of %s.%s column %s: %s",
                     key_only ? "key" : "row", rel->nspname, rel->relname, rel->cols[i].name,
                     cause[0] ? cause : avro_strerror());
            return -1;
        }
    }
    return 0;
}

/* Appends the framed binary encoding of VALUE (schema id ID) to OUT. */
static int write_framed(struct avroenc *enc, avro_value_t *value, int32_t id, struct strbuf *out,
                        char *errstr, size_t errstr_size)
{
    size_t size = 0;
    if (avro_value_sizeof(value, &size) != 0)
        goto fail;
    if (size > enc->wbuf_cap) {
        enc->wbuf_cap = size;
        enc->wbuf = xrealloc(enc->wbuf, size);
    }
    avro_writer_t w = avro_writer_memory(enc->wbuf, (int64_t)size);
    int rc = avro_value_write(w, value);
    avro_writer_free(w);
    if (rc != 0)
        goto fail;
    avro_wire_put_header(out, id);
    strbuf_append(out, enc->wbuf, size);
    return 0;
fail:
    snprintf(errstr, errstr_size, "write Avro datum: %s", avro_strerror());
    return -1;
}

int avroenc_key(struct avroenc *enc, const struct relcache_rel *rel,
                const struct pgoutput_tuple *tuple, int32_t key_id, struct strbuf *out,
                char *errstr, size_t errstr_size)
{
    avro_value_reset(&enc->key);
    if (fill_columns(enc, rel, &enc->key, tuple, NULL, 1, errstr, errstr_size) < 0)
        return -1;
    return write_framed(enc, &enc->key, key_id, out, errstr, errstr_size);
}

/* Sets the union field INDEX of the envelope to null or to a Value record from TUPLE. */
static int set_row(struct avroenc *enc, const struct relcache_rel *rel, int index,
                   const struct pgoutput_tuple *tuple, const struct pgoutput_tuple *fallback,
                   char *errstr, size_t errstr_size)
{
    avro_value_t f, branch;
    if (avro_value_get_by_index(&enc->value, (size_t)index, &f, NULL) != 0 ||
        avro_value_set_branch(&f, tuple ? 1 : 0, &branch) != 0) {
        snprintf(errstr, errstr_size, "encode envelope of %s.%s: %s", rel->nspname, rel->relname,
                 avro_strerror());
        return -1;
    }
    if (!tuple)
        return avro_value_set_null(&branch) ? -1 : 0;
    return fill_columns(enc, rel, &branch, tuple, fallback, 0, errstr, errstr_size);
}

/* Sets nullable long field F to V, or null when V < 0. */
static int set_opt_long(avro_value_t *f, int64_t v)
{
    avro_value_t branch;
    if (avro_value_set_branch(f, v < 0 ? 0 : 1, &branch) != 0)
        return -1;
    return v < 0 ? avro_value_set_null(&branch) : avro_value_set_long(&branch, v);
}

static int set_source(struct avroenc *enc, const struct relcache_rel *rel,
                      const struct avroenc_source *src)
{
    avro_value_t s, f;
    const char *strings[] = {src->version, src->connector, src->name,   NULL,
                             src->db,      rel->nspname,   rel->relname};
    int rc = avro_value_get_by_index(&enc->value, ENV_SOURCE, &s, NULL);
    for (int i = SRC_VERSION; i <= SRC_TABLE && rc == 0; i++) {
        rc = avro_value_get_by_index(&s, (size_t)i, &f, NULL);
        if (rc == 0)
            rc = i == SRC_TS_MS ? avro_value_set_long(&f, src->ts_ms)
                                : set_string(enc, &f, strings[i], strlen(strings[i]));
    }
    if (rc == 0 && (rc = avro_value_get_by_index(&s, SRC_TXID, &f, NULL)) == 0)
        rc = set_opt_long(&f, src->txid);
    if (rc == 0 && (rc = avro_value_get_by_index(&s, SRC_LSN, &f, NULL)) == 0)
        rc = set_opt_long(&f, src->lsn);
    return rc;
}

int avroenc_envelope(struct avroenc *enc, const struct relcache_rel *rel,
                     const struct pgoutput_tuple *before, const struct pgoutput_tuple *after,
                     char op, const struct avroenc_source *src, int32_t value_id,
                     struct strbuf *out, char *errstr, size_t errstr_size)
{
    avro_value_t f;
    char op_text[2] = {op, '\0'};
    avro_value_reset(&enc->value);
    if (set_row(enc, rel, ENV_BEFORE, before, NULL, errstr, errstr_size) < 0 ||
        set_row(enc, rel, ENV_AFTER, after, before, errstr, errstr_size) < 0)
        return -1;
    if (set_source(enc, rel, src) != 0 || avro_value_get_by_index(&enc->value, ENV_OP, &f, NULL) ||
        avro_value_set_string_len(&f, op_text, 2) ||
        avro_value_get_by_index(&enc->value, ENV_TS_MS, &f, NULL) ||
        set_opt_long(&f, src->now_ms)) {
        snprintf(errstr, errstr_size, "encode envelope of %s.%s: %s", rel->nspname, rel->relname,
                 avro_strerror());
        return -1;
    }
    return write_framed(enc, &enc->value, value_id, out, errstr, errstr_size);
}
