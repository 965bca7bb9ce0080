/* Unit tests of the S3 sink's pure rules: object keys, table names, flush rules, value text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flush_rules.h"
#include "object_key.h"
#include "value_format.h"

static void key_has_prefix_table_partitions_topic_partition_and_padded_offset(void **state)
{
    (void)state;
    char *k = sink_object_key("lake/raw/", "orders", "dt=2024-01-02/hour=03",
                              "sales.public.orders.flat", 2, 1234, "json.gz");
    assert_string_equal(k, "lake/raw/orders/dt=2024-01-02/hour=03/"
                           "sales.public.orders.flat+2+00000000000000001234.json.gz");
    free(k);
}

static void key_without_prefix_or_partitions(void **state)
{
    (void)state;
    char *k = sink_object_key("", "orders", "", "t", 0, 0, "avro");
    assert_string_equal(k, "orders/t+0+00000000000000000000.avro");
    free(k);
    k = sink_object_key("//", "orders", "", "t", 7, INT64_MAX, "json");
    assert_string_equal(k, "orders/t+7+09223372036854775807.json");
    free(k);
}

static void keys_sort_by_offset(void **state)
{
    (void)state;
    char *a = sink_object_key("p", "t", "", "topic", 0, 99, "json");
    char *b = sink_object_key("p", "t", "", "topic", 0, 100, "json");
    assert_true(strcmp(a, b) < 0);
    free(a);
    free(b);
}

static void table_location_ends_with_slash(void **state)
{
    (void)state;
    char *l = sink_table_location("pre/", "orders");
    assert_string_equal(l, "pre/orders/");
    free(l);
    l = sink_table_location("", "orders");
    assert_string_equal(l, "orders/");
    free(l);
}

static void table_name_from_flat_topic(void **state)
{
    (void)state;
    char out[64], err[256];
    assert_int_equal(sink_table_name("sales.public.orders.flat", out, sizeof out, err, sizeof err),
                     0);
    assert_string_equal(out, "orders");
    assert_int_equal(sink_table_name("sales.test42.Orders.flat", out, sizeof out, err, sizeof err),
                     0);
    assert_string_equal(out, "test42_orders");
    assert_int_equal(sink_table_name("sales.public.my-table", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "my_table");
    assert_int_equal(sink_table_name("orders", out, sizeof out, err, sizeof err), 0);
    assert_string_equal(out, "orders");
}

static void table_name_refuses_empty_or_too_long(void **state)
{
    (void)state;
    char small[4], out[64], err[256];
    assert_int_equal(sink_table_name("sales.public..flat", out, sizeof out, err, sizeof err), -1);
    assert_non_null(strstr(err, "sales.public..flat"));
    assert_int_equal(
        sink_table_name("sales.public.orders.flat", small, sizeof small, err, sizeof err), -1);
}

static const struct sink_flush_rules rules = {
    .max_records = 3,
    .max_bytes = 100,
    .rotate_interval_ms = 60000,
    .idle_ms = 5000,
    .one_schema_per_object = 1,
};

static void flush_after_count_and_bytes(void **state)
{
    (void)state;
    struct sink_buffer_stats st = {0};
    sink_flush_account(&st, 10, 1, 1000, 1);
    assert_int_equal(sink_flush_after(&rules, &st), SINK_FLUSH_NONE);
    sink_flush_account(&st, 10, 1, 1000, 1);
    sink_flush_account(&st, 10, 1, 1000, 1);
    assert_int_equal(sink_flush_after(&rules, &st), SINK_FLUSH_RECORDS);
    struct sink_buffer_stats big = {0};
    sink_flush_account(&big, 100, 0, 0, 1);
    assert_int_equal(sink_flush_after(&rules, &big), SINK_FLUSH_BYTES);
}

static void flush_before_rotate_uses_record_time_span(void **state)
{
    (void)state;
    struct sink_buffer_stats st = {0};
    assert_int_equal(sink_flush_before(&rules, &st, 1, 0, 1), SINK_FLUSH_NONE); /* empty */
    sink_flush_account(&st, 1, 1, 100000, 1);
    assert_int_equal(sink_flush_before(&rules, &st, 1, 159999, 1), SINK_FLUSH_NONE);
    assert_int_equal(sink_flush_before(&rules, &st, 1, 160000, 1), SINK_FLUSH_ROTATE);
    /* a late record stretches the span backwards just the same */
    assert_int_equal(sink_flush_before(&rules, &st, 1, 40000, 1), SINK_FLUSH_ROTATE);
    assert_int_equal(sink_flush_before(&rules, &st, 0, 0, 1), SINK_FLUSH_NONE); /* no time */
}

static void flush_before_schema_change_only_when_asked(void **state)
{
    (void)state;
    struct sink_buffer_stats st = {0};
    sink_flush_account(&st, 1, 0, 0, 7);
    assert_int_equal(sink_flush_before(&rules, &st, 0, 0, 8), SINK_FLUSH_SCHEMA);
    struct sink_flush_rules json_rules = rules;
    json_rules.one_schema_per_object = 0;
    assert_int_equal(sink_flush_before(&json_rules, &st, 0, 0, 8), SINK_FLUSH_NONE);
}

