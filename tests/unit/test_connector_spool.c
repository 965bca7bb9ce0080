/* Unit tests of connector/spool.c: streamed transactions' messages come back in order, an
 * aborted subtransaction's messages do not (kept ones do), a top-level abort drops the spool,
 * spools of different transactions stay apart, and a bad directory is a clear error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "spool.h"

struct seen {
    char text[4096];
    uint64_t lsns[64];
    int n;
};

static int collect(void *arg, uint64_t lsn, const unsigned char *msg, size_t len, char *errstr,
                   size_t errstr_size)
{
    (void)errstr;
    (void)errstr_size;
    struct seen *s = arg;
    strncat(s->text, (const char *)msg, len);
    strcat(s->text, ";");
    s->lsns[s->n++] = lsn;
    return 0;
}

static void append(struct spool_set *s, uint32_t xid, uint32_t subxid, uint64_t lsn, int keep,
                   const char *head, const char *body)
{
    char err[256];
    assert_int_equal(spool_append(s, xid, subxid, lsn, keep, head, strlen(head), body, strlen(body),
                                  err, sizeof err),
                     0);
}

static void test_replays_in_order_without_aborted_subtransactions(void **state)
{
    (void)state;
    char err[256];
    struct seen seen = {0};
    uint64_t tag;
    struct spool_set *s = spool_set_new("");
    assert_int_equal(spool_open(s, 100, 7, err, sizeof err), 1);
    assert_int_equal(spool_open(s, 100, 9, err, sizeof err), 0);
    assert_int_equal(spool_tag(s, 100, &tag), 0);
    assert_int_equal(tag, 7);
    append(s, 100, 100, 10, 0, "I", "a");
    append(s, 100, 101, 11, 1, "R", "rel"); /* schema, kept */
    append(s, 100, 101, 12, 0, "I", "b");   /* aborted below */
    append(s, 100, 102, 13, 0, "U", "c");
    append(s, 100, 100, 14, 0, "", ""); /* an empty message round-trips too */
    spool_abort(s, 100, 101);
    assert_int_equal(spool_count(s), 1);
    assert_true(spool_bytes(s) > 0);
    assert_int_equal(spool_replay(s, 100, collect, &seen, err, sizeof err), 4);
    assert_string_equal(seen.text, "Ia;Rrel;Uc;;");
    assert_int_equal(seen.lsns[0], 10);
    assert_int_equal(seen.lsns[2], 13);
    assert_int_equal(spool_count(s), 0); /* replay drops it */
    assert_int_equal(spool_tag(s, 100, &tag), -1);
    spool_set_destroy(s);
}

static void test_top_level_abort_drops_the_spool(void **state)
{
    (void)state;
    char err[256];
    struct seen seen = {0};
    struct spool_set *s = spool_set_new(NULL);
    assert_int_equal(spool_open(s, 5, 1, err, sizeof err), 1);
    assert_int_equal(spool_open(s, 6, 2, err, sizeof err), 1);
    append(s, 5, 5, 1, 0, "I", "five");
    append(s, 6, 6, 2, 0, "I", "six");
    spool_abort(s, 5, 5);
    spool_abort(s, 77, 77); /* unknown: ignored */
    assert_int_equal(spool_count(s), 1);
    assert_int_equal(spool_replay(s, 5, collect, &seen, err, sizeof err), 0);
    assert_int_equal(spool_replay(s, 6, collect, &seen, err, sizeof err), 1);
    assert_string_equal(seen.text, "Isix;");
    spool_set_destroy(s);
}

/* Each message is "I" plus 299 'x', at LSN = its index. */
static int count_checked(void *arg, uint64_t lsn, const unsigned char *msg, size_t len,
                         char *errstr, size_t errstr_size)
{
    (void)errstr;
    (void)errstr_size;
    int *n = arg;
    if (lsn != (uint64_t)*n || len != 300 || msg[0] != 'I' || msg[299] != 'x')
        return -1;
    ++*n;
    return 0;
}

static void test_large_spool_round_trips(void **state)
{
    (void)state;
    char err[256], body[300];
    struct spool_set *s = spool_set_new("");
    assert_int_equal(spool_open(s, 1, 0, err, sizeof err), 1);
    memset(body, 'x', sizeof body - 1);
    body[sizeof body - 1] = '\0';
    for (int i = 0; i < 20000; i++)
        append(s, 1, 1, (uint64_t)i, 0, "I", body);
    assert_int_equal(spool_bytes(s), 20000ULL * (17 + 300));
    int n = 0;
    assert_int_equal(spool_replay(s, 1, count_checked, &n, err, sizeof err), 20000);
    assert_int_equal(n, 20000);
    spool_set_destroy(s);
}

static int fail_second(void *arg, uint64_t lsn, const unsigned char *msg, size_t len, char *errstr,
                       size_t errstr_size)
{
    (void)lsn;
    (void)msg;
    (void)len;
    int *n = arg;
    if (++*n == 2) {
        snprintf(errstr, errstr_size, "stop here");
        return -1;
    }
    return 0;
}

static void test_callback_error_stops_the_replay(void **state)
{
    (void)state;
    char err[256] = "";
    int n = 0;
    struct spool_set *s = spool_set_new("");
    assert_int_equal(spool_open(s, 3, 0, err, sizeof err), 1);
    append(s, 3, 3, 1, 0, "I", "1");
    append(s, 3, 3, 2, 0, "I", "2");
    append(s, 3, 3, 3, 0, "I", "3");
    assert_int_equal(spool_replay(s, 3, fail_second, &n, err, sizeof err), -1);
    assert_int_equal(n, 2);
    assert_string_equal(err, "stop here");
    assert_int_equal(spool_count(s), 0);
    spool_set_destroy(s);
}

static void test_missing_directory_is_a_clear_error(void **state)
{
    (void)state;
    char err[512] = "";
    struct spool_set *s = spool_set_new("/nonexistent/salescdc-spool");
    assert_int_equal(spool_open(s, 42, 0, err, sizeof err), -1);
    assert_non_null(strstr(err, "streamed transaction 42"));
    assert_non_null(strstr(err, "/nonexistent/salescdc-spool"));
    assert_non_null(strstr(err, "spool.dir"));
    assert_int_equal(spool_append(s, 42, 42, 1, 0, "I", 1, "", 0, err, sizeof err), -1);
    spool_set_destroy(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_replays_in_order_without_aborted_subtransactions),
        cmocka_unit_test(test_top_level_abort_drops_the_spool),
        cmocka_unit_test(test_large_spool_round_trips),
        cmocka_unit_test(test_callback_error_stops_the_replay),
        cmocka_unit_test(test_missing_directory_is_a_clear_error),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
