/* Unit tests of transformer/avro_check: corrupt Avro is refused before avro-c allocates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <avro.h>
#include <cmocka.h>

#include "avro_check.h"

static avro_schema_t schema_of(const char *json)
{
    avro_schema_t s;
    assert_int_equal(avro_schema_from_json_length(json, strlen(json), &s), 0);
    return s;
}

static void expect(const char *schema_json, const char *bytes, size_t len, const char *message)
{
    char err[256] = "";
    avro_schema_t s = schema_of(schema_json);
    int rc = avro_check_datum(s, bytes, len, err, sizeof err);
    avro_schema_decref(s);
    if (!message) {
        assert_int_equal(rc, 0);
        return;
    }
    assert_int_equal(rc, -1);
    if (!strstr(err, message))
        fail_msg("error '%s' lacks '%s'", err, message);
}

static const char rec[] =
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"s\",\"type\":\"string\"},"
    "{\"name\":\"u\",\"type\":[\"null\",\"long\"]},{\"name\":\"e\",\"type\":{\"type\":\"enum\","
    "\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}},{\"name\":\"a\",\"type\":{\"type\":\"array\","
    "\"items\":\"int\"}},{\"name\":\"m\",\"type\":{\"type\":\"map\",\"values\":\"boolean\"}},"
    "{\"name\":\"f\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}},"
    "{\"name\":\"d\",\"type\":\"double\"}]}";

/* s="ab", u=long 1, e=B, a=[1,2] (one negative-count block with its size), m={"k":true},
 * f=0x0102, d=0.0 */
static const char good[] = "\x04"
                           "ab"
                           "\x02\x02"
                           "\x02"
                           "\x03\x04\x02\x04\x00"
                           "\x02\x02k\x01\x00"
                           "\x01\x02"
                           "\x00\x00\x00\x00\x00\x00\x00\x00";

static void test_well_formed_datum_passes(void **state)
{
    (void)state;
    expect(rec, good, sizeof good - 1, NULL);
}

static void test_every_truncation_is_refused(void **state)
{
    (void)state;
    for (size_t n = 0; n < sizeof good - 1; n++)
        expect(rec, good, n, "corrupt Avro");
}

static void test_corruptions_name_the_problem(void **state)
{
    (void)state;
    expect(rec, good, sizeof good, "1 bytes left over after the datum's 26");
    expect("\"string\"", "\xfe\xff\xff\xff\xff\xff\xff\xff\x7f", 9,
           "a length is negative or runs past the end");
    expect("\"bytes\"", "\x01", 1, "a length is negative");
    expect("[\"null\",\"int\"]", "\x04\x00", 2, "a union branch index is out of range");
    expect("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}", "\x02", 1,
           "an enum symbol index is out of range");
    expect("\"long\"", "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 11,
           "a number is longer than 10 bytes");
    expect("{\"type\":\"array\",\"items\":\"null\"}", "\xfe\xff\xff\xff\x0f", 5,
           "a block count exceeds the bytes left");
}

static void test_deep_nesting_is_refused(void **state)
{
    (void)state;
    const char *list = "{\"type\":\"record\",\"name\":\"L\",\"fields\":[{\"name\":\"next\","
                       "\"type\":[\"null\",\"L\"]}]}";
    char deep[200];
    memset(deep, 0x02, sizeof deep); /* branch 1 (another L) again and again */
    expect(list, deep, sizeof deep, "values nest deeper than 64 levels");
    expect(list, "\x02\x02\x00", 3, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_well_formed_datum_passes),
        cmocka_unit_test(test_every_truncation_is_refused),
        cmocka_unit_test(test_corruptions_name_the_problem),
        cmocka_unit_test(test_deep_nesting_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
