/* Avro binary encoding of pgoutput text values, written directly from the schema this connector
 * builds (avro_schema.c): every row is a record of its columns in relation order, key columns
 * plain, the others unions [null, type]. avro-c only checks each schema once when the encoder is
 * built; encoding without its generic values costs a fraction of the time. */
#include "avro_encode.h"

#include <avro.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_binary.h"
#include "avro_schema.h"
#include "avro_wire.h"
#include "pgtext.h"
#include "xalloc.h"

struct avroenc {
    char *key_json, *value_json;
    int ncols;
    struct avroschema_type *types;
    struct strbuf bytes; /* decimal and bytea conversions */
    char *text;          /* NUL-terminated copy of a value for strto*() */
    size_t text_cap;
    int special_null;         /* numeric NaN/Infinity in a nullable decimal column -> null */
    uint64_t special_nulls;   /* values written as null that way */
    const char *special_col;  /* the column of the last one (borrowed from the relation) */
    const char *encoding_col; /* the column being encoded */
};

void avroenc_set_special_decimal_null(struct avroenc *enc, int on)
{
    enc->special_null = on;
}

uint64_t avroenc_special_decimal_nulls(const struct avroenc *enc, const char **column)
{
    if (column)
        *column = enc->special_col;
    return enc->special_nulls;
}

/* True for numeric's special values, which an Avro decimal cannot hold. */
static int special_numeric(const char *data, size_t len)
{
    return (len == 3 && memcmp(data, "NaN", 3) == 0) ||
           (len == 8 && memcmp(data, "Infinity", 8) == 0) ||
           (len == 9 && memcmp(data, "-Infinity", 9) == 0);
}

