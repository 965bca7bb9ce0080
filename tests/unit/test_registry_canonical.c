/* Unit tests of registry/avsc.c and avsc_canonical.c: schema validation, Avro's Parsing Canonical
 * Form, and the registry's identity form (which keeps logical types and defaults). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "avsc.h"
#include "avsc_canonical.h"

static char *canonical(const char *text, unsigned flags)
{
    struct avsc *a = NULL;
    char err[512];
    if (avsc_parse(text, strlen(text), &a, err, sizeof err) != 0)
        fail_msg("schema did not parse: %s: %s", err, text);
    char *out = avsc_canonical(a, flags);
    avsc_destroy(a);
    return out;
}

static void expect_pcf(const char *text, const char *want)
{
    char *got = canonical(text, AVSC_CANONICAL_PARSING);
    assert_string_equal(got, want);
    free(got);
}

static void test_pcf_primitive_objects_become_names(void **state)
{
    (void)state;
    expect_pcf("{\"type\":\"int\"}", "\"int\"");
    expect_pcf(" \"string\" ", "\"string\"");
    expect_pcf("[\"null\",{\"type\":\"long\"}]", "[\"null\",\"long\"]");
}

static void test_pcf_strips_orders_and_uses_full_names(void **state)
{
    (void)state;
    expect_pcf("{\"fields\":[{\"doc\":\"x\",\"default\":1,\"type\":{\"type\":\"int\"},\"name\":"
               "\"a\"},{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":"
               "[\"A\",\"B\"],\"doc\":\"d\"}},{\"name\":\"e2\",\"type\":\"E\"},{\"name\":\"f\","
               "\"type\":{\"type\":\"fixed\",\"name\":\"other.F\",\"size\":4,\"aliases\":[\"G\"]}}"
               "],\"type\":\"record\",\"aliases\":[\"Q\"],\"doc\":\"d\",\"namespace\":\"com.x\","
               "\"name\":\"R\"}",
               "{\"name\":\"com.x.R\",\"type\":\"record\",\"fields\":[{\"name\":\"a\",\"type\":"
               "\"int\"},{\"name\":\"e\",\"type\":{\"name\":\"com.x.E\",\"type\":\"enum\","
               "\"symbols\":[\"A\",\"B\"]}},{\"name\":\"e2\",\"type\":\"com.x.E\"},{\"name\":\"f\","
               "\"type\":{\"name\":\"other.F\",\"type\":\"fixed\",\"size\":4}}]}");
}

static void test_pcf_containers_and_unions(void **state)
{
    (void)state;
    expect_pcf("{\"items\":{\"values\":\"string\",\"type\":\"map\"},\"type\":\"array\"}",
               "{\"type\":\"array\",\"items\":{\"type\":\"map\",\"values\":\"string\"}}");
    expect_pcf("{\"type\":[\"null\",\"int\"]}", "[\"null\",\"int\"]");
}

static void test_pcf_replaces_escapes_with_utf8(void **state)
{
    (void)state;
    expect_pcf(
        "{\"type\":\"record\",\"name\":\"\\u0052\",\"fields\":[{\"name\":\"a\",\"doc\":"
        "\"caf\\u00e9\",\"type\":\"int\"}]}",
        "{\"name\":\"R\",\"type\":\"record\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}");
}

static void test_pcf_nested_namespaces_are_inherited(void **state)
{
    (void)state;
    expect_pcf("{\"type\":\"record\",\"name\":\"a.b.R\",\"fields\":[{\"name\":\"n\",\"type\":{"
               "\"type\":\"record\",\"name\":\"N\",\"fields\":[]}},{\"name\":\"m\",\"type\":{"
               "\"type\":\"record\",\"name\":\"M\",\"namespace\":\"\",\"fields\":[]}},{\"name\":"
               "\"k\",\"type\":\"N\"}]}",
               "{\"name\":\"a.b.R\",\"type\":\"record\",\"fields\":[{\"name\":\"n\",\"type\":{"
               "\"name\":\"a.b.N\",\"type\":\"record\",\"fields\":[]}},{\"name\":\"m\",\"type\":{"
               "\"name\":\"M\",\"type\":\"record\",\"fields\":[]}},{\"name\":\"k\",\"type\":"
               "\"a.b.N\"}]}");
}

static void test_pcf_drops_logical_types_but_identity_keeps_them(void **state)
{
    (void)state;
    const char *dec =
        "{\"scale\":2,\"type\":\"bytes\",\"precision\":10,\"logicalType\":\"decimal\"}";
    expect_pcf(dec, "\"bytes\"");
    char *id = canonical(dec, AVSC_CANONICAL_IDENTITY);
    assert_string_equal(id, "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":10,"
                            "\"scale\":2}");
    free(id);
    char *plain = canonical("\"bytes\"", AVSC_CANONICAL_IDENTITY);
    assert_string_equal(plain, "\"bytes\"");
    free(plain);
}

static void test_identity_keeps_defaults_and_ignores_docs(void **state)
{
    (void)state;
    const char *a = "{\"type\":\"record\",\"name\":\"R\",\"doc\":\"one\",\"fields\":[{\"name\":"
                    "\"x\",\"type\":\"int\",\"default\":1}]}";
    const char *b = "{\"name\":\"R\",\"type\":\"record\",\"doc\":\"two\",\"fields\":[{\"default\":"
                    "1,\"name\":\"x\",\"type\":{\"type\":\"int\"}}]}";
    const char *c = "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"x\",\"type\":"
                    "\"int\",\"default\":2}]}";
    char *ia = canonical(a, AVSC_CANONICAL_IDENTITY), *ib = canonical(b, AVSC_CANONICAL_IDENTITY),
         *ic = canonical(c, AVSC_CANONICAL_IDENTITY);
    assert_string_equal(ia, ib);
    assert_string_not_equal(ia, ic);
    assert_string_equal(ia, "{\"name\":\"R\",\"type\":\"record\",\"fields\":[{\"name\":\"x\","
                            "\"type\":\"int\",\"default\":1}]}");
    free(ia);
    free(ib);
    free(ic);
}

static void test_recursive_types_parse_and_resolve(void **state)
{
    (void)state;
    const char *list = "{\"type\":\"record\",\"name\":\"L\",\"namespace\":\"n\",\"fields\":[{"
                       "\"name\":\"next\",\"type\":[\"null\",\"L\"]}]}";
    expect_pcf(list, "{\"name\":\"n.L\",\"type\":\"record\",\"fields\":[{\"name\":\"next\","
                     "\"type\":[\"null\",\"n.L\"]}]}");
    struct avsc *a = NULL;
    char err[256];
    assert_int_equal(avsc_parse(list, strlen(list), &a, err, sizeof err), 0);
    assert_non_null(avsc_named(a, "n.L"));
    const json_t *field = json_array_get(json_object_get(avsc_root(a), "fields"), 0);
    const json_t *ref = json_array_get(json_object_get(field, "type"), 1);
    assert_string_equal(json_string_value(ref), "n.L");
    assert_string_equal(avsc_type(avsc_resolve(a, ref)), "record");
    avsc_destroy(a);
}

/* Each of these must be refused with a message, never accepted and never crash. */
static const char *const invalid[] = {
    "",
    "{",
    "42",
    "null",
    "\"nosuchtype\"",
    "{}",
    "{\"type\":\"record\"}",
    "{\"type\":\"record\",\"name\":\"R\"}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\"}]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"type\":\"int\"}]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":"
    "\"a\",\"type\":\"int\"}]}",
    "{\"type\":\"record\",\"name\":\"1R\",\"fields\":[]}",
    "{\"type\":\"record\",\"name\":\"R\",\"namespace\":\"a..b\",\"fields\":[]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a-b\",\"type\":\"int\"}]}",
    "{\"type\":\"record\",\"name\":\"record\",\"fields\":[]}",
    "{\"type\":\"enum\",\"name\":\"int\",\"symbols\":[]}",
    "[{\"type\":\"record\",\"name\":\"R\",\"fields\":[]},{\"type\":\"record\",\"name\":\"R\","
    "\"fields\":[]}]",
    "{\"type\":\"enum\",\"name\":\"E\"}",
    "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"A\"]}",
    "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A B\"]}",
    "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[1]}",
    "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"],\"default\":\"B\"}",
    "{\"type\":\"fixed\",\"name\":\"F\"}",
    "{\"type\":\"fixed\",\"name\":\"F\",\"size\":-1}",
    "{\"type\":\"fixed\",\"name\":\"F\",\"size\":\"4\"}",
    "[\"int\",[\"null\"]]",
    "[\"int\",\"int\"]",
    "[{\"type\":\"array\",\"items\":\"int\"},{\"type\":\"array\",\"items\":\"long\"}]",
    "{\"type\":\"array\"}",
    "{\"type\":\"map\"}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"Missing\"}]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":"
    "\"x\"}]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\",\"default\":"
    "4294967296}]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":[\"null\",\"int\"],"
    "\"default\":1}]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":{\"type\":\"array\","
    "\"items\":\"int\"},\"default\":[1,\"x\"]}]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"r\",\"type\":{\"type\":\"record\","
    "\"name\":\"S\",\"fields\":[{\"name\":\"x\",\"type\":\"int\"}]},\"default\":{}}]}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"e\",\"type\":{\"type\":\"enum\","
    "\"name\":\"E\",\"symbols\":[\"A\"]},\"default\":\"B\"}]}",
    "{\"type\":true}",
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":{}}",
    "{\"type\":\"int\"} trailing",
};

static void test_invalid_schemas_are_refused_with_a_reason(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof invalid / sizeof invalid[0]; i++) {
        struct avsc *a = NULL;
        char err[512] = "";
        int rc = avsc_parse(invalid[i], strlen(invalid[i]), &a, err, sizeof err);
        if (rc == 0)
            fail_msg("accepted an invalid schema: %s", invalid[i]);
        assert_null(a);
        assert_true(strlen(err) > 0);
    }
}

