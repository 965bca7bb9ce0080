/* Unit tests of transformer/flatten and flat_json: envelopes of each op encoded with avro-c from
 * the fixture schemas, flattened, and checked as JSON and as Avro read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <cmocka.h>

#include "flat_json.h"
#include "flatten.h"
#include "xalloc.h"

struct fx {
    char *text;
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t env;
    struct flatten_plan *plan;
    char bytes[8192];
    size_t len;
};

static char *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/envelope/%s", SALESCDC_FIXTURE_DIR, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    char *text = xcalloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static struct fx *fx_new(const char *file, const struct columns_rules *rules)
{
    char err[512];
    struct fx *fx = xcalloc(1, sizeof *fx);
    fx->text = fixture(file);
    assert_int_equal(avro_schema_from_json_length(fx->text, strlen(fx->text), &fx->schema), 0);
    fx->iface = avro_generic_class_from_schema(fx->schema);
    assert_int_equal(avro_generic_value_new(fx->iface, &fx->env), 0);
    fx->plan = flatten_plan_new(fx->text, rules, err, sizeof err);
    if (!fx->plan)
        fail_msg("plan for %s: %s", file, err);
    return fx;
}

static void fx_destroy(struct fx *fx)
{
    flatten_plan_destroy(fx->plan);
    avro_value_decref(&fx->env);
    avro_value_iface_decref(fx->iface);
    avro_schema_decref(fx->schema);
    free(fx->text);
    free(fx);
}

/* Field NAME of REC; for a union, its branch for null (IS_NULL) or the other type. */
static avro_value_t field(avro_value_t *rec, const char *name, int is_null)
{
    avro_value_t f, b;
    assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
    if (avro_value_get_type(&f) != AVRO_UNION)
        return f;
    avro_schema_t u = avro_value_get_schema(&f);
    avro_schema_t first = avro_schema_union_branch(u, 0);
    int null_first = avro_typeof(first) == AVRO_NULL;
    assert_int_equal(avro_value_set_branch(&f, is_null == null_first ? 0 : 1, &b), 0);
    if (is_null)
        avro_value_set_null(&b);
    return b;
}

static void set_str(avro_value_t *rec, const char *name, const char *s)
{
    avro_value_t v = field(rec, name, s == NULL);
    if (s)
        avro_value_set_string(&v, s);
}

static void set_long(avro_value_t *rec, const char *name, int64_t n)
{
    avro_value_t v = field(rec, name, 0);
    avro_value_get_type(&v) == AVRO_INT32 ? avro_value_set_int(&v, (int32_t)n)
                                          : avro_value_set_long(&v, n);
}

static void set_bytes(avro_value_t *rec, const char *name, const void *b, size_t n)
{
    avro_value_t v = field(rec, name, 0);
    avro_value_set_bytes(&v, (void *)b, n);
}

static void set_null(avro_value_t *rec, const char *name)
{
    field(rec, name, 1);
}

/* Source block, op and ts_ms of the orders envelope. */
static void orders_meta(struct fx *fx, const char *op)
{
    avro_value_t src = field(&fx->env, "source", 0);
    set_str(&src, "version", "0.1.0");
    set_str(&src, "connector", "postgresql");
    set_str(&src, "name", "sales");
    set_long(&src, "ts_ms", 1704067200999LL);
    set_str(&src, "db", "salescdc");
    set_str(&src, "schema", "public");
    set_str(&src, "table", "orders");
    set_long(&src, "txId", 771);
    set_long(&src, "lsn", 0x16B3748);
    set_str(&fx->env, "op", op);
    set_long(&fx->env, "ts_ms", 1704067201000LL);
}

static void orders_row(avro_value_t *row, const char *id, const char *product)
{
    static const unsigned char price[] = {0x30, 0x39}; /* 12345 -> 123.45 */
    set_str(row, "orderid", id);
    set_str(row, "product_name", product);
    set_long(row, "quantity", 3);
    set_bytes(row, "price", price, sizeof price);
    set_null(row, "customer_id");
    set_str(row, "status", "placed");
    set_long(row, "created_at", 1704067200123456LL);
    set_null(row, "updated_at");
}

