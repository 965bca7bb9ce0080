/* Unit tests of producer/options.c: defaults, the checks beyond the option table, clear errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "options.h"

struct fixture {
    struct config *cfg;
    struct producer_options o;
    char err[1024];
};

static int setup(void **state)
{
    static const char *const env[] = {
        "SALESCDC_MODE",  "SALESCDC_RATE",     "SALESCDC_COUNT",      "SALESCDC_SEED",
        "SALESCDC_BATCH", "SALESCDC_PROGRESS", "SALESCDC_TIME_START", "SALESCDC_PG_SCHEMA"};
    for (size_t i = 0; i < sizeof env / sizeof env[0]; i++)
        unsetenv(env[i]);
    struct fixture *f = calloc(1, sizeof *f);
    f->cfg = config_new(PRODUCER_PROGRAM, producer_summary, producer_option_table, NULL);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    config_destroy(f->cfg);
    free(f);
    return 0;
}

/* Parses ARGV (NULL-terminated) and loads; returns config_parse's result, or -1 if the load
 * failed. */
static int load(struct fixture *f, int tty, char **argv)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    FILE *out = fopen("/dev/null", "w");
    enum config_result r = config_parse(f->cfg, argc, argv, out, f->err, sizeof f->err);
    fclose(out);
    if (r != CONFIG_OK)
        return (int)r;
    return producer_options_load(f->cfg, tty, &f->o, f->err, sizeof f->err);
}

static void test_defaults_match_the_seed_generator(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"p", NULL};
    assert_int_equal(load(f, 0, argv), 0);
    assert_int_equal(f->o.mode, GENERATOR_SEED);
    assert_true(f->o.rate == 1.0);
    assert_false(f->o.has_count);
    assert_false(f->o.has_seed);
    assert_true(f->o.duration_s == 0);
    assert_string_equal(f->o.schema, "public");
    assert_int_equal(f->o.delete_percent, 0);
    assert_true(f->o.time_start_us == GENERATOR_TS_NOW);
    assert_int_equal(f->o.progress, PROGRESS_LOG); /* not a terminal */
}

static void test_flags_are_converted(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"p",       "--mode", "lifecycle",    "--rate=0",
                    "--count", "0",      "--seed",       "42",
                    "--batch", "500",    "--time.start", "2024-01-01T00:00:01.5Z",
                    NULL};
    assert_int_equal(load(f, 1, argv), 0);
    assert_int_equal(f->o.mode, GENERATOR_LIFECYCLE);
    assert_true(f->o.rate == 0);
    assert_true(f->o.has_count);
    assert_int_equal(f->o.count, 0);
    assert_true(f->o.has_seed);
    assert_int_equal(f->o.seed, 42);
    assert_int_equal(f->o.batch, 500);
    assert_true(f->o.time_start_us == 1704067201500000LL);
    assert_int_equal(f->o.progress, PROGRESS_LINE); /* auto on a terminal */
}

static void test_unknown_mode_is_named(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"p", "--mode", "chaos", NULL};
    assert_int_equal(load(f, 0, argv), -1);
    assert_string_equal(f->err, "option mode: 'chaos' is not one of seed, lifecycle");
}

static void test_negative_rate_is_a_config_error(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"p", "--rate", "-5", NULL};
    assert_int_equal(load(f, 0, argv), CONFIG_ERROR);
    assert_non_null(strstr(f->err, "option rate: -5 is outside [0, 100000000]"));
    assert_non_null(strstr(f->err, "Try --help"));
}

static void test_bad_time_start_is_named(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"p", "--time.start", "yesterday", NULL};
    assert_int_equal(load(f, 0, argv), -1);
    assert_non_null(strstr(f->err, "option time.start: 'yesterday'"));
}

static void test_bad_progress_is_named(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"p", "--progress", "loud", NULL};
    assert_int_equal(load(f, 0, argv), -1);
    assert_non_null(strstr(f->err, "option progress: 'loud'"));
}

static void test_time_parser_accepts_only_utc_timestamps(void **state)
{
    (void)state;
    int64_t us;
    assert_int_equal(producer_parse_time("1970-01-01T00:00:00Z", &us), 0);
    assert_true(us == 0);
    assert_int_equal(producer_parse_time("2024-02-29 12:00:00", &us), 0);
    assert_true(us == 1709208000000000LL);
    assert_int_equal(producer_parse_time("2024-13-01T00:00:00Z", &us), -1);
    assert_int_equal(producer_parse_time("2024-01-01T00:00:00+02", &us), -1);
    assert_int_equal(producer_parse_time("2024-01-01", &us), -1);
    assert_int_equal(producer_parse_time("", &us), -1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_defaults_match_the_seed_generator),
        T(test_flags_are_converted),
        T(test_unknown_mode_is_named),
        T(test_negative_rate_is_a_config_error),
        T(test_bad_time_start_is_named),
        T(test_bad_progress_is_named),
        cmocka_unit_test(test_time_parser_accepts_only_utc_timestamps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
