/* Unit tests of registry/avsc_compat.c: Avro schema-resolution rules as compatibility levels,
 * a table of old/new schema pairs checked under every level, and transitive histories. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "avsc.h"
#include "avsc_compat.h"

/* One evolution: OLD registered first, NEW proposed. BACKWARD: NEW (reader) reads data written
 * with OLD. FORWARD: OLD (reader) reads data written with NEW. */
struct pair_case {
    const char *name;
    const char *old_schema, *new_schema;
    int backward, forward;
};

#define REC(fields) "{\"type\":\"record\",\"name\":\"R\",\"fields\":[" fields "]}"
#define F(n, t) "{\"name\":\"" n "\",\"type\":" t "}"
#define FD(n, t, d) "{\"name\":\"" n "\",\"type\":" t ",\"default\":" d "}"
#define ENUM(syms) "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[" syms "]}"
#define DEC(p, s)                                                                                  \
    "{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":" p ",\"scale\":" s "}"
#define NODE(extra)                                                                                \
    "{\"type\":\"record\",\"name\":\"Node\",\"fields\":[" F("next", "[\"null\",\"Node\"]") extra   \
        "]}"

static const struct pair_case cases[] = {
    {"identical record", REC(F("a", "\"int\"")), REC(F("a", "\"int\"")), 1, 1},
    {"field added with default", REC(F("a", "\"int\"")),
     REC(F("a", "\"int\"") "," FD("b", "\"string\"", "\"x\"")), 1, 1},
    {"field added without default", REC(F("a", "\"int\"")),
     REC(F("a", "\"int\"") "," F("b", "\"string\"")), 0, 1},
    {"field with default removed", REC(F("a", "\"int\"") "," FD("b", "\"int\"", "0")),
     REC(F("a", "\"int\"")), 1, 1},
    {"field without default removed", REC(F("a", "\"int\"") "," F("b", "\"int\"")),
     REC(F("a", "\"int\"")), 1, 0},
    {"int promoted to long", REC(F("a", "\"int\"")), REC(F("a", "\"long\"")), 1, 0},
    {"int promoted to float", REC(F("a", "\"int\"")), REC(F("a", "\"float\"")), 1, 0},
    {"int promoted to double", REC(F("a", "\"int\"")), REC(F("a", "\"double\"")), 1, 0},
    {"long promoted to float", REC(F("a", "\"long\"")), REC(F("a", "\"float\"")), 1, 0},
    {"long promoted to double", REC(F("a", "\"long\"")), REC(F("a", "\"double\"")), 1, 0},
    {"float promoted to double", REC(F("a", "\"float\"")), REC(F("a", "\"double\"")), 1, 0},
    {"long narrowed to int", REC(F("a", "\"long\"")), REC(F("a", "\"int\"")), 0, 1},
    {"string to bytes", REC(F("a", "\"string\"")), REC(F("a", "\"bytes\"")), 1, 1},
    {"bytes to string", REC(F("a", "\"bytes\"")), REC(F("a", "\"string\"")), 1, 1},
    {"int to string", REC(F("a", "\"int\"")), REC(F("a", "\"string\"")), 0, 0},
    {"boolean to int", "\"boolean\"", "\"int\"", 0, 0},
    {"enum symbol added", ENUM("\"A\",\"B\""), ENUM("\"A\",\"B\",\"C\""), 1, 0},
    {"enum symbol removed", ENUM("\"A\",\"B\",\"C\""), ENUM("\"A\",\"B\""), 0, 1},
    {"enum symbol removed, new enum has a default", ENUM("\"A\",\"B\",\"C\""),
     "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"],\"default\":\"A\"}", 1, 1},
    {"enum renamed", ENUM("\"A\""), "{\"type\":\"enum\",\"name\":\"F\",\"symbols\":[\"A\"]}", 0, 0},
    {"field made nullable (int -> [null,int])", REC(F("a", "\"int\"")),
     REC(F("a", "[\"null\",\"int\"]")), 1, 0},
    {"union branch added", REC(F("a", "[\"null\",\"int\"]")),
     REC(F("a", "[\"null\",\"int\",\"string\"]")), 1, 0},
    {"union branch removed", REC(F("a", "[\"null\",\"int\",\"string\"]")),
     REC(F("a", "[\"null\",\"int\"]")), 0, 1},
    {"union branches reordered", "[\"null\",\"int\"]", "[\"int\",\"null\"]", 1, 1},
    {"union branch promoted ([null,int] -> [null,long])", "[\"null\",\"int\"]",
     "[\"null\",\"long\"]", 1, 0},
    {"nested record: field added with default",
     REC(F("n", "{\"type\":\"record\",\"name\":\"N\",\"fields\":[" F("x", "\"int\"") "]}")),
     REC(F("n", "{\"type\":\"record\",\"name\":\"N\",\"fields\":[" F("x", "\"int\"") "," FD(
                    "y", "\"int\"", "0") "]}")),
     1, 1},
    {"nested record: field added without default",
     REC(F("n", "{\"type\":\"record\",\"name\":\"N\",\"fields\":[" F("x", "\"int\"") "]}")),
     REC(F("n", "{\"type\":\"record\",\"name\":\"N\",\"fields\":[" F("x", "\"int\"") "," F(
                    "y", "\"int\"") "]}")),
     0, 1},
    {"record renamed", REC(F("a", "\"int\"")),
     "{\"type\":\"record\",\"name\":\"S\",\"fields\":[" F("a", "\"int\"") "]}", 0, 0},
    {"record renamed with an alias for the old name", REC(F("a", "\"int\"")),
     "{\"type\":\"record\",\"name\":\"S\",\"aliases\":[\"R\"],\"fields\":[" F("a", "\"int\"") "]}",
     1, 0},
    {"record namespace changed", "{\"type\":\"record\",\"name\":\"a.R\",\"fields\":[]}",
     "{\"type\":\"record\",\"name\":\"b.R\",\"fields\":[]}", 1, 1},
    {"field renamed with an alias", REC(F("a", "\"int\"")),
     REC("{\"name\":\"b\",\"type\":\"int\",\"aliases\":[\"a\"]}"), 1, 0},
    {"array items int -> long", "{\"type\":\"array\",\"items\":\"int\"}",
     "{\"type\":\"array\",\"items\":\"long\"}", 1, 0},
    {"map values long -> int", "{\"type\":\"map\",\"values\":\"long\"}",
     "{\"type\":\"map\",\"values\":\"int\"}", 0, 1},
    {"array of records: field added without default",
     "{\"type\":\"array\",\"items\":" REC(F("x", "\"int\"")) "}",
     "{\"type\":\"array\",\"items\":" REC(F("x", "\"int\"") "," F("y", "\"int\"")) "}", 0, 1},
    {"fixed size changed", "{\"type\":\"fixed\",\"name\":\"X\",\"size\":4}",
     "{\"type\":\"fixed\",\"name\":\"X\",\"size\":8}", 0, 0},
    {"decimal scale changed", REC(F("p", DEC("10", "2"))), REC(F("p", DEC("10", "3"))), 0, 0},
    {"decimal precision raised", REC(F("p", DEC("10", "2"))), REC(F("p", DEC("12", "2"))), 1, 1},
    {"logicalType added to bytes", REC(F("p", "\"bytes\"")), REC(F("p", DEC("10", "2"))), 1, 1},
    {"record made nullable", REC(F("a", "\"int\"")), "[\"null\"," REC(F("a", "\"int\"")) "]", 1, 0},
    {"recursive type: field added with default", NODE(""), NODE("," FD("v", "\"int\"", "0")), 1, 1},
    {"recursive type: field added without default", NODE(""), NODE("," F("v", "\"int\"")), 0, 1},
};

