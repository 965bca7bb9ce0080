/* Unit tests of connector/offsets.c's record format: what a restart reads back is what was
 * written, and a damaged record is refused (never taken as "nothing committed"). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "offsets.h"

static void test_record_round_trips(void **state)
{
    (void)state;
    struct offsets_record in = {.lsn = 0x12345678ABCULL,
                                .commit_lsn = 0x12345678AB0ULL,
                                .snapshot = OFFSETS_SNAPSHOT_DONE},
                          out;
    char err[256];
    strcpy(in.slot, "orders_slot");
    strcpy(in.system_id, "7312345678901234567");
    char *text = offsets_encode("orders", &in);
    assert_non_null(strstr(text, "\"name\":\"orders\""));
    assert_non_null(strstr(text, "\"lsn\":\"123/45678ABC\""));
    assert_int_equal(offsets_decode(text, strlen(text), &out, err, sizeof err), 0);
    assert_string_equal(out.slot, "orders_slot");
    assert_string_equal(out.system_id, "7312345678901234567");
    assert_int_equal(out.lsn, in.lsn);
    assert_int_equal(out.commit_lsn, in.commit_lsn);
    assert_int_equal(out.snapshot, OFFSETS_SNAPSHOT_DONE);
    free(text);
}

static void test_snapshot_states_round_trip(void **state)
{
    (void)state;
    char err[256];
    for (int s = OFFSETS_SNAPSHOT_NONE; s <= OFFSETS_SNAPSHOT_DONE; s++) {
        struct offsets_record in = {.snapshot = (enum offsets_snapshot)s}, out;
        char *text = offsets_encode("c", &in);
        assert_int_equal(offsets_decode(text, strlen(text), &out, err, sizeof err), 0);
        assert_int_equal(out.snapshot, s);
        assert_string_equal(offsets_snapshot_name(out.snapshot),
                            s == OFFSETS_SNAPSHOT_RUNNING ? "running"
                            : s == OFFSETS_SNAPSHOT_DONE  ? "done"
                                                          : "none");
        free(text);
    }
}

static void test_damaged_records_are_refused(void **state)
{
    (void)state;
    struct offsets_record out;
    char err[256];
    const char *bad[] = {
        "",
        "{not json",
        "{\"slot\":\"s\",\"system_id\":\"1\",\"lsn\":\"0/10\"}", /* commit_lsn missing */
        "{\"slot\":\"s\",\"system_id\":\"1\",\"lsn\":\"zz\",\"commit_lsn\":\"0/1\"}",
        "{\"slot\":\"s\",\"system_id\":\"1\",\"lsn\":\"0/10 \",\"commit_lsn\":\"0/1\"}",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        err[0] = '\0';
        assert_int_equal(offsets_decode(bad[i], strlen(bad[i]), &out, err, sizeof err), -1);
        assert_non_null(strstr(err, "offsets record"));
    }
}

static void test_missing_snapshot_field_means_none(void **state)
{
    (void)state;
    struct offsets_record out;
    char err[256];
    const char *text =
        "{\"slot\":\"s\",\"system_id\":\"1\",\"lsn\":\"1/0\",\"commit_lsn\":\"0/FF\"}";
    assert_int_equal(offsets_decode(text, strlen(text), &out, err, sizeof err), 0);
    assert_int_equal(out.snapshot, OFFSETS_SNAPSHOT_NONE);
    assert_int_equal(out.lsn, 0x100000000ULL);
    assert_int_equal(out.commit_lsn, 0xFF);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_record_round_trips),
        cmocka_unit_test(test_snapshot_states_round_trip),
        cmocka_unit_test(test_damaged_records_are_refused),
        cmocka_unit_test(test_missing_snapshot_field_means_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
