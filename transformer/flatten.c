/* Flattening CDC envelopes: the fast path (Avro out) copies the row image's bytes verbatim and
 * appends the metadata fields; the generic path (JSON out, and the fast path's reference in the
 * unit tests) decodes into avro-c generic values. */
#include "flatten.h"

#include <avro.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_check.h"
#include "avro_wire.h"
#include "envelope_walk.h"
#include "flat_json.h"
#include "xalloc.h"

struct flatten_plan {
    struct flat_schema *fs;
    avro_schema_t env_schema, flat_schema;
    avro_value_iface_t *env_iface, *flat_iface;
    avro_value_t env, flat;
    avro_reader_t reader;
    avro_writer_t writer;
    char *wbuf;
    size_t wbuf_cap;
    int decode_error;
    struct envelope_walker *walker;
    int verbatim_row;             /* the flat columns are the row's fields in order */
    const unsigned char *payload; /* of the last flatten_scan() (borrowed) */
    struct envelope_view view;
};

/* Parses JSON into SCHEMA and makes a reusable generic VALUE of it. */
static int load(const char *json, avro_schema_t *schema, avro_value_iface_t **iface,
                avro_value_t *value)
{
    if (avro_schema_from_json_length(json, strlen(json), schema) != 0)
        return -1;
    *iface = avro_generic_class_from_schema(*schema);
    return *iface && avro_generic_value_new(*iface, value) == 0 ? 0 : -1;
}

/* True if A and B have the same binary encoding (types, branches, sizes, fields). */
static int same_shape(avro_schema_t a, avro_schema_t b, int depth)
{
    while (a && avro_typeof(a) == AVRO_LINK)
        a = avro_schema_link_target(a);
    while (b && avro_typeof(b) == AVRO_LINK)
        b = avro_schema_link_target(b);
    if (!a || !b || avro_typeof(a) != avro_typeof(b))
        return 0;
    if (depth > 8)
        return 1; /* deep (recursive) types: the top levels agreed */
    size_t n = 0;
    switch (avro_typeof(a)) {
    case AVRO_FIXED: return avro_schema_fixed_size(a) == avro_schema_fixed_size(b);
    case AVRO_ENUM:
        return avro_schema_enum_number_of_symbols(a) == avro_schema_enum_number_of_symbols(b);
    case AVRO_ARRAY:
        return same_shape(avro_schema_array_items(a), avro_schema_array_items(b), depth + 1);
    case AVRO_MAP:
        return same_shape(avro_schema_map_values(a), avro_schema_map_values(b), depth + 1);
    case AVRO_UNION:
        n = avro_schema_union_size(a);
        if (n != avro_schema_union_size(b))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!same_shape(avro_schema_union_branch(a, (int)i),
                            avro_schema_union_branch(b, (int)i), depth + 1))
                return 0;
        return 1;
    case AVRO_RECORD:
        n = avro_schema_record_size(a);
        if (n != avro_schema_record_size(b))
            return 0;
        for (size_t i = 0; i < n; i++)
            if (!same_shape(avro_schema_record_field_get_by_index(a, (int)i),
                            avro_schema_record_field_get_by_index(b, (int)i), depth + 1))
                return 0;
        return 1;
    default: return 1;
    }
}

/* The fast path writes the kept columns in column_src order, then the metadata fields in
 * enum flat_schema_meta order: the flat schema must list its fields exactly so. */