static void encode(struct fx *fx)
{
    avro_writer_t w = avro_writer_memory(fx->bytes, sizeof fx->bytes);
    assert_int_equal(avro_value_write(w, &fx->env), 0);
    fx->len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
}

/* Encodes an orders envelope: OP with BEFORE and AFTER product names (NULL: no image). */
static void orders_envelope(struct fx *fx, const char *op, const char *before, const char *after)
{
    avro_value_reset(&fx->env);
    avro_value_t row;
    if (before) {
        row = field(&fx->env, "before", 0);
        orders_row(&row, "42", before);
    } else {
        set_null(&fx->env, "before");
    }
    if (after) {
        row = field(&fx->env, "after", 0);
        orders_row(&row, "42", after);
    } else {
        set_null(&fx->env, "after");
    }
    orders_meta(fx, op);
    encode(fx);
}

static char *flatten_json(struct fx *fx)
{
    char err[512];
    enum flatten_result r = flatten_record(fx->plan, fx->bytes, fx->len, err, sizeof err);
    if (r != FLATTEN_OK)
        fail_msg("flatten: %s", err);
    struct strbuf sb = STRBUF_INIT;
    flatten_write_json(fx->plan, &sb);
    return strbuf_detach(&sb);
}

static const char orders_columns[] =
    "\"orderid\":\"42\",\"product_name\":\"%s\",\"quantity\":3,\"price\":\"123.45\","
    "\"customer_id\":null,\"status\":\"placed\",\"created_at\":\"2024-01-01T00:00:00.123456Z\","
    "\"updated_at\":null,";

static void assert_orders_json(const char *json, const char *product, const char *op, int deleted)
{
    char *cols = xasprintf(orders_columns, product);
    char *expected = xasprintf("{%s\"__op\":\"%s\",\"__lsn\":23803720,\"__txid\":771,"
                               "\"__source_ts_ms\":1704067200999,\"__table\":\"orders\","
                               "\"__deleted\":%s}",
                               cols, op, deleted ? "true" : "false");
    assert_string_equal(json, expected);
    free(cols);
    free(expected);
}

static void test_insert_update_snapshot_flatten_the_after_image(void **state)
{
    (void)state;
    struct fx *fx = fx_new("orders_value_v1.avsc", NULL);
    const char *ops[] = {"c", "u", "r"};
    for (int i = 0; i < 3; i++) {
        orders_envelope(fx, ops[i], i == 1 ? "Phone" : NULL, "Laptop");
        char *json = flatten_json(fx);
        assert_orders_json(json, "Laptop", ops[i], 0);
        free(json);
    }
    fx_destroy(fx);
}

static void test_delete_flattens_the_before_image_marked_deleted(void **state)
{
    (void)state;
    struct fx *fx = fx_new("orders_value_v1.avsc", NULL);
    orders_envelope(fx, "d", "Tablet", NULL);
    char *json = flatten_json(fx);
    assert_orders_json(json, "Tablet", "d", 1);
    free(json);
    fx_destroy(fx);
}

