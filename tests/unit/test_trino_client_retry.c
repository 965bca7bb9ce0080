/* Unit tests of the Trino client's protocol handling against an in-process fake coordinator
 * (libmicrohttpd) answering from a script: nextUri followed, 503 retried, a server that starts
 * late, SERVER_STARTING_UP, a statement lost to a restart, bounded waits and cancellation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pthread.h>

#include "fake_http.h"
#include "trino_client.h"

/* A fake coordinator answering SCRIPT in order (its last answer again past the end), as JSON;
 * "@URL@" in a body becomes its base URL. On PORT, or any free port with 0. */
static struct fake_http *fake_start(const struct fake_http_answer *script, size_t n, unsigned port)
{
    struct fake_http_options o = {.script = script,
                                  .n_script = n,
                                  .repeat_last = 1,
                                  .port = port,
                                  .content_type = "application/json"};
    return fake_http_start(&o);
}

static struct trino_client *client_at(unsigned port, int max_attempts, long statement_ms)
{
    char url[64], err[256];
    snprintf(url, sizeof url, "http://127.0.0.1:%u/", port);
    struct trino_config cfg = {.url = url,
                               .user = "salescdc",
                               .catalog = "hive",
                               .schema = "sales",
                               .max_attempts = max_attempts,
                               .backoff_initial_ms = 20,
                               .backoff_max_ms = 100,
                               .statement_timeout_ms = statement_ms};
    struct trino_client *c = trino_client_new(&cfg, err, sizeof err);
    assert_non_null(c);
    return c;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char QUEUED[] = "{\"id\":\"q1\",\"nextUri\":\"@URL@/v1/statement/queued/q1/t/1\","
                             "\"stats\":{\"state\":\"QUEUED\"}}";
static const char PAGE1[] = "{\"id\":\"q1\",\"nextUri\":\"@URL@/v1/statement/executing/q1/t/1\","
                            "\"columns\":[{\"name\":\"orderid\",\"type\":\"varchar\"},{\"name\":"
                            "\"price\",\"type\":\"decimal(10,2)\"}],\"data\":[[\"1\",\"123.45\"]]}";
static const char PAGE2[] = "{\"id\":\"q1\",\"columns\":[{\"name\":\"orderid\",\"type\":"
                            "\"varchar\"},{\"name\":\"price\",\"type\":\"decimal(10,2)\"}],"
                            "\"data\":[[\"2\",\"10.00\"]],\"stats\":{\"state\":\"FINISHED\"}}";
static const char BUSY[] = "Service Unavailable";

static void next_uris_followed_and_503_retried(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{503, BUSY, 0, NULL},
                                                     {200, QUEUED, 0, NULL},
                                                     {503, BUSY, 0, NULL},
                                                     {200, PAGE1, 0, NULL},
                                                     {200, PAGE2, 0, NULL}};
    struct fake_http *f = fake_start(script, N(script), 0);
    struct trino_client *c = client_at(f->port, 5, 0);
    struct trino_result r = {0};
    char err[512];
    assert_int_equal(trino_execute(c, "SELECT orderid, price FROM t", &r, err, sizeof err),
                     TRINO_OK);
    assert_int_equal(f->n_seen, 5);
    assert_string_equal(f->seen[0].method, "POST");
    assert_string_equal(f->seen[0].uri, "/v1/statement");
    assert_string_equal(f->seen[0].body, "SELECT orderid, price FROM t");
    assert_string_equal(fake_http_header(&f->seen[0], "X-Trino-User"), "salescdc");
    assert_string_equal(fake_http_header(&f->seen[0], "X-Trino-Catalog"), "hive");
    assert_string_equal(fake_http_header(&f->seen[0], "X-Trino-Schema"), "sales");
    assert_string_equal(f->seen[1].method, "POST");
    assert_string_equal(f->seen[2].uri, "/v1/statement/queued/q1/t/1");
    assert_string_equal(f->seen[3].uri, "/v1/statement/queued/q1/t/1");
    assert_string_equal(f->seen[4].uri, "/v1/statement/executing/q1/t/1");
    json_t *want = json_loads("[[\"1\",\"123.45\"],[\"2\",\"10.00\"]]", 0, NULL);
    assert_true(json_equal(r.rows, want));
    assert_int_equal(json_array_size(r.columns), 2);
    json_decref(want);
    trino_result_release(&r);
    trino_client_destroy(c);
    fake_http_stop(f);
}