static int check_field_order(const struct flatten_plan *plan, char *errstr, size_t errstr_size)
{
    size_t n = plan->fs->n_columns;
    avro_schema_t row = NULL;
    avro_schema_t after =
        avro_schema_record_field_get_by_index(plan->env_schema, plan->fs->env.after);
    for (size_t b = 0; after && b < avro_schema_union_size(after); b++) {
        avro_schema_t s = avro_schema_union_branch(after, (int)b);
        if (avro_typeof(s) == AVRO_LINK)
            s = avro_schema_link_target(s);
        if (avro_typeof(s) == AVRO_RECORD)
            row = s;
    }
    int ok = row && avro_schema_record_size(plan->flat_schema) == n + FLAT_META_COUNT;
    for (size_t i = 0; ok && i < n + FLAT_META_COUNT; i++) {
        const char *got = avro_schema_record_field_name(plan->flat_schema, (int)i);
        ok = i < n ? same_shape(avro_schema_record_field_get_by_index(plan->flat_schema, (int)i),
                                avro_schema_record_field_get_by_index(row, plan->fs->column_src[i]),
                                0)
                   : strcmp(got, flat_schema_meta_name((enum flat_schema_meta)(i - n))) == 0;
    }
    if (!ok)
        snprintf(errstr, errstr_size,
                 "flat schema of %s does not list its columns (types as in the row) then %s..%s",
                 plan->fs->row_name, flat_schema_meta_name(FLAT_META_OP),
                 flat_schema_meta_name(FLAT_META_DELETED));
    return ok ? 0 : -1;
}

struct flatten_plan *flatten_plan_new(const char *envelope_json, const struct columns_rules *rules,
                                      char *errstr, size_t errstr_size)
{
    struct flatten_plan *plan = xcalloc(1, sizeof *plan);
    plan->fs = flat_schema_derive(envelope_json, rules, errstr, errstr_size);
    if (!plan->fs) {
        flatten_plan_destroy(plan);
        return NULL;
    }
    if (load(envelope_json, &plan->env_schema, &plan->env_iface, &plan->env) < 0) {
        snprintf(errstr, errstr_size, "load envelope writer schema %s: %s", plan->fs->row_name,
                 avro_strerror());
        flatten_plan_destroy(plan);
        return NULL;
    }
    if (load(plan->fs->text, &plan->flat_schema, &plan->flat_iface, &plan->flat) < 0) {
        snprintf(errstr, errstr_size, "load flat schema of %s: %s", plan->fs->row_name,
                 avro_strerror());
        flatten_plan_destroy(plan);
        return NULL;
    }
    plan->walker = envelope_walker_new(plan->env_schema, &plan->fs->env, errstr, errstr_size);
    if (!plan->walker) {
        flatten_plan_destroy(plan);
        return NULL;
    }
    if (check_field_order(plan, errstr, errstr_size) < 0) {
        flatten_plan_destroy(plan);
        return NULL;
    }
    plan->verbatim_row = plan->fs->n_columns == envelope_walker_row_fields(plan->walker);
    for (size_t j = 0; j < plan->fs->n_columns; j++)
        plan->verbatim_row &= plan->fs->column_src[j] == (int)j;
    plan->reader = avro_reader_memory("", 0);
    plan->wbuf_cap = 4096;
    plan->wbuf = xmalloc(plan->wbuf_cap);
    plan->writer = avro_writer_memory(plan->wbuf, (int64_t)plan->wbuf_cap);
    return plan;
}

static void release(avro_schema_t schema, avro_value_iface_t *iface, avro_value_t *value)
{
    if (value->self)
        avro_value_decref(value);
    if (iface)
        avro_value_iface_decref(iface);
    if (schema)
        avro_schema_decref(schema);
}

void flatten_plan_destroy(struct flatten_plan *plan)
{
    if (!plan)
        return;
    release(plan->env_schema, plan->env_iface, &plan->env);
    release(plan->flat_schema, plan->flat_iface, &plan->flat);
    if (plan->reader)
        avro_reader_free(plan->reader);
    if (plan->writer)
        avro_writer_free(plan->writer);
    free(plan->wbuf);
    envelope_walker_destroy(plan->walker);
    flat_schema_destroy(plan->fs);
    free(plan);
}

const struct flat_schema *flatten_plan_schema(const struct flatten_plan *plan)
{
    return plan->fs;
}

int flatten_last_error_was_decode(const struct flatten_plan *plan)
{
    return plan->decode_error;
}

/* Reads field INDEX of record REC as a long (int or long, possibly in a union with null).
 * Returns 1 with *OUT set, 0 when absent or null, -1 when of another type. */
