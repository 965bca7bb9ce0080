/* Unit tests of transformer/value_text: exact decimals, ISO-8601 times, base64. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "value_text.h"

static char *decimal(const unsigned char *b, size_t n, int scale)
{
    struct strbuf sb = STRBUF_INIT;
    value_text_decimal(b, n, scale, &sb);
    return strbuf_detach(&sb);
}

#define assert_decimal(expected, scale, ...)                                                       \
    do {                                                                                           \
        const unsigned char b_[] = {__VA_ARGS__};                                                  \
        char *s_ = decimal(b_, sizeof b_, scale);                                                  \
        assert_string_equal(s_, expected);                                                         \
        free(s_);                                                                                  \
    } while (0)

static void test_decimal_keeps_every_scale_digit(void **state)
{
    (void)state;
    assert_decimal("123.45", 2, 0x30, 0x39); /* 12345 */
    assert_decimal("10.00", 2, 0x03, 0xe8);  /* 1000 */
    assert_decimal("0.05", 2, 0x05);         /* 5 */
    assert_decimal("0.00", 2, 0x00);         /* 0 */
    assert_decimal("-12.30", 2, 0xfb, 0x32); /* -1230 */
    assert_decimal("-0.01", 2, 0xff);        /* -1 */
    assert_decimal("-128", 0, 0x80);         /* -128 */
    assert_decimal("255", 0, 0x00, 0xff);    /* 255: the leading 0 keeps it positive */
    assert_decimal("0.0000000001", 10, 0x01);
    char *zero = decimal(NULL, 0, 3);
    assert_string_equal(zero, "0.000");
    free(zero);
}

static void test_decimal_of_any_length_is_exact(void **state)
{
    (void)state;
    /* 2^127 - 1 = 170141183460469231731687303715884105727 */
    assert_decimal("1701411834604692317316873037.15884105727", 11, 0x7f, 0xff, 0xff, 0xff, 0xff,
                   0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff);
    /* -2^127 */
    assert_decimal("-170141183460469231731687303715884105728", 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                   0, 0, 0, 0, 0, 0);
    /* 10^18 = 0x0de0b6b3a7640000: the 9-digit chunks keep their inner zeros */
    assert_decimal("1000000000000000000", 0, 0x0d, 0xe0, 0xb6, 0xb3, 0xa7, 0x64, 0x00, 0x00);
    assert_decimal("1000000000.000000000", 9, 0x0d, 0xe0, 0xb6, 0xb3, 0xa7, 0x64, 0x00, 0x00);
}

static char *timestamp(int64_t v, int64_t units)
{
    struct strbuf sb = STRBUF_INIT;
    value_text_timestamp(v, units, &sb);
    return strbuf_detach(&sb);
}

static void test_timestamps_are_iso8601_utc(void **state)
{
    (void)state;
    char *s = timestamp(1704067200123456LL, 1000000);
    assert_string_equal(s, "2024-01-01T00:00:00.123456Z");
    free(s);
    s = timestamp(1704067200123LL, 1000);
    assert_string_equal(s, "2024-01-01T00:00:00.123Z");
    free(s);
    s = timestamp(-1, 1000000); /* one microsecond before the epoch */
    assert_string_equal(s, "1969-12-31T23:59:59.999999Z");
    free(s);
    s = timestamp(INT64_MAX, 1000000);
    assert_string_equal(s, "infinity");
    free(s);
    s = timestamp(INT64_MIN, 1000000);
    assert_string_equal(s, "-infinity");
    free(s);
    s = timestamp(400000000000000000LL, 1000000); /* year > 9999: the number */
    assert_string_equal(s, "400000000000000000");
    free(s);
}

static void test_dates_times_and_base64(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    value_text_date(19723, &sb);
    strbuf_puts(&sb, " ");
    value_text_date(-1, &sb);
    strbuf_puts(&sb, " ");
    value_text_time(45296789012LL, 1000000, &sb);
    strbuf_puts(&sb, " ");
    value_text_base64((const unsigned char *)"\x00\xff\x10", 3, &sb);
    strbuf_puts(&sb, " ");
    value_text_base64((const unsigned char *)"ab", 2, &sb);
    assert_string_equal(sb.data, "2024-01-01 1969-12-31 12:34:56.789012 AP8Q YWI=");
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_decimal_keeps_every_scale_digit),
        cmocka_unit_test(test_decimal_of_any_length_is_exact),
        cmocka_unit_test(test_timestamps_are_iso8601_utc),
        cmocka_unit_test(test_dates_times_and_base64),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
