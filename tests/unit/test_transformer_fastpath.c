/* Unit tests of the flatten fast path (transformer/envelope_walk + flatten_scan/emit): for every
 * op and every column type the connector emits (required and nullable, null and set), its
 * output equals the generic avro-c path's (flatten_record + flatten_write_avro, kept as the
 * reference) byte for byte; malformed envelopes (truncated, bad lengths, huge varints, random
 * byte damage) are decode errors for the dead-letter queue, never a crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <cmocka.h>

#include "flatten.h"
#include "strbuf.h"
#include "xalloc.h"

/* One column of each type the connector emits (connector/avro_schema.c), required and
 * nullable, then a few the walker must skip too (enum, fixed, array, map). */
static const char *const column_types[][2] = {
    {"b", "\"boolean\""},
    {"i", "\"int\""},
    {"l", "\"long\""},
    {"f", "\"float\""},
    {"d", "\"double\""},
    {"by", "\"bytes\""},
    {"dec", "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":10,\"scale\":2}"},
    {"dt", "{\"type\":\"int\",\"logicalType\":\"date\"}"},
    {"ts", "{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}"},
    {"u", "{\"type\":\"string\",\"logicalType\":\"uuid\"}"},
    {"s", "\"string\""},
};

static const char skipped_types[] =
    "{\"name\":\"e\",\"type\":[\"null\",{\"type\":\"enum\",\"name\":\"E\","
    "\"symbols\":[\"x\",\"y\",\"z\"]}]},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":3}},"
    "{\"name\":\"arr\",\"type\":{\"type\":\"array\",\"items\":[\"null\",\"long\"]}},"
    "{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"string\"}}";

/* The rest of the envelope: after, the connector's source record, op, ts_ms. */
static const char envelope_tail[] =
    "]}],\"default\":null},"
    "{\"name\":\"after\",\"type\":[\"null\",\"Value\"],\"default\":null},"
    "{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":\"Source\",\"namespace\":"
    "\"salescdc.connector.postgresql\",\"fields\":[{\"name\":\"version\",\"type\":\"string\"},"
    "{\"name\":\"connector\",\"type\":\"string\"},{\"name\":\"name\",\"type\":\"string\"},"
    "{\"name\":\"ts_ms\",\"type\":\"long\"},{\"name\":\"db\",\"type\":\"string\"},"
    "{\"name\":\"schema\",\"type\":\"string\"},{\"name\":\"table\",\"type\":\"string\"},"
    "{\"name\":\"txId\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"lsn\",\"type\":[\"null\",\"long\"],\"default\":null}]}},"
    "{\"name\":\"op\",\"type\":\"string\"},"
    "{\"name\":\"ts_ms\",\"type\":[\"null\",\"long\"],\"default\":null}]}";

/* The all-types envelope schema (caller frees). */
static char *all_types_schema(void)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"t.public.all\","
                     "\"fields\":[{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\","
                     "\"name\":\"Value\",\"fields\":[");
    for (size_t i = 0; i < sizeof column_types / sizeof *column_types; i++)
        strbuf_printf(&sb,
                      "{\"name\":\"%s\",\"type\":%s},"
                      "{\"name\":\"%s_n\",\"type\":[\"null\",%s],\"default\":null},",
                      column_types[i][0], column_types[i][1], column_types[i][0],
                      column_types[i][1]);
    strbuf_puts(&sb, skipped_types);
    strbuf_puts(&sb, envelope_tail);
    return strbuf_detach(&sb);
}