/* True if avro-c accepts JSON as a schema. */
static int valid_schema(const char *json)
{
    avro_schema_t schema;
    if (avro_schema_from_json_length(json, strlen(json), &schema) != 0)
        return 0;
    avro_schema_decref(schema);
    return 1;
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
    if (!valid_schema(enc->key_json) || !valid_schema(enc->value_json)) {
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
    strbuf_release(&enc->bytes);
    free(enc->types);
    free(enc->text);
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

/* Parses integer text S into V within [MIN, MAX]; returns 0 or -1. */
static int parse_integer(const char *s, long long min, long long max, long long *v)
{
    char *end;
    errno = 0;
    *v = strtoll(s, &end, 10);
    return errno || end == s || *end || *v < min || *v > max ? -1 : 0;
}

/* Appends text DATA[0..LEN) bound for a bytes-like kind (decimal, bytea) via the scratch. */
static int put_converted(struct avroenc *enc, struct strbuf *out, const struct avroschema_type *t,
                         const char *data, size_t len, char *cause, size_t cause_size)
{
    enc->bytes.len = 0;
    int rc = t->kind == AVROSCHEMA_DECIMAL
                 ? pgtext_decimal(data, len, t->scale, &enc->bytes, cause, cause_size)
                 : pgtext_bytea(data, len, &enc->bytes, cause, cause_size);
    if (rc == 0)
        avrobin_bytes(out, enc->bytes.data, enc->bytes.len);
    return rc;
}

/* Appends PostgreSQL text DATA[0..LEN) as kind T; returns 0 or -1 with CAUSE. */
static int put_typed(struct avroenc *enc, struct strbuf *out, const struct avroschema_type *t,
                     const char *data, size_t len, char *cause, size_t cause_size)
{
    long long n;
    int32_t days;
    int64_t micros;
    const char *s;
    char *end;
    switch (t->kind) {
    case AVROSCHEMA_BOOLEAN:
        if (len != 1 || (data[0] != 't' && data[0] != 'f'))
            break;
        avrobin_boolean(out, data[0] == 't');
        return 0;
    case AVROSCHEMA_INT:
    case AVROSCHEMA_LONG:
        if (parse_integer(text_copy(enc, data, len),
                          t->kind == AVROSCHEMA_INT ? INT32_MIN : LLONG_MIN,
                          t->kind == AVROSCHEMA_INT ? INT32_MAX : LLONG_MAX, &n) < 0)
            break;
        avrobin_long(out, n);
        return 0;
    case AVROSCHEMA_FLOAT:
    case AVROSCHEMA_DOUBLE: /* strtod reads NaN, Infinity and -Infinity as PostgreSQL writes them */
        s = text_copy(enc, data, len);
        double d = strtod(s, &end);
        if (end == s || *end)
            break;
        if (t->kind == AVROSCHEMA_FLOAT)
            avrobin_float(out, (float)d);
        else
            avrobin_double(out, d);
        return 0;
    case AVROSCHEMA_DECIMAL:
    case AVROSCHEMA_BYTES: return put_converted(enc, out, t, data, len, cause, cause_size);
    case AVROSCHEMA_DATE:
        if (pgtext_date(data, len, &days, cause, cause_size) < 0)
            return -1;
        avrobin_long(out, days);
        return 0;
    case AVROSCHEMA_TIMESTAMP:
        if (pgtext_timestamp(data, len, &micros, cause, cause_size) < 0)
            return -1;
        avrobin_long(out, micros);
        return 0;
    case AVROSCHEMA_UUID:
    case AVROSCHEMA_STRING: avrobin_bytes(out, data, len); return 0;
    }
    snprintf(cause, cause_size, "'%.*s' is not a valid %s", (int)(len > 40 ? 40 : len), data,
             t->kind == AVROSCHEMA_BOOLEAN ? "boolean" : "number in range");
    return -1;
}

/* Appends column value C (FALLBACK: the same column of the old row, or NULL); a nullable column
 * is the union [null, type]. */
static int put_column(struct avroenc *enc, struct strbuf *out, const struct avroschema_type *t,
                      const struct pgoutput_value *c, const struct pgoutput_value *fallback,
                      int nullable, char *cause, size_t cause_size)
{
    if (c->kind == PGOUTPUT_COL_UNCHANGED_TOAST && fallback &&
        (fallback->kind == PGOUTPUT_COL_TEXT || fallback->kind == PGOUTPUT_COL_NULL))
        c = fallback;
    if (nullable && enc->special_null && t->kind == AVROSCHEMA_DECIMAL &&
        c->kind == PGOUTPUT_COL_TEXT && special_numeric(c->data, c->len)) {
        enc->special_nulls++;
        enc->special_col = enc->encoding_col;
        avrobin_long(out, 0);
        return 0;
    }
    if (c->kind == PGOUTPUT_COL_NULL) {
        if (!nullable) {
            snprintf(cause, cause_size, "null in a key column");
            return -1;
        }
        avrobin_long(out, 0);
        return 0;
    }
    if (nullable)
        avrobin_long(out, 1);
    if (c->kind == PGOUTPUT_COL_UNCHANGED_TOAST) {
        if (t->kind == AVROSCHEMA_STRING || t->kind == AVROSCHEMA_BYTES) {
            avrobin_bytes(out, AVROSCHEMA_UNAVAILABLE, strlen(AVROSCHEMA_UNAVAILABLE));
            return 0;
        }
        snprintf(cause, cause_size, "unchanged TOAST value of a non-text column was not sent");
        return -1;
    }
    if (c->kind != PGOUTPUT_COL_TEXT) {
        snprintf(cause, cause_size, "value in binary format (the connector asks for text)");
        return -1;
    }
    return put_typed(enc, out, t, c->data, c->len, cause, cause_size);
}

/* Appends the record of TUPLE's columns (only key columns when KEY_ONLY). */
static int put_columns(struct avroenc *enc, const struct relcache_rel *rel, struct strbuf *out,
                       const struct pgoutput_tuple *tuple, const struct pgoutput_tuple *fallback,
                       int key_only, char *errstr, size_t errstr_size)
{
    char cause[256];
    if (tuple->ncols != rel->ncols || rel->ncols != enc->ncols) {
        snprintf(errstr, errstr_size, "encode a row of %s.%s: it has %u columns, the relation %d",
                 rel->nspname, rel->relname, tuple->ncols, rel->ncols);
        return -1;
    }
    for (int i = 0; i < rel->ncols; i++) {
        if (key_only && !rel->cols[i].key)
            continue;
        const struct pgoutput_value *fb =
            fallback && fallback->ncols == tuple->ncols ? &fallback->cols[i] : NULL;
        enc->encoding_col = rel->cols[i].name;
        if (put_column(enc, out, &enc->types[i], &tuple->cols[i], fb, !rel->cols[i].key, cause,
                       sizeof cause) != 0) {
            snprintf(errstr, errstr_size, "encode %s of %s.%s column %s: %s",
                     key_only ? "key" : "row", rel->nspname, rel->relname, rel->cols[i].name,
                     cause);
            return -1;
        }
    }
    return 0;
}

/* Drops what a failed encoding appended: on failure OUT is as it was. */
static void truncate_to(struct strbuf *out, size_t len)
{
    out->len = len;
    if (out->data)
        out->data[len] = '\0';
}

int avroenc_key(struct avroenc *enc, const struct relcache_rel *rel,
                const struct pgoutput_tuple *tuple, int32_t key_id, struct strbuf *out,
                char *errstr, size_t errstr_size)
{
    size_t start = out->len;
    avro_wire_put_header(out, key_id);
    if (put_columns(enc, rel, out, tuple, NULL, 1, errstr, errstr_size) == 0)
        return 0;
    truncate_to(out, start);
    return -1;
}

/* A nullable long: null when V < 0. */
static void put_opt_long(struct strbuf *out, int64_t v)
{
    avrobin_long(out, v < 0 ? 0 : 1);
    if (v >= 0)
        avrobin_long(out, v);
}

static void put_string(struct strbuf *out, const char *s)
{
    avrobin_bytes(out, s, strlen(s));
}

/* The Source record: version, connector, name, ts_ms, db, schema, table, txId, lsn. */
static void put_source(struct strbuf *out, const struct relcache_rel *rel,
                       const struct avroenc_source *src)
{
    put_string(out, src->version);
    put_string(out, src->connector);
    put_string(out, src->name);
    avrobin_long(out, src->ts_ms);
    put_string(out, src->db);
    put_string(out, rel->nspname);
    put_string(out, rel->relname);
    put_opt_long(out, src->txid);
    put_opt_long(out, src->lsn);
}

/* The envelope: before, after (each [null, Value]), source, op, ts_ms ([null, long]). */
int avroenc_envelope(struct avroenc *enc, const struct relcache_rel *rel,
                     const struct pgoutput_tuple *before, const struct pgoutput_tuple *after,
                     char op, const struct avroenc_source *src, int32_t value_id,
                     struct strbuf *out, char *errstr, size_t errstr_size)
{
    size_t start = out->len;
    avro_wire_put_header(out, value_id);
    avrobin_long(out, before ? 1 : 0);
    if (before && put_columns(enc, rel, out, before, NULL, 0, errstr, errstr_size) < 0)
        goto fail;
    avrobin_long(out, after ? 1 : 0);
    if (after && put_columns(enc, rel, out, after, before, 0, errstr, errstr_size) < 0)
        goto fail;
    put_source(out, rel, src);
    avrobin_bytes(out, &op, 1);
    put_opt_long(out, src->now_ms);
    return 0;
fail:
    truncate_to(out, start);
    return -1;
}
