/* Unit tests of connector/repl_proto.c: XLogData and keepalive framing, status updates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "repl_proto.h"

static void test_xlogdata_header_and_payload(void **state)
{
    (void)state;
    static const unsigned char w[] = {'w', 0, 0, 0, 0,    0xE9, 0x29, 0x6A, 0xF8,
                                      0,   0, 0, 0, 0xE9, 0x29, 0x6B, 0x00, 0,
                                      0,   0, 0, 0, 0,    0,    7,    'E'};
    struct repl_proto_msg m;
    char err[256];
    assert_int_equal(repl_proto_parse(w, sizeof w, &m, err, sizeof err), 0);
    assert_int_equal(m.kind, REPL_PROTO_XLOGDATA);
    assert_true(m.wal_start == 0xE9296AF8 && m.wal_end == 0xE9296B00 && m.send_time == 7);
    assert_int_equal(m.len, 1);
    assert_int_equal(m.data[0], 'E');
}

static void test_keepalive_reply_request(void **state)
{
    (void)state;
    static const unsigned char k[] = {'k', 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3, 1};
    struct repl_proto_msg m;
    char err[256];
    assert_int_equal(repl_proto_parse(k, sizeof k, &m, err, sizeof err), 0);
    assert_int_equal(m.kind, REPL_PROTO_KEEPALIVE);
    assert_true(m.wal_end == 0x100000002ULL && m.send_time == 3);
    assert_true(m.reply_requested);
}

static void test_short_and_unknown_messages_fail(void **state)
{
    (void)state;
    static const unsigned char k[] = {'k', 0, 0};
    static const unsigned char w[24] = {'w'};
    static const unsigned char x[] = {'x'};
    struct repl_proto_msg m;
    char err[256];
    assert_int_equal(repl_proto_parse(k, sizeof k, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "keepalive needs 18 bytes"));
    assert_int_equal(repl_proto_parse(w, sizeof w, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "XLogData needs 25 bytes"));
    assert_int_equal(repl_proto_parse(x, sizeof x, &m, err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown CopyData message 0x78"));
    assert_int_equal(repl_proto_parse(x, 0, &m, err, sizeof err), -1);
}

static void test_status_update_layout(void **state)
{
    (void)state;
    unsigned char s[REPL_PROTO_STATUS_SIZE];
    repl_proto_status(s, 0x0102030405060708ULL, 0x10, 0x20, 0x30, 1);
    static const unsigned char want[REPL_PROTO_STATUS_SIZE] = {
        'r', 1, 2, 3, 4, 5, 6, 7,    8, 0, 0, 0, 0, 0, 0, 0,    0x10,
        0,   0, 0, 0, 0, 0, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0x30, 1};
    assert_memory_equal(s, want, sizeof want);
    assert_true(repl_proto_now() > 0); /* after 2000-01-01 */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_xlogdata_header_and_payload),
        cmocka_unit_test(test_keepalive_reply_request),
        cmocka_unit_test(test_short_and_unknown_messages_fail),
        cmocka_unit_test(test_status_update_layout),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