static void query_error_is_reported_not_retried(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {
        {200,
         "{\"id\":\"q2\",\"error\":{\"message\":\"line 1:1: mismatched input 'SELEC'\","
         "\"errorName\":\"SYNTAX_ERROR\",\"errorType\":\"USER_ERROR\"}}",
         0, NULL}};
    struct fake_http *f = fake_start(script, N(script), 0);
    struct trino_client *c = client_at(f->port, 5, 0);
    struct trino_result r = {0};
    char err[512];
    assert_int_equal(trino_execute(c, "SELEC 1", &r, err, sizeof err), TRINO_ERR_QUERY);
    assert_string_equal(err, "Trino statement \"SELEC 1\": SYNTAX_ERROR: line 1:1: mismatched "
                             "input 'SELEC'");
    assert_string_equal(r.error_name, "SYNTAX_ERROR");
    assert_int_equal(f->n_seen, 1);
    trino_result_release(&r);
    trino_client_destroy(c);
    fake_http_stop(f);
}

static void statement_rerun_while_server_starts(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {
        {200,
         "{\"id\":\"q3\",\"error\":{\"message\":\"Trino server is still initializing\","
         "\"errorName\":\"SERVER_STARTING_UP\",\"errorType\":\"INTERNAL_ERROR\"}}",
         0, NULL},
        {200, PAGE2, 0, NULL}};
    struct fake_http *f = fake_start(script, N(script), 0);
    struct trino_client *c = client_at(f->port, 5, 0);
    struct trino_result r = {0};
    char err[512];
    assert_int_equal(trino_execute(c, "SELECT 1", &r, err, sizeof err), TRINO_OK);
    assert_int_equal(f->n_seen, 2);
    assert_string_equal(f->seen[1].method, "POST");
    assert_int_equal(json_array_size(r.rows), 1); /* rows of the failed attempt are not kept */
    assert_string_equal(r.error_name, "");
    trino_result_release(&r);
    trino_client_destroy(c);
    fake_http_stop(f);
}

/* A free port, found by binding one and letting it go. */
static unsigned free_port(void)
{
    static const struct fake_http_answer none[] = {{500, "", 0, NULL}};
    struct fake_http *f = fake_start(none, 1, 0);
    unsigned port = f->port;
    fake_http_stop(f);
    return port;
}

struct late_start {
    unsigned port;
    const struct fake_http_answer *script;
    size_t n;
    struct fake_http *fake;
};

static void *start_later(void *arg)
{
    struct late_start *ls = arg;
    nanosleep(&(struct timespec){0, 300 * 1000000L}, NULL);
    ls->fake = fake_start(ls->script, ls->n, ls->port);
    return NULL;
}

static void waits_for_a_server_that_is_not_up_yet(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{200, PAGE2, 0, NULL}};
    struct late_start ls = {free_port(), script, N(script), NULL};
    struct trino_client *c = client_at(ls.port, 30, 0);
    struct trino_result r = {0};
    char err[512];
    pthread_t thread;
    assert_int_equal(pthread_create(&thread, NULL, start_later, &ls), 0);
    int rc = trino_execute(c, "SELECT 1", &r, err, sizeof err);
    pthread_join(thread, NULL);
    assert_int_equal(rc, TRINO_OK);
    assert_int_equal(json_array_size(r.rows), 1);
    trino_result_release(&r);
    trino_client_destroy(c);
    fake_http_stop(ls.fake);
}

