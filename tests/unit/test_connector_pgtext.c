/* Unit tests of connector/pgtext.c: PostgreSQL text output to Avro representations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pgtext.h"

static void assert_decimal(const char *text, int scale, const char *hex)
{
    char err[256], got[128] = "";
    struct strbuf sb = STRBUF_INIT;
    if (pgtext_decimal(text, strlen(text), scale, &sb, err, sizeof err) != 0)
        fail_msg("%s: %s", text, err);
    for (size_t i = 0; i < sb.len; i++)
        snprintf(got + 2 * i, 3, "%02x", (unsigned char)sb.data[i]);
    if (strcmp(got, hex) != 0)
        fail_msg("%s at scale %d: got %s, want %s", text, scale, got, hex);
    strbuf_release(&sb);
}

static void test_decimal_is_minimal_twos_complement(void **state)
{
    (void)state;
    assert_decimal("0", 2, "00");
    assert_decimal("0.00", 2, "00");
    assert_decimal("-0.00", 2, "00");
    assert_decimal("1.00", 2, "64");
    assert_decimal("1.27", 2, "7f");
    assert_decimal("1.28", 2, "0080");
    assert_decimal("-1.28", 2, "80");
    assert_decimal("-1.29", 2, "ff7f");
    assert_decimal("-2.56", 2, "ff00");
    assert_decimal("499.99", 2, "00c34f");
    assert_decimal("12345678.90", 2, "499602d2");
    assert_decimal("-12345678.90", 2, "b669fd2e");
    assert_decimal("10.5", 2, "041a"); /* fewer fractional digits than the scale */
    assert_decimal("7", 0, "07");
    assert_decimal("99999999999999999999999999999999999999", 0, "4b3b4ca85a86c47a098a223fffffffff");
}

static void test_decimal_rejects_nan_and_garbage(void **state)
{
    (void)state;
    char err[256];
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(pgtext_decimal("NaN", 3, 2, &sb, err, sizeof err), -1);
    assert_non_null(strstr(err, "'NaN'"));
    assert_int_equal(pgtext_decimal("1.234", 5, 2, &sb, err, sizeof err), -1);
    assert_int_equal(pgtext_decimal("", 0, 2, &sb, err, sizeof err), -1);
    assert_int_equal(pgtext_decimal("1e5", 3, 2, &sb, err, sizeof err), -1);
    assert_int_equal(pgtext_decimal("-", 1, 2, &sb, err, sizeof err), -1);
    strbuf_release(&sb);
}

static int32_t date(const char *text)
{
    char err[256];
    int32_t days = 12345;
    if (pgtext_date(text, strlen(text), &days, err, sizeof err) != 0)
        fail_msg("%s: %s", text, err);
    return days;
}

static int64_t ts(const char *text)
{
    char err[256];
    int64_t micros = 12345;
    if (pgtext_timestamp(text, strlen(text), &micros, err, sizeof err) != 0)
        fail_msg("%s: %s", text, err);
    return micros;
}

static void test_dates_count_days_from_1970(void **state)
{
    (void)state;
    assert_int_equal(date("1970-01-01"), 0);
    assert_int_equal(date("2024-02-29"), 19782);
    assert_int_equal(date("1969-12-31"), -1);
    assert_int_equal(date("1900-03-01"), -25508);
    assert_int_equal(date("0001-01-01"), -719162);
    assert_int_equal(date("0001-12-31 BC"), -719163); /* the day before 0001-01-01 */
    assert_int_equal(date("infinity"), INT32_MAX);
    assert_int_equal(date("-infinity"), INT32_MIN);
}

static void test_timestamps_are_utc_micros(void **state)
{
    (void)state;
    assert_true(ts("1970-01-01 00:00:00+00") == 0);
    assert_true(ts("1970-01-01 00:00:00") == 0);
    assert_true(ts("2024-02-29 12:34:56.789+00") == 1709210096789000LL);
    assert_true(ts("2024-02-29 12:34:56.000001+00") == 1709210096000001LL);
    assert_true(ts("2024-02-29 18:04:56.789+05:30") == 1709210096789000LL);
    assert_true(ts("2024-02-29 02:34:56.789-10") == 1709210096789000LL);
    assert_true(ts("1969-12-31 23:59:59.5+00") == -500000LL);
    assert_true(ts("infinity") == INT64_MAX);
    assert_true(ts("-infinity") == INT64_MIN);
}

static void test_bad_dates_and_timestamps_are_named(void **state)
{
    (void)state;
    char err[256];
    int32_t d;
    int64_t t;
    assert_int_equal(pgtext_date("29.02.2024", 10, &d, err, sizeof err), -1);
    assert_non_null(strstr(err, "'29.02.2024' is not an ISO date"));
    assert_int_equal(pgtext_timestamp("2024-02-29T12:00:00", 19, &t, err, sizeof err), -1);
    assert_int_equal(pgtext_timestamp("2024-02-29 12:00:00.1234567", 27, &t, err, sizeof err), -1);
    assert_int_equal(pgtext_timestamp("2024-02-29 12:00:00+0", 21, &t, err, sizeof err), -1);
}

static void test_bytea_hex(void **state)
{
    (void)state;
    char err[256];
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(pgtext_bytea("\\x00ff7A", 8, &sb, err, sizeof err), 0);
    assert_int_equal(sb.len, 3);
    assert_memory_equal(sb.data, "\x00\xff\x7a", 3);
    assert_int_equal(pgtext_bytea("\\x", 2, &sb, err, sizeof err), 0);
    assert_int_equal(sb.len, 3);
    assert_int_equal(pgtext_bytea("\\001", 4, &sb, err, sizeof err), -1);
    assert_int_equal(pgtext_bytea("\\x0g", 4, &sb, err, sizeof err), -1);
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_is_minimal_twos_complement),
        cmocka_unit_test(test_decimal_rejects_nan_and_garbage),
        cmocka_unit_test(test_dates_count_days_from_1970),
        cmocka_unit_test(test_timestamps_are_utc_micros),
        cmocka_unit_test(test_bad_dates_and_timestamps_are_named),
        cmocka_unit_test(test_bytea_hex),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