static struct avsc *parse(const char *text)
{
    struct avsc *a = NULL;
    char err[512];
    int rc = avsc_parse(text, strlen(text), &a, err, sizeof err);
    if (rc != 0)
        fail_msg("schema did not parse: %s: %s", err, text);
    return a;
}

static int expected(const struct pair_case *c, enum avsc_compat_level level)
{
    switch (level) {
    case AVSC_COMPAT_NONE: return 1;
    case AVSC_COMPAT_BACKWARD:
    case AVSC_COMPAT_BACKWARD_TRANSITIVE: return c->backward;
    case AVSC_COMPAT_FORWARD:
    case AVSC_COMPAT_FORWARD_TRANSITIVE: return c->forward;
    default: return c->backward && c->forward;
    }
}

static void test_pair_table_under_every_level(void **state)
{
    (void)state;
    int failures = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct avsc *old = parse(cases[i].old_schema), *cand = parse(cases[i].new_schema);
        const struct avsc *history[] = {old};
        for (int l = AVSC_COMPAT_NONE; l <= AVSC_COMPAT_FULL_TRANSITIVE; l++) {
            char *detail = NULL;
            int got = avsc_compat_check((enum avsc_compat_level)l, cand, history, 1, &detail, NULL);
            int want = expected(&cases[i], (enum avsc_compat_level)l);
            if (got != want) {
                print_error("case '%s' under %s: got %s, want %s (%s)\n", cases[i].name,
                            avsc_compat_level_name((enum avsc_compat_level)l),
                            got ? "compatible" : "incompatible",
                            want ? "compatible" : "incompatible", detail ? detail : "");
                failures++;
            }
            if (!got)
                assert_non_null(detail);
            free(detail);
        }
        avsc_destroy(old);
        avsc_destroy(cand);
    }
    assert_int_equal(failures, 0);
    assert_true(sizeof cases / sizeof cases[0] >= 20);
}