static void idle_rule_on_wall_clock(void **state)
{
    (void)state;
    assert_false(sink_flush_idle_due(&rules, 1000, 5999));
    assert_true(sink_flush_idle_due(&rules, 1000, 6000));
    struct sink_flush_rules off = rules;
    off.idle_ms = 0;
    assert_false(sink_flush_idle_due(&off, 0, 1000000));
    assert_string_equal(sink_flush_reason_name(SINK_FLUSH_IDLE), "idle");
    assert_string_equal(sink_flush_reason_name(SINK_FLUSH_ROTATE), "rotate");
}

static void memory_bound_cuts_the_largest_partition(void **state)
{
    (void)state;
    struct sink_flush_rules r = rules;
    r.max_held_bytes = 1000;
    uint64_t within[] = {400, 0, 600};
    assert_int_equal(sink_flush_memory_victim(&r, within, 3), -1); /* 1000 is not over */
    uint64_t over[] = {400, 0, 601};
    assert_int_equal(sink_flush_memory_victim(&r, over, 3), 2);
    uint64_t largest_first[] = {900, 50, 60};
    assert_int_equal(sink_flush_memory_victim(&r, largest_first, 3), 0);
    uint64_t equals[] = {10, 700, 700};
    assert_int_equal(sink_flush_memory_victim(&r, equals, 3), 1);
    /* After the victim is cut, the rest is within the bound: no second cut. */
    equals[1] = 0;
    assert_int_equal(sink_flush_memory_victim(&r, equals, 3), -1);
    assert_int_equal(sink_flush_memory_victim(&r, NULL, 0), -1);
    r.max_held_bytes = 0; /* off */
    assert_int_equal(sink_flush_memory_victim(&r, over, 3), -1);
    assert_string_equal(sink_flush_reason_name(SINK_FLUSH_MEMORY), "memory");
}

/* Formats with F and compares with WANT. */
static void check_decimal(const unsigned char *bytes, size_t len, int scale, const char *want)
{
    struct strbuf sb = STRBUF_INIT;
    sink_format_decimal(&sb, bytes, len, scale);
    assert_string_equal(sb.data, want);
    strbuf_release(&sb);
}

static void decimals_are_exact(void **state)
{
    (void)state;
    const unsigned char d1230[] = {0x04, 0xce}; /* 1230 */
    const unsigned char dneg5[] = {0xfb};       /* -5 */
    const unsigned char d128[] = {0x00, 0x80};  /* 128 */
    const unsigned char dmin[] = {0x80};        /* -128 */
    /* 2^127 - 1 = 170141183460469231731687303715884105727 */
    unsigned char big[16];
    memset(big, 0xff, sizeof big);
    big[0] = 0x7f;
    check_decimal(d1230, 2, 2, "12.30");
    check_decimal(dneg5, 1, 2, "-0.05");
    check_decimal(d128, 2, 0, "128");
    check_decimal(dmin, 1, 1, "-12.8");
    check_decimal(NULL, 0, 2, "0.00");
    check_decimal(big, 16, 10, "17014118346046923173168730371.5884105727");
}

static void timestamps_dates_and_times_as_hive_text(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    sink_format_timestamp(&sb, 1704164645123456LL, 1000000, 6);
    assert_string_equal(sb.data, "2024-01-02 03:04:05.123456");
    strbuf_release(&sb);
    sink_format_timestamp(&sb, -1, 1000000, 6); /* one µs before the epoch */
    assert_string_equal(sb.data, "1969-12-31 23:59:59.999999");
    strbuf_release(&sb);
    sink_format_timestamp(&sb, 1704164645123LL, 1000, 3);
    assert_string_equal(sb.data, "2024-01-02 03:04:05.123");
    strbuf_release(&sb);
    sink_format_date(&sb, 19724);
    assert_string_equal(sb.data, "2024-01-02");
    strbuf_release(&sb);
    sink_format_date(&sb, -1);
    assert_string_equal(sb.data, "1969-12-31");
    strbuf_release(&sb);
    sink_format_time(&sb, 3723000001LL, 1000000, 6);
    assert_string_equal(sb.data, "01:02:03.000001");
    strbuf_release(&sb);
}

static void json_strings_and_base64(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    const char s[] = "a\"b\\c\n\x01\xc3\xa9";
    sink_format_json_string(&sb, s, sizeof s - 1);
    assert_string_equal(sb.data, "\"a\\\"b\\\\c\\n\\u0001\xc3\xa9\"");
    strbuf_release(&sb);
    sink_format_base64(&sb, (const unsigned char *)"foob", 4);
    assert_string_equal(sb.data, "Zm9vYg==");
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_has_prefix_table_partitions_topic_partition_and_padded_offset),
        cmocka_unit_test(key_without_prefix_or_partitions),
        cmocka_unit_test(keys_sort_by_offset),
        cmocka_unit_test(table_location_ends_with_slash),
        cmocka_unit_test(table_name_from_flat_topic),
        cmocka_unit_test(table_name_refuses_empty_or_too_long),
        cmocka_unit_test(flush_after_count_and_bytes),
        cmocka_unit_test(flush_before_rotate_uses_record_time_span),
        cmocka_unit_test(flush_before_schema_change_only_when_asked),
        cmocka_unit_test(idle_rule_on_wall_clock),
        cmocka_unit_test(memory_bound_cuts_the_largest_partition),
        cmocka_unit_test(decimals_are_exact),
        cmocka_unit_test(timestamps_dates_and_times_as_hive_text),
        cmocka_unit_test(json_strings_and_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