static void test_truncate_is_skipped_and_bad_ops_are_errors(void **state)
{
    (void)state;
    char err[512];
    struct fx *fx = fx_new("orders_value_v1.avsc", NULL);
    orders_envelope(fx, "t", NULL, NULL);
    assert_int_equal(flatten_record(fx->plan, fx->bytes, fx->len, err, sizeof err), FLATTEN_SKIP);
    orders_envelope(fx, "x", NULL, "Laptop");
    assert_int_equal(flatten_record(fx->plan, fx->bytes, fx->len, err, sizeof err), FLATTEN_ERROR);
    assert_string_equal(err, "envelope has op 'x', not one of c, u, r, d, t");
    assert_false(flatten_last_error_was_decode(fx->plan));
    orders_envelope(fx, "d", NULL, NULL);
    assert_int_equal(flatten_record(fx->plan, fx->bytes, fx->len, err, sizeof err), FLATTEN_ERROR);
    assert_string_equal(err, "envelope with op 'd' has no before image");
    orders_envelope(fx, "c", NULL, NULL);
    assert_int_equal(flatten_record(fx->plan, fx->bytes, fx->len, err, sizeof err), FLATTEN_ERROR);
    assert_string_equal(err, "envelope with op 'c' has no after image");
    fx_destroy(fx);
}

static void test_truncated_avro_is_a_decode_error(void **state)
{
    (void)state;
    char err[512];
    struct fx *fx = fx_new("orders_value_v1.avsc", NULL);
    orders_envelope(fx, "c", NULL, "Laptop");
    for (size_t cut = 1; cut < fx->len; cut += 7) {
        enum flatten_result r = flatten_record(fx->plan, fx->bytes, fx->len - cut, err, sizeof err);
        assert_int_equal(r, FLATTEN_ERROR);
        assert_true(flatten_last_error_was_decode(fx->plan));
        assert_non_null(strstr(err, "bytes of Avro with writer schema sales.public.orders.Value"));
    }
    /* random bytes: an error, never a crash */
    unsigned seed = 7;
    for (int i = 0; i < 2000; i++) {
        for (size_t j = 0; j < 64; j++)
            fx->bytes[j] = (char)(rand_r(&seed) & 0xff);
        flatten_record(fx->plan, fx->bytes, 1 + (size_t)i % 64, err, sizeof err);
    }
    fx_destroy(fx);
}

