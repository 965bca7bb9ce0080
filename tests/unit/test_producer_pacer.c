/* Unit tests of producer/pacer.c and progress_format(): the rate schedule and the progress
 * line's content. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pacer.h"
#include "progress.h"

static void test_rate_one_writes_first_at_once_then_one_per_second(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 1, 100.0);
    assert_int_equal(pacer_due(&p, 100.0, 10), 1);
    pacer_done(&p, 1);
    assert_int_equal(pacer_due(&p, 100.5, 10), 0);
    assert_true(pacer_next_time(&p) == 101.0);
    assert_int_equal(pacer_due(&p, 101.0, 10), 1);
    pacer_done(&p, 1);
    assert_int_equal(pacer_due(&p, 101.99, 10), 0);
}

static void test_due_operations_accumulate_up_to_max(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 1000, 0.0);
    assert_int_equal(pacer_due(&p, 0.0995, 1000), 100); /* ops 0..99 are due by 99.5 ms */
    assert_int_equal(pacer_due(&p, 0.0995, 30), 30);
    pacer_done(&p, 30);
    assert_int_equal(pacer_due(&p, 0.0995, 1000), 70);
}

static void test_unlimited_rate_is_always_due(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 0, 5.0);
    assert_int_equal(pacer_due(&p, 5.0, 10000), 10000);
    pacer_done(&p, 10000);
    assert_int_equal(pacer_due(&p, 5.0, 10000), 10000);
}

static void test_long_stall_restarts_the_schedule_instead_of_bursting(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 10, 0.0);
    assert_int_equal(pacer_due(&p, 0.0, 100), 1);
    pacer_done(&p, 1);
    /* 30 s stall (an outage): 300 operations are owed, but only one is due now */
    assert_int_equal(pacer_due(&p, 30.0, 1000), 1);
    pacer_done(&p, 1);
    assert_int_equal(pacer_due(&p, 30.05, 1000), 0);
    assert_int_equal(pacer_due(&p, 30.1, 1000), 1);
}

static void test_short_lag_is_caught_up(void **state)
{
    (void)state;
    struct pacer p;
    pacer_init(&p, 100, 0.0);
    assert_int_equal(pacer_due(&p, 0.5, 1000), 51); /* half a second late: catch up */
}

static void test_progress_line_for_bounded_count(void **state)
{
    (void)state;
    char out[160];
    struct progress_bounds b = {100000, 0};
    progress_format(out, sizeof out, 12345, 2.0, b);
    assert_string_equal(out, "12,345/100,000 orders (12.3%)  6,172/s  elapsed 2.0s  ETA 14.2s");
}

static void test_progress_line_unbounded_has_no_eta(void **state)
{
    (void)state;
    char out[160];
    struct progress_bounds b = {0, 0};
    progress_format(out, sizeof out, 1234567, 125.0, b);
    assert_string_equal(out, "1,234,567 orders  9,876/s  elapsed 2m05s");
}

static void test_progress_line_for_bounded_duration(void **state)
{
    (void)state;
    char out[160];
    struct progress_bounds b = {0, 3600};
    progress_format(out, sizeof out, 10, 600.0, b);
    assert_non_null(strstr(out, "ETA 50m00s"));
    b.duration_s = 7200;
    progress_format(out, sizeof out, 10, 1.0, b);
    assert_non_null(strstr(out, "ETA 1h59m"));
}

static void test_progress_line_truncates_safely(void **state)
{
    (void)state;
    char out[8];
    struct progress_bounds b = {100000, 0};
    progress_format(out, sizeof out, 12345, 2.0, b);
    assert_int_equal(strlen(out), 7);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rate_one_writes_first_at_once_then_one_per_second),
        cmocka_unit_test(test_due_operations_accumulate_up_to_max),
        cmocka_unit_test(test_unlimited_rate_is_always_due),
        cmocka_unit_test(test_long_stall_restarts_the_schedule_instead_of_bursting),
        cmocka_unit_test(test_short_lag_is_caught_up),
        cmocka_unit_test(test_progress_line_for_bounded_count),
        cmocka_unit_test(test_progress_line_unbounded_has_no_eta),
        cmocka_unit_test(test_progress_line_for_bounded_duration),
        cmocka_unit_test(test_progress_line_truncates_safely),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