static int get_long(avro_value_t *rec, int index, int64_t *out)
{
    avro_value_t v, branch;
    if (index < 0 || avro_value_get_by_index(rec, (size_t)index, &v, NULL) != 0)
        return 0;
    if (avro_value_get_type(&v) == AVRO_UNION) {
        if (avro_value_get_current_branch(&v, &branch) != 0)
            return -1;
        v = branch;
    }
    int32_t i32;
    switch (avro_value_get_type(&v)) {
    case AVRO_NULL: return 0;
    case AVRO_INT64: return avro_value_get_long(&v, out) == 0 ? 1 : -1;
    case AVRO_INT32:
        if (avro_value_get_int(&v, &i32) != 0)
            return -1;
        *out = i32;
        return 1;
    default: return -1;
    }
}

/* Reads field INDEX of REC as a string (possibly in a union with null); NULL when null. */
static const char *get_string(avro_value_t *rec, int index, size_t *size)
{
    avro_value_t v, branch;
    const char *s = NULL;
    if (index < 0 || avro_value_get_by_index(rec, (size_t)index, &v, NULL) != 0)
        return NULL;
    if (avro_value_get_type(&v) == AVRO_UNION) {
        if (avro_value_get_current_branch(&v, &branch) != 0)
            return NULL;
        v = branch;
    }
    if (avro_value_get_type(&v) != AVRO_STRING || avro_value_get_string(&v, &s, size) != 0)
        return NULL;
    return s;
}

static void set_nullable_long(avro_value_t *flat, size_t index, int present, int64_t value)
{
    avro_value_t v, branch;
    avro_value_get_by_index(flat, index, &v, NULL);
    avro_value_set_branch(&v, present ? 1 : 0, &branch);
    if (present)
        avro_value_set_long(&branch, value);
    else
        avro_value_set_null(&branch);
}

/* Fills the metadata fields from the envelope's op and source block. */
static int set_metadata(struct flatten_plan *plan, char op, char *errstr, size_t errstr_size)
{
    const struct flat_schema_envelope *e = &plan->fs->env;
    avro_value_t src, v;
    int64_t ts = 0, txid = 0, lsn = 0;
    size_t table_size = 0;
    avro_value_get_by_index(&plan->env, (size_t)e->source, &src, NULL);
    const char *table = get_string(&src, e->src_table, &table_size);
    int has_ts = get_long(&src, e->src_ts_ms, &ts);
    int has_txid = get_long(&src, e->src_txid, &txid);
    int has_lsn = get_long(&src, e->src_lsn, &lsn);
    if (!table || has_ts != 1 || has_txid < 0 || has_lsn < 0) {
        snprintf(errstr, errstr_size, "envelope's source block has no table or ts_ms");
        return -1;
    }
    size_t base = plan->fs->n_columns;
    char op_text[2] = {op, '\0'};
    avro_value_get_by_index(&plan->flat, base + FLAT_META_OP, &v, NULL);
    avro_value_set_string_len(&v, op_text, sizeof op_text);
    set_nullable_long(&plan->flat, base + FLAT_META_LSN, has_lsn, lsn);
    set_nullable_long(&plan->flat, base + FLAT_META_TXID, has_txid, txid);
    avro_value_get_by_index(&plan->flat, base + FLAT_META_SOURCE_TS_MS, &v, NULL);
    avro_value_set_long(&v, ts);
    avro_value_get_by_index(&plan->flat, base + FLAT_META_TABLE, &v, NULL);
    avro_value_set_string_len(&v, table, table_size);
    avro_value_get_by_index(&plan->flat, base + FLAT_META_DELETED, &v, NULL);
    avro_value_set_boolean(&v, op == 'd');
    return 0;
}

/* Copies the kept columns of the row image ROW into the flat record. */
static int copy_columns(struct flatten_plan *plan, avro_value_t *row, char *errstr,
                        size_t errstr_size)
{
    for (size_t j = 0; j < plan->fs->n_columns; j++) {
        avro_value_t src, dst;
        if (avro_value_get_by_index(row, (size_t)plan->fs->column_src[j], &src, NULL) != 0 ||
            avro_value_get_by_index(&plan->flat, j, &dst, NULL) != 0 ||
            avro_value_copy_fast(&dst, &src) != 0) {
            snprintf(errstr, errstr_size, "copy column %zu of %s: %s", j, plan->fs->row_name,
                     avro_strerror());
            return -1;
        }
    }
    return 0;
}