struct fx {
    char *text;
    avro_schema_t schema;
    avro_value_iface_t *iface;
    avro_value_t env;
    struct flatten_plan *plan;
    char bytes[1 << 16];
    size_t len;
    uint64_t rng;
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

static struct fx *fx_new(char *text, const struct columns_rules *rules)
{
    char err[512];
    struct fx *fx = xcalloc(1, sizeof *fx);
    fx->text = text;
    fx->rng = 0x9E3779B97F4A7C15ULL;
    if (avro_schema_from_json_length(fx->text, strlen(fx->text), &fx->schema) != 0)
        fail_msg("schema: %s", avro_strerror());
    fx->iface = avro_generic_class_from_schema(fx->schema);
    assert_int_equal(avro_generic_value_new(fx->iface, &fx->env), 0);
    fx->plan = flatten_plan_new(fx->text, rules, err, sizeof err);
    if (!fx->plan)
        fail_msg("plan: %s", err);
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

static uint64_t next(struct fx *fx)
{
    fx->rng ^= fx->rng << 13;
    fx->rng ^= fx->rng >> 7;
    fx->rng ^= fx->rng << 17;
    return fx->rng;
}

/* Values that stress the encodings: 0, ±1, one-byte and ten-byte varints, extremes. */
static int64_t some_long(struct fx *fx)
{
    static const int64_t picks[] = {0,
                                    1,
                                    -1,
                                    63,
                                    -64,
                                    64,
                                    8191,
                                    -8192,
                                    INT32_MAX,
                                    INT32_MIN,
                                    INT64_MAX,
                                    INT64_MIN,
                                    1704067200123456LL};
    uint64_t r = next(fx);
    return r % 3 ? picks[r % (sizeof picks / sizeof *picks)] : (int64_t)next(fx);
}

static void some_bytes(struct fx *fx, char *buf, size_t *n)
{
    *n = next(fx) % 5 == 0 ? 0 : next(fx) % 200;
    for (size_t i = 0; i < *n; i++)
        buf[i] = (char)next(fx);
}

/* Fills V (any type) with random content; unions pick a random branch. */
static void fill(struct fx *fx, avro_value_t *v, int depth)
{
    char buf[256];
    size_t n = 0;
    avro_value_t item, branch;
    switch (avro_value_get_type(v)) {
    case AVRO_BOOLEAN: avro_value_set_boolean(v, (int)(next(fx) & 1)); break;
    case AVRO_INT32: avro_value_set_int(v, (int32_t)some_long(fx)); break;
    case AVRO_INT64: avro_value_set_long(v, some_long(fx)); break;
    case AVRO_FLOAT: avro_value_set_float(v, (float)some_long(fx) / 3.0f); break;
    case AVRO_DOUBLE: avro_value_set_double(v, (double)some_long(fx) / 7.0); break;
    case AVRO_NULL: avro_value_set_null(v); break;
    case AVRO_STRING:
        some_bytes(fx, buf, &n);
        for (size_t i = 0; i < n; i++)
            buf[i] = (char)(' ' + (unsigned char)buf[i] % 90);
        buf[n] = '\0';
        avro_value_set_string(v, buf);
        break;
    case AVRO_BYTES:
        some_bytes(fx, buf, &n);
        avro_value_set_bytes(v, buf, n);
        break;
    case AVRO_FIXED: avro_value_set_fixed(v, "abc", 3); break;
    case AVRO_ENUM: avro_value_set_enum(v, (int)(next(fx) % 3)); break;
    case AVRO_UNION:
        avro_value_set_branch(v, (int)(next(fx) % 2), &branch);
        fill(fx, &branch, depth + 1);
        break;
    case AVRO_ARRAY:
        for (size_t i = 0, k = next(fx) % 4; i < k; i++) {
            avro_value_append(v, &item, NULL);
            fill(fx, &item, depth + 1);
        }
        break;
    case AVRO_MAP:
        for (size_t i = 0, k = next(fx) % 3; i < k; i++) {
            snprintf(buf, sizeof buf, "k%zu", i);
            avro_value_add(v, buf, &item, NULL, NULL);
            fill(fx, &item, depth + 1);
        }
        break;
    case AVRO_RECORD:
        avro_value_get_size(v, &n);
        for (size_t i = 0; i < n; i++) {
            avro_value_get_by_index(v, i, &item, NULL);
            fill(fx, &item, depth + 1);
        }
        break;
    default: fail_msg("type %d not filled", (int)avro_value_get_type(v));
    }
}

/* Union field NAME of REC set to its record/other branch (or null). */
static avro_value_t branch_of(avro_value_t *rec, const char *name, int null)
{
    avro_value_t f, b;
    assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
    if (avro_value_get_type(&f) != AVRO_UNION)
        return f;
    avro_schema_t first = avro_schema_union_branch(avro_value_get_schema(&f), 0);
    assert_int_equal(
        avro_value_set_branch(&f, null == (avro_typeof(first) == AVRO_NULL) ? 0 : 1, &b), 0);
    if (null)
        avro_value_set_null(&b);
    return b;
}

/* A random envelope with op OP (its image(s) set, the other maybe null), encoded. */
static void random_envelope(struct fx *fx, const char *op)
{
    avro_value_reset(&fx->env);
    fill(fx, &fx->env, 0);
    int has_before = op[0] == 'd' || (op[0] == 'u' && next(fx) % 2);
    int has_after = op[0] != 'd' && op[0] != 't';
    avro_value_t row = branch_of(&fx->env, "before", !has_before);
    if (has_before)
        fill(fx, &row, 1);
    row = branch_of(&fx->env, "after", !has_after);
    if (has_after)
        fill(fx, &row, 1);
    avro_value_t src = branch_of(&fx->env, "source", 0), v;
    v = branch_of(&src, "table", 0);
    avro_value_set_string(&v, next(fx) % 2 ? "orders" : "");
    v = branch_of(&src, "ts_ms", 0);
    avro_value_get_type(&v) == AVRO_INT32 ? avro_value_set_int(&v, 1)
                                          : avro_value_set_long(&v, some_long(fx));
    v = branch_of(&fx->env, "op", 0);
    avro_value_set_string(&v, op);
    avro_writer_t w = avro_writer_memory(fx->bytes, sizeof fx->bytes);
    assert_int_equal(avro_value_write(w, &fx->env), 0);
    fx->len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
}

/* Runs both paths over BYTES[0..LEN): same result, same decode/content verdict, and (when both
 * publish and EXACT) the same bytes. Returns the result. */
static enum flatten_result both_paths(struct fx *fx, const char *bytes, size_t len, int exact)
{
    char e1[512], e2[512];
    struct strbuf ref = STRBUF_INIT, fast = STRBUF_INIT;
    enum flatten_result g = flatten_record(fx->plan, bytes, len, e1, sizeof e1);
    int g_decode = flatten_last_error_was_decode(fx->plan);
    if (g == FLATTEN_OK)
        assert_int_equal(flatten_write_avro(fx->plan, 4242, &ref, e1, sizeof e1), 0);
    /* an exactly sized copy, so that an overread is caught under ASan */
    char *copy = xmalloc(len ? len : 1);
    memcpy(copy, bytes, len);
    enum flatten_result f = flatten_scan(fx->plan, copy, len, e2, sizeof e2);
    if (f != g)
        fail_msg("generic %d (%s) vs fast %d (%s)", g, g == FLATTEN_OK ? "" : e1, f, e2);
    if (f == FLATTEN_ERROR)
        assert_int_equal(flatten_last_error_was_decode(fx->plan), g_decode);
    if (f == FLATTEN_OK) {
        flatten_emit_avro(fx->plan, 4242, &fast);
        if (exact) {
            assert_int_equal(fast.len, ref.len);
            assert_memory_equal(fast.data, ref.data, ref.len);
        }
    }
    free(copy);
    strbuf_release(&ref);
    strbuf_release(&fast);
    return f;
}

static void every_op_equal(struct fx *fx, int rounds)
{
    static const char *const ops[] = {"c", "u", "r", "d"};
    for (int r = 0; r < rounds; r++) {
        for (int o = 0; o < 4; o++) {
            random_envelope(fx, ops[o]);
            assert_int_equal(both_paths(fx, fx->bytes, fx->len, 1), FLATTEN_OK);
        }
    }
    random_envelope(fx, "t");
    assert_int_equal(both_paths(fx, fx->bytes, fx->len, 1), FLATTEN_SKIP);
}

static void test_every_op_and_column_type_matches_the_generic_path(void **state)
{
    (void)state;
    struct fx *fx = fx_new(all_types_schema(), NULL);
    every_op_equal(fx, 300);
    fx_destroy(fx);
}

static void test_fixture_envelopes_match_the_generic_path(void **state)
{
    (void)state;
    const char *files[] = {"orders_value_v1.avsc", "orders_value_v2.avsc",
                           "debezium_customers_value.avsc"};
    for (size_t i = 0; i < 3; i++) {
        struct fx *fx = fx_new(fixture(files[i]), NULL);
        every_op_equal(fx, 100);
        fx_destroy(fx);
    }
}

static void test_excluded_and_renamed_columns_copy_per_column(void **state)
{
    (void)state;
    char err[256];
    const char *cases[][3] = {
        {"", "i,i_n,dec_n,m", "s:text,b:flag"}, /* holes: per-column copy */
        {"b,l_n,ts,s_n,arr", "", ""},           /* a few kept */
        {"", "", "u:id,ts:changed_at"},         /* renames only: the row verbatim */
    };
    for (size_t c = 0; c < 3; c++) {
        struct columns_rules *rules =
            columns_rules_new(cases[c][0], cases[c][1], cases[c][2], err, sizeof err);
        assert_non_null(rules);
        struct fx *fx = fx_new(all_types_schema(), rules);
        every_op_equal(fx, 50);
        fx_destroy(fx);
        columns_rules_destroy(rules);
    }
}

static void test_bad_content_is_the_same_error_on_both_paths(void **state)
{
    (void)state;
    struct fx *fx = fx_new(all_types_schema(), NULL);
    const char *bad_ops[] = {"x", "", "cc", "D"};
    for (size_t i = 0; i < 4; i++) {
        random_envelope(fx, bad_ops[i]);
        assert_int_equal(both_paths(fx, fx->bytes, fx->len, 1), FLATTEN_ERROR);
        assert_false(flatten_last_error_was_decode(fx->plan));
    }
    random_envelope(fx, "c"); /* an insert without its after image */
    avro_value_t row = branch_of(&fx->env, "after", 1);
    (void)row;
    avro_writer_t w = avro_writer_memory(fx->bytes, sizeof fx->bytes);
    assert_int_equal(avro_value_write(w, &fx->env), 0);
    fx->len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    assert_int_equal(both_paths(fx, fx->bytes, fx->len, 1), FLATTEN_ERROR);
    fx_destroy(fx);
}

static void test_truncated_envelopes_are_decode_errors(void **state)
{
    (void)state;
    char err[256];
    struct fx *fx = fx_new(all_types_schema(), NULL);
    for (int r = 0; r < 20; r++) {
        random_envelope(fx, r % 2 ? "u" : "d");
        for (size_t n = 0; n < fx->len; n++) {
            char *copy = xmalloc(n ? n : 1);
            memcpy(copy, fx->bytes, n);
            assert_int_equal(flatten_scan(fx->plan, copy, n, err, sizeof err), FLATTEN_ERROR);
            assert_true(flatten_last_error_was_decode(fx->plan));
            free(copy);
        }
        /* a byte too many */
        fx->bytes[fx->len] = 0;
        assert_int_equal(flatten_scan(fx->plan, fx->bytes, fx->len + 1, err, sizeof err),
                         FLATTEN_ERROR);
        assert_non_null(strstr(err, "left over"));
    }
    fx_destroy(fx);
}

static void test_huge_varints_and_lengths_are_decode_errors(void **state)
{
    (void)state;
    char err[256];
    struct fx *fx = fx_new(fixture("orders_value_v1.avsc"), NULL);
    /* before: null (0), after: branch 1, orderid: a length that is ... */
    static const unsigned char huge_varint[] = {0,    2,    0xff, 0xff, 0xff, 0xff, 0xff,
                                                0xff, 0xff, 0xff, 0xff, 0xff, 0x01};
    static const unsigned char negative_len[] = {0, 2, 0x03, 'a', 'b'};
    static const unsigned char past_end[] = {0, 2, 0xfe, 0xff, 0xff, 0xff, 0x0f, 'a'};
    static const unsigned char bad_branch[] = {0, 4};
    static const unsigned char neg_branch[] = {0, 1};
    const struct {
        const unsigned char *b;
        size_t n;
        const char *why;
    } cases[] = {
        {huge_varint, sizeof huge_varint, "longer than 10 bytes"},
        {negative_len, sizeof negative_len, "negative"},
        {past_end, sizeof past_end, "past the end"},
        {bad_branch, sizeof bad_branch, "branch index"},
        {neg_branch, sizeof neg_branch, "branch index"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        assert_int_equal(flatten_scan(fx->plan, cases[i].b, cases[i].n, err, sizeof err),
                         FLATTEN_ERROR);
        assert_true(flatten_last_error_was_decode(fx->plan));
        if (!strstr(err, cases[i].why))
            fail_msg("case %zu: '%s' does not say '%s'", i, err, cases[i].why);
        assert_int_equal(both_paths(fx, (const char *)cases[i].b, cases[i].n, 1), FLATTEN_ERROR);
    }
    fx_destroy(fx);
}

/* Every byte of valid envelopes overwritten with values that break varints, lengths and
 * branches: both paths agree on publish / skip / error (bytes may differ from the reference
 * only where the damage made a non-canonical but valid encoding). */
static void test_damaged_bytes_agree_with_the_generic_path(void **state)
{
    (void)state;
    static const unsigned char damage[] = {0x00, 0x01, 0x7f, 0x80, 0xff, 0x3f};
    struct fx *fx = fx_new(all_types_schema(), NULL);
    char *copy = xmalloc(sizeof fx->bytes);
    for (int r = 0; r < 6; r++) {
        random_envelope(fx, r % 3 == 0 ? "c" : r % 3 == 1 ? "u" : "d");
        for (size_t i = 0; i < fx->len; i++) {
            for (size_t d = 0; d < sizeof damage; d++) {
                memcpy(copy, fx->bytes, fx->len);
                copy[i] = (char)damage[d];
                both_paths(fx, copy, fx->len, 0);
            }
        }
    }
    free(copy);
    fx_destroy(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_op_and_column_type_matches_the_generic_path),
        cmocka_unit_test(test_fixture_envelopes_match_the_generic_path),
        cmocka_unit_test(test_excluded_and_renamed_columns_copy_per_column),
        cmocka_unit_test(test_bad_content_is_the_same_error_on_both_paths),
        cmocka_unit_test(test_truncated_envelopes_are_decode_errors),
        cmocka_unit_test(test_huge_varints_and_lengths_are_decode_errors),
        cmocka_unit_test(test_damaged_bytes_agree_with_the_generic_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
