/* Unit tests of connector/snapshot_policy.c: a snapshot is taken exactly when it must be, and a
 * snapshot cut short is never counted as done. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "snapshot_policy.h"

static const struct offsets_record running = {.snapshot = OFFSETS_SNAPSHOT_RUNNING};
static const struct offsets_record done = {.snapshot = OFFSETS_SNAPSHOT_DONE};
static const struct offsets_record none = {.snapshot = OFFSETS_SNAPSHOT_NONE};

static enum snapshot_policy_action decide(enum connector_snapshot_mode mode, int exists,
                                          const struct offsets_record *r)
{
    const char *why;
    return snapshot_policy_decide(mode, exists, r, &why);
}

static void test_initial_snapshots_a_new_slot_only(void **state)
{
    (void)state;
    for (int m = CONNECTOR_SNAPSHOT_INITIAL; m <= CONNECTOR_SNAPSHOT_INITIAL_ONLY;
         m += CONNECTOR_SNAPSHOT_INITIAL_ONLY) {
        assert_int_equal(decide(m, 0, NULL), SNAPSHOT_POLICY_SNAPSHOT);
        assert_int_equal(decide(m, 1, NULL), SNAPSHOT_POLICY_STREAM);
        assert_int_equal(decide(m, 1, &done), SNAPSHOT_POLICY_STREAM);
        assert_int_equal(decide(m, 1, &none), SNAPSHOT_POLICY_STREAM);
    }
}

static void test_snapshot_cut_short_is_taken_again(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(snapshot_policy_decide(CONNECTOR_SNAPSHOT_INITIAL, 1, &running, &why),
                     SNAPSHOT_POLICY_DROP_AND_SNAPSHOT);
    assert_non_null(why);
    assert_int_equal(decide(CONNECTOR_SNAPSHOT_INITIAL, 0, &running), SNAPSHOT_POLICY_SNAPSHOT);
}

static void test_lost_slot_is_snapshotted_again_with_a_warning(void **state)
{
    (void)state;
    const char *why;
    assert_int_equal(snapshot_policy_decide(CONNECTOR_SNAPSHOT_INITIAL, 0, &done, &why),
                     SNAPSHOT_POLICY_SNAPSHOT);
    assert_non_null(why);
}

static void test_never_and_always(void **state)
{
    (void)state;
    assert_int_equal(decide(CONNECTOR_SNAPSHOT_NEVER, 0, &running), SNAPSHOT_POLICY_CREATE_SLOT);
    assert_int_equal(decide(CONNECTOR_SNAPSHOT_NEVER, 1, &running), SNAPSHOT_POLICY_STREAM);
    assert_int_equal(decide(CONNECTOR_SNAPSHOT_ALWAYS, 1, &done),
                     SNAPSHOT_POLICY_DROP_AND_SNAPSHOT);
    assert_int_equal(decide(CONNECTOR_SNAPSHOT_ALWAYS, 0, NULL), SNAPSHOT_POLICY_SNAPSHOT);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_initial_snapshots_a_new_slot_only),
        cmocka_unit_test(test_snapshot_cut_short_is_taken_again),
        cmocka_unit_test(test_lost_slot_is_snapshotted_again_with_a_warning),
        cmocka_unit_test(test_never_and_always),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