static void test_deep_nesting_is_refused_not_recursed(void **state)
{
    (void)state;
    char text[20000] = "";
    for (int i = 0; i < 500; i++)
        strcat(text, "{\"type\":\"array\",\"items\":");
    strcat(text, "\"int\"");
    for (int i = 0; i < 500; i++)
        strcat(text, "}");
    struct avsc *a = NULL;
    char err[512];
    assert_int_equal(avsc_parse(text, strlen(text), &a, err, sizeof err), -1);
}

static void test_valid_defaults_are_accepted(void **state)
{
    (void)state;
    const char *text =
        "{\"type\":\"record\",\"name\":\"R\",\"fields\":["
        "{\"name\":\"a\",\"type\":[\"null\",\"int\"],\"default\":null},"
        "{\"name\":\"b\",\"type\":\"double\",\"default\":1},"
        "{\"name\":\"c\",\"type\":{\"type\":\"map\",\"values\":\"long\"},\"default\":{\"k\":1}},"
        "{\"name\":\"d\",\"type\":{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"x\","
        "\"type\":\"int\",\"default\":0}]},\"default\":{}},"
        "{\"name\":\"e\",\"type\":\"bytes\",\"default\":\"\\u00ff\"}]}";
    char *pcf = canonical(text, AVSC_CANONICAL_PARSING);
    free(pcf);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pcf_primitive_objects_become_names),
        cmocka_unit_test(test_pcf_strips_orders_and_uses_full_names),
        cmocka_unit_test(test_pcf_containers_and_unions),
        cmocka_unit_test(test_pcf_replaces_escapes_with_utf8),
        cmocka_unit_test(test_pcf_nested_namespaces_are_inherited),
        cmocka_unit_test(test_pcf_drops_logical_types_but_identity_keeps_them),
        cmocka_unit_test(test_identity_keeps_defaults_and_ignores_docs),
        cmocka_unit_test(test_recursive_types_parse_and_resolve),
        cmocka_unit_test(test_invalid_schemas_are_refused_with_a_reason),
        cmocka_unit_test(test_deep_nesting_is_refused_not_recursed),
        cmocka_unit_test(test_valid_defaults_are_accepted),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
