/* Unit tests of connector/avro_binary.c against the byte sequences of the Avro specification's
 * "Binary Encoding" section. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "avro_binary.h"

static void expect_long(int64_t v, const char *bytes, size_t n)
{
    struct strbuf sb = STRBUF_INIT;
    avrobin_long(&sb, v);
    assert_int_equal(sb.len, n);
    assert_memory_equal(sb.data, bytes, n);
    strbuf_release(&sb);
}

static void test_longs_are_zigzag_varints(void **state)
{
    (void)state;
    /* the specification's table: 0 -> 00, -1 -> 01, 1 -> 02, -2 -> 03, 2 -> 04, -64 -> 7f,
     * 64 -> 80 01 */
    expect_long(0, "\x00", 1);
    expect_long(-1, "\x01", 1);
    expect_long(1, "\x02", 1);
    expect_long(-2, "\x03", 1);
    expect_long(2, "\x04", 1);
    expect_long(-64, "\x7f", 1);
    expect_long(64, "\x80\x01", 2);
    expect_long(INT64_MAX, "\xfe\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
    expect_long(INT64_MIN, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 10);
}

static void test_floats_are_little_endian_ieee754(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    avrobin_float(&sb, 1.5f);  /* 0x3fc00000 */
    avrobin_double(&sb, -2.0); /* 0xc000000000000000 */
    avrobin_boolean(&sb, 7);   /* any true value is 1 */
    assert_int_equal(sb.len, 13);
    assert_memory_equal(sb.data, "\x00\x00\xc0\x3f\x00\x00\x00\x00\x00\x00\x00\xc0\x01", 13);
    strbuf_release(&sb);
}

static void test_bytes_carry_their_length(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    avrobin_bytes(&sb, "foo", 3); /* the specification's example: 06 66 6f 6f */
    avrobin_bytes(&sb, NULL, 0);
    assert_int_equal(sb.len, 5);
    assert_memory_equal(sb.data, "\x06\x66\x6f\x6f\x00", 5);
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_longs_are_zigzag_varints),
        cmocka_unit_test(test_floats_are_little_endian_ieee754),
        cmocka_unit_test(test_bytes_carry_their_length),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