static void test_avro_output_is_framed_and_reads_back(void **state)
{
    (void)state;
    char err[512];
    struct fx *fx = fx_new("orders_value_v1.avsc", NULL);
    orders_envelope(fx, "u", "Phone", "Laptop");
    assert_int_equal(flatten_record(fx->plan, fx->bytes, fx->len, err, sizeof err), FLATTEN_OK);
    struct strbuf out = STRBUF_INIT;
    assert_int_equal(flatten_write_avro(fx->plan, 0x01020304, &out, err, sizeof err), 0);
    assert_memory_equal(out.data, "\x00\x01\x02\x03\x04", 5);

    const struct flat_schema *fs = flatten_plan_schema(fx->plan);
    avro_schema_t flat;
    assert_int_equal(avro_schema_from_json_length(fs->text, strlen(fs->text), &flat), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(flat);
    avro_value_t v;
    avro_generic_value_new(iface, &v);
    avro_reader_t r = avro_reader_memory(out.data + 5, (int64_t)out.len - 5);
    assert_int_equal(avro_value_read(r, &v), 0);
    struct strbuf json = STRBUF_INIT;
    avro_value_t price, branch;
    avro_value_get_by_name(&v, "price", &price, NULL);
    avro_value_get_current_branch(&price, &branch);
    const void *b;
    size_t n;
    avro_value_get_bytes(&branch, &b, &n);
    assert_int_equal(n, 2);
    assert_memory_equal(b, "\x30\x39", 2);
    flat_json_render(fs, &v, &json);
    assert_orders_json(json.data, "Laptop", "u", 0);
    strbuf_release(&json);
    strbuf_release(&out);
    avro_reader_free(r);
    avro_value_decref(&v);
    avro_value_iface_decref(iface);
    avro_schema_decref(flat);
    fx_destroy(fx);
}

static void test_renamed_and_excluded_columns(void **state)
{
    (void)state;
    char err[256];
    struct columns_rules *rules = columns_rules_new(NULL, "status,created_at,updated_at",
                                                    "orderid:order_id", err, sizeof err);
    struct fx *fx = fx_new("orders_value_v1.avsc", rules);
    orders_envelope(fx, "c", NULL, "Laptop");
    char *json = flatten_json(fx);
    assert_string_equal(json, "{\"order_id\":\"42\",\"product_name\":\"Laptop\",\"quantity\":3,"
                              "\"price\":\"123.45\",\"customer_id\":null,\"__op\":\"c\","
                              "\"__lsn\":23803720,\"__txid\":771,\"__source_ts_ms\":"
                              "1704067200999,\"__table\":\"orders\",\"__deleted\":false}");
    free(json);
    fx_destroy(fx);
    columns_rules_destroy(rules);
}

static void test_debezium_types_render_as_plain_json(void **state)
{
    (void)state;
    static const unsigned char balance[] = {0xfe, 0x1d, 0xc0}; /* -123456 -> -12.3456 */
    struct fx *fx = fx_new("debezium_customers_value.avsc", NULL);
    set_null(&fx->env, "before");
    avro_value_t row = field(&fx->env, "after", 0);
    set_long(&row, "id", 1001);
    set_str(&row, "uid", "9f0c4b1e-5a4f-4b8e-9a8c-1d2e3f405060");
    set_str(&row, "first_name", "Sally \"Q\"\n");
    set_null(&row, "email");
    set_bytes(&row, "balance", balance, sizeof balance);
    set_long(&row, "birth", 19723);
    set_long(&row, "seen_at", 1704067200123LL);
    set_long(&row, "changed_at", -1);
    avro_value_t v = field(&row, "active", 0);
    avro_value_set_boolean(&v, 1);
    v = field(&row, "score", 0);
    avro_value_set_double(&v, 1.5);
    v = field(&row, "tier", 0);
    avro_value_set_enum(&v, 2);
    set_bytes(&row, "photo", "ab", 2);
    avro_value_t src = field(&fx->env, "source", 0);
    set_str(&src, "version", "2.5.0.Final");
    set_str(&src, "connector", "postgresql");
    set_str(&src, "name", "dbserver1");
    set_long(&src, "ts_ms", 1559033904863LL);
    set_str(&src, "snapshot", "false");
    set_str(&src, "db", "postgres");
    set_null(&src, "sequence");
    set_str(&src, "schema", "inventory");
    set_str(&src, "table", "customers");
    set_long(&src, "txId", 555);
    set_null(&src, "lsn");
    set_null(&src, "xmin");
    set_str(&fx->env, "op", "c");
    set_null(&fx->env, "ts_ms");
    set_null(&fx->env, "transaction");
    encode(fx);
    char *json = flatten_json(fx);
    assert_string_equal(
        json, "{\"id\":1001,\"uid\":\"9f0c4b1e-5a4f-4b8e-9a8c-1d2e3f405060\",\"first_name\":"
              "\"Sally \\\"Q\\\"\\n\",\"email\":null,\"balance\":\"-12.3456\",\"birth\":"
              "\"2024-01-01\",\"seen_at\":\"2024-01-01T00:00:00.123Z\",\"changed_at\":"
              "\"1969-12-31T23:59:59.999999Z\",\"active\":true,\"score\":1.5,\"tier\":\"gold\","
              "\"photo\":\"YWI=\",\"__op\":\"c\",\"__lsn\":null,\"__txid\":555,"
              "\"__source_ts_ms\":1559033904863,\"__table\":\"customers\",\"__deleted\":false}");
    free(json);
    fx_destroy(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_update_snapshot_flatten_the_after_image),
        cmocka_unit_test(test_delete_flattens_the_before_image_marked_deleted),
        cmocka_unit_test(test_truncate_is_skipped_and_bad_ops_are_errors),
        cmocka_unit_test(test_truncated_avro_is_a_decode_error),
        cmocka_unit_test(test_avro_output_is_framed_and_reads_back),
        cmocka_unit_test(test_renamed_and_excluded_columns),
        cmocka_unit_test(test_debezium_types_render_as_plain_json),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