static void unreachable_server_fails_after_bounded_attempts(void **state)
{
    (void)state;
    struct trino_client *c = client_at(free_port(), 3, 0);
    struct trino_result r = {0};
    char err[512];
    assert_int_equal(trino_execute(c, "SELECT 1", &r, err, sizeof err), TRINO_ERR_UNAVAILABLE);
    assert_non_null(strstr(err, "Trino statement \"SELECT 1\": POST http://127.0.0.1:"));
    assert_non_null(strstr(err, "(after 3 attempts)"));
    trino_result_release(&r);
    trino_client_destroy(c);
}

static void statement_lost_to_a_restart_is_not_rerun(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{200, QUEUED, 0, NULL},
                                                     {404, "Query not found", 0, NULL}};
    struct fake_http *f = fake_start(script, N(script), 0);
    struct trino_client *c = client_at(f->port, 5, 0);
    struct trino_result r = {0};
    char err[512];
    assert_int_equal(trino_execute(c, "INSERT INTO t VALUES 1", &r, err, sizeof err),
                     TRINO_ERR_UNAVAILABLE);
    assert_non_null(strstr(err, "Trino lost the statement"));
    assert_int_equal(f->n_seen, 2);
    trino_result_release(&r);
    trino_client_destroy(c);
    fake_http_stop(f);
}

static void statement_timeout_cancels_the_query(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{200, QUEUED, 50, NULL}}; /* forever queued */
    struct fake_http *f = fake_start(script, N(script), 0);
    struct trino_client *c = client_at(f->port, 5, 400);
    struct trino_result r = {0};
    char err[512];
    assert_int_equal(trino_execute(c, "SELECT slow()", &r, err, sizeof err), TRINO_ERR_TIMEOUT);
    assert_non_null(strstr(err, "statement timeout reached before query q1 finished"));
    assert_in_range(f->n_seen, 3, 20);
    assert_string_equal(f->seen[f->n_seen - 1].method, "DELETE");
    assert_string_equal(f->seen[f->n_seen - 1].uri, "/v1/statement/queued/q1/t/1");
    trino_result_release(&r);
    trino_client_destroy(c);
    fake_http_stop(f);
}

static void unexpected_status_is_a_protocol_error(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{401, "Unauthorized", 0, NULL}};
    struct fake_http *f = fake_start(script, N(script), 0);
    struct trino_client *c = client_at(f->port, 5, 0);
    struct trino_result r = {0};
    char err[512];
    assert_int_equal(trino_execute(c, "SELECT 1", &r, err, sizeof err), TRINO_ERR_PROTOCOL);
    assert_non_null(strstr(err, "HTTP 401: Unauthorized"));
    assert_int_equal(f->n_seen, 1);
    trino_result_release(&r);
    trino_client_destroy(c);
    fake_http_stop(f);
}

static void configuration_is_validated(void **state)
{
    (void)state;
    char err[256];
    struct trino_config cfg = {.url = "127.0.0.1:58080", .user = "u"};
    assert_null(trino_client_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "url"));
    cfg.url = "http://127.0.0.1:58080";
    cfg.user = NULL;
    assert_null(trino_client_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "user"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(next_uris_followed_and_503_retried),
        cmocka_unit_test(query_error_is_reported_not_retried),
        cmocka_unit_test(statement_rerun_while_server_starts),
        cmocka_unit_test(waits_for_a_server_that_is_not_up_yet),
        cmocka_unit_test(unreachable_server_fails_after_bounded_attempts),
        cmocka_unit_test(statement_lost_to_a_restart_is_not_rerun),
        cmocka_unit_test(statement_timeout_cancels_the_query),
        cmocka_unit_test(unexpected_status_is_a_protocol_error),
        cmocka_unit_test(configuration_is_validated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