static void test_missing_default_is_described_like_confluent(void **state)
{
    (void)state;
    struct avsc *old = parse(cases[0].old_schema), *cand = parse(cases[2].new_schema);
    char *detail = NULL;
    assert_false(avsc_can_read(cand, old, "new", "old", &detail));
    assert_non_null(strstr(detail, "errorType:'READER_FIELD_MISSING_DEFAULT_VALUE'"));
    assert_non_null(strstr(detail, "path '/fields/1'"));
    free(detail);
    avsc_destroy(old);
    avsc_destroy(cand);
}

static void test_enum_and_union_errors_name_their_type(void **state)
{
    (void)state;
    struct avsc *e_old = parse(ENUM("\"A\",\"B\"")), *e_new = parse(ENUM("\"A\""));
    char *detail = NULL;
    assert_false(avsc_can_read(e_new, e_old, "new", "old", &detail));
    assert_non_null(strstr(detail, "MISSING_ENUM_SYMBOLS"));
    assert_non_null(strstr(detail, "'B'"));
    free(detail);
    struct avsc *u_old = parse("[\"null\",\"string\"]"), *u_new = parse("[\"null\",\"int\"]");
    assert_false(avsc_can_read(u_new, u_old, "new", "old", &detail));
    assert_non_null(strstr(detail, "MISSING_UNION_BRANCH"));
    free(detail);
    avsc_destroy(e_old);
    avsc_destroy(e_new);
    avsc_destroy(u_old);
    avsc_destroy(u_new);
}

/* v1 {a}, v2 {a, b default}, candidate {a, b}: fine against the latest only. */
static void test_backward_transitive_checks_every_version(void **state)
{
    (void)state;
    struct avsc *v1 = parse(REC(F("a", "\"int\""))),
                *v2 = parse(REC(F("a", "\"int\"") "," FD("b", "\"int\"", "1"))),
                *cand = parse(REC(F("a", "\"int\"") "," F("b", "\"int\"")));
    const struct avsc *history[] = {v1, v2};
    size_t failed = 99;
    assert_true(avsc_compat_check(AVSC_COMPAT_BACKWARD, cand, history, 2, NULL, NULL));
    assert_false(
        avsc_compat_check(AVSC_COMPAT_BACKWARD_TRANSITIVE, cand, history, 2, NULL, &failed));
    assert_int_equal(failed, 0);
    assert_false(avsc_compat_check(AVSC_COMPAT_FULL_TRANSITIVE, cand, history, 2, NULL, NULL));
    avsc_destroy(v1);
    avsc_destroy(v2);
    avsc_destroy(cand);
}

/* v1 {a, b}, v2 {a, b default}, candidate {a}: v2 reads it, v1 cannot. */
static void test_forward_transitive_checks_every_version(void **state)
{
    (void)state;
    struct avsc *v1 = parse(REC(F("a", "\"int\"") "," F("b", "\"int\""))),
                *v2 = parse(REC(F("a", "\"int\"") "," FD("b", "\"int\"", "1"))),
                *cand = parse(REC(F("a", "\"int\"")));
    const struct avsc *history[] = {v1, v2};
    assert_true(avsc_compat_check(AVSC_COMPAT_FORWARD, cand, history, 2, NULL, NULL));
    assert_true(avsc_compat_check(AVSC_COMPAT_FULL, cand, history, 2, NULL, NULL));
    assert_false(avsc_compat_check(AVSC_COMPAT_FORWARD_TRANSITIVE, cand, history, 2, NULL, NULL));
    avsc_destroy(v1);
    avsc_destroy(v2);
    avsc_destroy(cand);
}

static void test_level_names_parse_case_insensitively(void **state)
{
    (void)state;
    enum avsc_compat_level l;
    assert_int_equal(avsc_compat_level_parse("full_transitive", &l), 0);
    assert_int_equal(l, AVSC_COMPAT_FULL_TRANSITIVE);
    assert_string_equal(avsc_compat_level_name(l), "FULL_TRANSITIVE");
    assert_int_equal(avsc_compat_level_parse("NONE", &l), 0);
    assert_int_equal(l, AVSC_COMPAT_NONE);
    assert_int_equal(avsc_compat_level_parse("SIDEWAYS", &l), -1);
    assert_int_equal(avsc_compat_level_parse(NULL, &l), -1);
}

static void test_no_history_is_always_compatible(void **state)
{
    (void)state;
    struct avsc *cand = parse("\"int\"");
    assert_true(avsc_compat_check(AVSC_COMPAT_FULL_TRANSITIVE, cand, NULL, 0, NULL, NULL));
    avsc_destroy(cand);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pair_table_under_every_level),
        cmocka_unit_test(test_missing_default_is_described_like_confluent),
        cmocka_unit_test(test_enum_and_union_errors_name_their_type),
        cmocka_unit_test(test_backward_transitive_checks_every_version),
        cmocka_unit_test(test_forward_transitive_checks_every_version),
        cmocka_unit_test(test_level_names_parse_case_insensitively),
        cmocka_unit_test(test_no_history_is_always_compatible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
