/* Facts about avro-c 1.11.1's schema resolver (avro_resolved_writer_new) that made the registry
 * check compatibility itself (registry/avsc_compat.c). Each case runs in a child process, since
 * one of the facts is a crash. If a newer avro-c changes one of these, this test says which, so
 * the notes in avsc_compat.h and ARCHITECTURE.md can be corrected. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <avro.h>
#include <cmocka.h>

enum outcome { RESOLVES = 10, FAILS = 11, CRASHES = 12 };

/* Runs avro_resolved_writer_new(writer, reader) in a child; returns what happened. */
static enum outcome resolve(const char *writer, const char *reader)
{
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        avro_schema_t w, r;
        if (avro_schema_from_json_length(writer, strlen(writer), &w) ||
            avro_schema_from_json_length(reader, strlen(reader), &r))
            _exit(2);
        avro_value_iface_t *iface = avro_resolved_writer_new(w, r);
        _exit(iface ? RESOLVES : FAILS);
    }
    int status = 0;
    waitpid(pid, &status, 0);
    if (WIFEXITED(status) && (WEXITSTATUS(status) == RESOLVES || WEXITSTATUS(status) == FAILS))
        return (enum outcome)WEXITSTATUS(status);
    return CRASHES; /* a signal, or the sanitizer's exit after one */
}

#define REC1 "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"
#define REC2                                                                                       \
    "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"},{\"name\":" \
    "\"b\",\"type\":\"int\",\"default\":0}]}"

static void test_reader_field_with_default_is_refused(void **state)
{
    (void)state;
    assert_int_equal(resolve(REC1, REC2), FAILS); /* the specification allows it */
}

static void test_string_bytes_promotion_is_missing(void **state)
{
    (void)state;
    assert_int_equal(resolve("\"string\"", "\"bytes\""), FAILS);
    assert_int_equal(resolve("\"bytes\"", "\"string\""), FAILS);
}

static void test_numeric_promotions_work(void **state)
{
    (void)state;
    assert_int_equal(resolve("\"int\"", "\"long\""), RESOLVES);
    assert_int_equal(resolve("\"long\"", "\"double\""), RESOLVES);
    assert_int_equal(resolve("\"long\"", "\"int\""), FAILS);
}

static void test_missing_enum_symbols_and_union_branches_pass(void **state)
{
    (void)state;
    assert_int_equal(resolve("{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\",\"B\"]}",
                             "{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"A\"]}"),
                     RESOLVES);
    assert_int_equal(resolve("[\"null\",\"int\",\"string\"]", "[\"null\",\"int\"]"), RESOLVES);
}

static void test_unresolvable_array_items_crash(void **state)
{
    (void)state;
    assert_int_equal(resolve("{\"type\":\"array\",\"items\":\"long\"}",
                             "{\"type\":\"array\",\"items\":\"int\"}"),
                     CRASHES);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_reader_field_with_default_is_refused),
        cmocka_unit_test(test_string_bytes_promotion_is_missing),
        cmocka_unit_test(test_numeric_promotions_work),
        cmocka_unit_test(test_missing_enum_symbols_and_union_branches_pass),
        cmocka_unit_test(test_unresolvable_array_items_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