/* Picks the row image for OP: after for c/u/r, before for d. */
static int row_image(struct flatten_plan *plan, char op, avro_value_t *row, char *errstr,
                     size_t errstr_size)
{
    int index = op == 'd' ? plan->fs->env.before : plan->fs->env.after;
    const char *which = op == 'd' ? "before" : "after";
    avro_value_t image;
    if (index < 0 || avro_value_get_by_index(&plan->env, (size_t)index, &image, NULL) != 0 ||
        avro_value_get_current_branch(&image, row) != 0 ||
        avro_value_get_type(row) != AVRO_RECORD) {
        snprintf(errstr, errstr_size, "envelope with op '%c' has no %s image", op, which);
        return -1;
    }
    return 0;
}

static enum flatten_result convert(struct flatten_plan *plan, char *errstr, size_t errstr_size)
{
    size_t op_size = 0;
    const char *op = get_string(&plan->env, plan->fs->env.op, &op_size);
    if (!op || op_size != 2 || !op[0] || !strchr("curdt", op[0])) {
        snprintf(errstr, errstr_size, "envelope has op '%s', not one of c, u, r, d, t",
                 op ? op : "(null)");
        return FLATTEN_ERROR;
    }
    if (op[0] == 't')
        return FLATTEN_SKIP;
    avro_value_t row;
    if (row_image(plan, op[0], &row, errstr, errstr_size) < 0 ||
        copy_columns(plan, &row, errstr, errstr_size) < 0 ||
        set_metadata(plan, op[0], errstr, errstr_size) < 0)
        return FLATTEN_ERROR;
    return FLATTEN_OK;
}

enum flatten_result flatten_record(struct flatten_plan *plan, const void *payload, size_t len,
                                   char *errstr, size_t errstr_size)
{
    char err[256];
    plan->decode_error = 1;
    if (avro_check_datum(plan->env_schema, payload, len, err, sizeof err) < 0) {
        snprintf(errstr, errstr_size, "decode %zu bytes of Avro with writer schema %s: %s", len,
                 plan->fs->row_name, err);
        return FLATTEN_ERROR;
    }
    avro_value_reset(&plan->env);
    avro_reader_memory_set_source(plan->reader, payload, (int64_t)len);
    if (avro_value_read(plan->reader, &plan->env) != 0) {
        snprintf(errstr, errstr_size, "decode %zu bytes of Avro with writer schema %s: %s", len,
                 plan->fs->row_name, avro_strerror());
        return FLATTEN_ERROR;
    }
    plan->decode_error = 0;
    return convert(plan, errstr, errstr_size);
}

int flatten_write_avro(struct flatten_plan *plan, int32_t schema_id, struct strbuf *out,
                       char *errstr, size_t errstr_size)
{
    size_t size = 0;
    if (avro_value_sizeof(&plan->flat, &size) != 0) {
        snprintf(errstr, errstr_size, "size flat record of %s: %s", plan->fs->row_name,
                 avro_strerror());
        return -1;
    }
    if (size > plan->wbuf_cap) {
        while (plan->wbuf_cap < size)
            plan->wbuf_cap *= 2;
        plan->wbuf = xrealloc(plan->wbuf, plan->wbuf_cap);
    }
    avro_writer_memory_set_dest(plan->writer, plan->wbuf, (int64_t)plan->wbuf_cap);
    if (avro_value_write(plan->writer, &plan->flat) != 0) {
        snprintf(errstr, errstr_size, "encode flat record of %s: %s", plan->fs->row_name,
                 avro_strerror());
        return -1;
    }
    avro_wire_put_header(out, schema_id);
    strbuf_append(out, plan->wbuf, (size_t)avro_writer_tell(plan->writer));
    return 0;
}

void flatten_write_json(struct flatten_plan *plan, struct strbuf *out)
{
    flat_json_render(plan->fs, &plan->flat, out);
}

