/* Unit tests of connector/metrics.c: what /metrics shows (Prometheus text) and /healthz's state. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "metrics.h"

static char *render(struct metrics *m)
{
    struct strbuf sb = STRBUF_INIT;
    metrics_render(m, &sb);
    return strbuf_detach(&sb);
}

static void test_events_by_table_and_op(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    struct metrics_table *a = metrics_table(m, "public.orders");
    assert_ptr_equal(metrics_table(m, "public.orders"), a); /* one entry per table */
    metrics_event(a, 'c');
    metrics_event(a, 'c');
    metrics_event(a, 'r');
    metrics_event(metrics_table(m, "s.t"), 'd');
    char *text = render(m);
    assert_non_null(
        strstr(text, "salescdc_connector_events_total{table=\"public.orders\",op=\"c\"} 2\n"));
    assert_non_null(
        strstr(text, "salescdc_connector_events_total{table=\"public.orders\",op=\"r\"} 1\n"));
    assert_non_null(strstr(text, "salescdc_connector_events_total{table=\"s.t\",op=\"d\"} 1\n"));
    assert_non_null(strstr(text, "# TYPE salescdc_connector_events_total counter\n"));
    free(text);
    metrics_destroy(m);
}

static void test_lag_bytes_is_server_minus_confirmed(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    metrics_set(m, METRICS_SERVER_LSN, 0x5000);
    metrics_set(m, METRICS_CONFIRMED_LSN, 0x4000);
    metrics_count(m, METRICS_TRANSACTIONS);
    char *text = render(m);
    assert_non_null(strstr(text, "salescdc_connector_lag_bytes 4096\n"));
    assert_non_null(strstr(text, "salescdc_connector_confirmed_lsn 16384\n"));
    assert_non_null(strstr(text, "salescdc_connector_transactions_total 1\n"));
    free(text);
    metrics_set(m, METRICS_CONFIRMED_LSN, 0x6000); /* confirmed ahead of a stale server read */
    text = render(m);
    assert_non_null(strstr(text, "salescdc_connector_lag_bytes 0\n"));
    free(text);
    metrics_destroy(m);
}

static void test_ready_only_while_working(void **state)
{
    (void)state;
    struct metrics *m = metrics_new();
    assert_false(metrics_ready(m));
    metrics_set_state(m, METRICS_STATE_SNAPSHOT);
    assert_true(metrics_ready(m));
    metrics_set_state(m, METRICS_STATE_STREAMING);
    assert_true(metrics_ready(m));
    metrics_set_state(m, METRICS_STATE_RETRYING);
    assert_false(metrics_ready(m));
    metrics_destroy(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_events_by_table_and_op),
        cmocka_unit_test(test_lag_bytes_is_server_minus_confirmed),
        cmocka_unit_test(test_ready_only_while_working),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