/* ---- the fast path ------------------------------------------------------------------------ */

/* Checks the walked envelope's content as convert() and set_metadata() do. */
static enum flatten_result check_view(struct flatten_plan *plan, char *errstr, size_t errstr_size)
{
    const struct envelope_view *v = &plan->view;
    char op = v->op && v->op_len == 1 ? (char)v->op[0] : '\0';
    if (!op || !strchr("curdt", op)) {
        snprintf(errstr, errstr_size, "envelope has op '%.*s', not one of c, u, r, d, t",
                 v->op ? (int)(v->op_len > 16 ? 16 : v->op_len) : 6,
                 v->op ? (const char *)v->op : "(null)");
        return FLATTEN_ERROR;
    }
    if (op == 't')
        return FLATTEN_SKIP;
    if (!(op == 'd' ? v->before.present : v->after.present)) {
        snprintf(errstr, errstr_size, "envelope with op '%c' has no %s image", op,
                 op == 'd' ? "before" : "after");
        return FLATTEN_ERROR;
    }
    if (!v->table || v->ts_state != 1 || v->txid_state < 0 || v->lsn_state < 0) {
        snprintf(errstr, errstr_size, "envelope's source block has no table or ts_ms");
        return FLATTEN_ERROR;
    }
    return FLATTEN_OK;
}

enum flatten_result flatten_scan(struct flatten_plan *plan, const void *payload, size_t len,
                                 char *errstr, size_t errstr_size)
{
    char err[256];
    plan->decode_error = 1;
    plan->payload = NULL;
    if (envelope_walk(plan->walker, payload, len, &plan->view, err, sizeof err) < 0) {
        snprintf(errstr, errstr_size, "decode %zu bytes of Avro with writer schema %s: %s", len,
                 plan->fs->row_name, err);
        return FLATTEN_ERROR;
    }
    plan->decode_error = 0;
    enum flatten_result r = check_view(plan, errstr, errstr_size);
    if (r == FLATTEN_OK)
        plan->payload = payload;
    return r;
}

/* Appends N as an Avro long (zig-zag varint). */
static void put_long(struct strbuf *out, int64_t n)
{
    char b[10];
    size_t i = 0;
    uint64_t v = ((uint64_t)n << 1) ^ (uint64_t)(n >> 63);
    while (v >= 0x80) {
        b[i++] = (char)(v | 0x80);
        v >>= 7;
    }
    b[i++] = (char)v;
    strbuf_append(out, b, i);
}

/* ["null", "long"]: branch 0 (null), or branch 1 and the long. */
static void put_nullable_long(struct strbuf *out, int state, int64_t n)
{
    strbuf_append(out, state == 1 ? "\2" : "\0", 1);
    if (state == 1)
        put_long(out, n);
}

void flatten_emit_avro(struct flatten_plan *plan, int32_t schema_id, struct strbuf *out)
{
    const struct envelope_view *v = &plan->view;
    const char *base = (const char *)plan->payload;
    char op = (char)v->op[0];
    const struct envelope_image *img = op == 'd' ? &v->before : &v->after;
    avro_wire_put_header(out, schema_id);
    if (plan->verbatim_row) {
        strbuf_append(out, base + img->row.off, img->row.len);
    } else {
        for (size_t j = 0; j < plan->fs->n_columns; j++) {
            const struct envelope_slice *col = &img->cols[plan->fs->column_src[j]];
            strbuf_append(out, base + col->off, col->len);
        }
    }
    /* __op (string of 1 byte), __lsn, __txid, __source_ts_ms, __table, __deleted */
    char op_field[2] = {2, op};
    strbuf_append(out, op_field, sizeof op_field);
    put_nullable_long(out, v->lsn_state, v->lsn);
    put_nullable_long(out, v->txid_state, v->txid);
    put_long(out, v->ts_ms);
    put_long(out, (int64_t)v->table_len);
    strbuf_append(out, (const char *)v->table, v->table_len);
    strbuf_append(out, op == 'd' ? "\1" : "\0", 1);
}
