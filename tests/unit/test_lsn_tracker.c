/* Unit tests of connector/lsn_tracker.c: the flush LSN never passes an undelivered event. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lsn_tracker.h"

static void test_starts_at_the_slot_position(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0x1000);
    assert_int_equal(lsn_tracker_get_received(t), 0x1000);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x1000);
    assert_int_equal(lsn_tracker_get_confirmed(t), 0x1000);
    lsn_tracker_destroy(t);
}

static void test_commit_alone_does_not_acknowledge_undelivered_events(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0);
    uint64_t a = lsn_tracker_begin(t);
    lsn_tracker_event(t, a);
    lsn_tracker_event(t, a);
    lsn_tracker_commit(t, a, 0x200);
    assert_int_equal(lsn_tracker_get_received(t), 0x200);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0);
    lsn_tracker_ack(t, a);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0);
    lsn_tracker_ack(t, a);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x200);
    assert_int_equal(lsn_tracker_in_flight(t), 0);
    lsn_tracker_destroy(t);
}

static void test_later_transaction_waits_for_earlier_one(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0);
    uint64_t a = lsn_tracker_begin(t);
    lsn_tracker_event(t, a);
    lsn_tracker_commit(t, a, 0x100);
    uint64_t b = lsn_tracker_begin(t);
    lsn_tracker_event(t, b);
    lsn_tracker_commit(t, b, 0x200);
    lsn_tracker_ack(t, b); /* delivered out of order */
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0);
    lsn_tracker_ack(t, a);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x200);
    lsn_tracker_destroy(t);
}

static void test_open_transaction_blocks_acknowledgement(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0);
    uint64_t a = lsn_tracker_begin(t);
    lsn_tracker_event(t, a);
    lsn_tracker_ack(t, a); /* delivered, but the transaction may still have more events */
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0);
    lsn_tracker_commit(t, a, 0x300);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x300);
    lsn_tracker_destroy(t);
}

static void test_empty_transaction_acknowledges_at_commit(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0);
    lsn_tracker_commit(t, lsn_tracker_begin(t), 0x50);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x50);
    lsn_tracker_destroy(t);
}

/* A keepalive position passes a transaction only once it is delivered. */
static void test_idle_keepalive_waits_for_what_is_in_flight(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0x10);
    lsn_tracker_idle(t, 0x80);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x80);
    uint64_t a = lsn_tracker_begin(t);
    lsn_tracker_event(t, a);
    lsn_tracker_commit(t, a, 0x100);
    lsn_tracker_idle(t, 0x400);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x80);
    assert_int_equal(lsn_tracker_get_received(t), 0x400);
    lsn_tracker_ack(t, a);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x400);
    lsn_tracker_idle(t, 0x500);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x500);
    lsn_tracker_destroy(t);
}

static void test_failed_produce_is_uncounted(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0);
    uint64_t a = lsn_tracker_begin(t);
    lsn_tracker_event(t, a);
    lsn_tracker_unevent(t, a);
    assert_int_equal(lsn_tracker_pending_events(t), 0);
    lsn_tracker_commit(t, a, 0x70);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x70);
    lsn_tracker_destroy(t);
}

static void test_confirmed_follows_status_updates_and_never_regresses(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0);
    lsn_tracker_confirmed_sent(t, 0x90);
    lsn_tracker_confirmed_sent(t, 0x40);
    assert_int_equal(lsn_tracker_get_confirmed(t), 0x90);
    lsn_tracker_destroy(t);
}

/* Many transactions in flight at once (ring growth and wrap-around), delivered in reverse. */
static void test_many_transactions_acknowledged_in_reverse(void **state)
{
    (void)state;
    enum { N = 1000 };
    static uint64_t seqs[N];
    struct lsn_tracker *t = lsn_tracker_new(0);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < N; i++) {
            seqs[i] = lsn_tracker_begin(t);
            lsn_tracker_event(t, seqs[i]);
            lsn_tracker_commit(t, seqs[i], (uint64_t)(round * N + i + 1) * 16);
        }
        for (int i = N - 1; i > 0; i--)
            lsn_tracker_ack(t, seqs[i]);
        assert_int_equal(lsn_tracker_get_acknowledged(t), (uint64_t)round * N * 16);
        lsn_tracker_ack(t, seqs[0]);
        assert_int_equal(lsn_tracker_get_acknowledged(t), (uint64_t)(round + 1) * N * 16);
        assert_int_equal(lsn_tracker_in_flight(t), 0);
    }
    lsn_tracker_destroy(t);
}

/* Exactly-once holds each source transaction with one extra event until its Kafka transaction
 * commits: delivered events alone must not let the flush position pass it. */
static void test_held_transaction_waits_for_the_kafka_commit(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0);
    uint64_t a = lsn_tracker_begin(t);
    lsn_tracker_event(t, a); /* the hold */
    lsn_tracker_event(t, a);
    lsn_tracker_commit(t, a, 0x100);
    uint64_t b = lsn_tracker_begin(t);
    lsn_tracker_event(t, b);
    lsn_tracker_commit(t, b, 0x200);
    lsn_tracker_ack(t, a); /* delivered, not committed */
    lsn_tracker_idle(t, 0x300);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0);
    lsn_tracker_ack(t, a); /* the Kafka transaction committed: release the hold */
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x100);
    lsn_tracker_ack(t, b); /* the keepalive's position, held back until now */
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x300);
    lsn_tracker_destroy(t);
}

/* The server sends its position once when it has caught up; if that happens while events are
 * still in flight, the position must still be confirmed when they are delivered (the server
 * sends no second keepalive: the status update said we have received it all). */
static void test_keepalive_during_delivery_applies_when_drained(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(0);
    uint64_t a = lsn_tracker_begin(t);
    lsn_tracker_event(t, a);
    lsn_tracker_commit(t, a, 0x100);
    lsn_tracker_idle(t, 0x180);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0);
    assert_int_equal(lsn_tracker_get_received(t), 0x180);
    lsn_tracker_ack(t, a);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x180);
    uint64_t b = lsn_tracker_begin(t); /* a later transaction is not passed by an old keepalive */
    lsn_tracker_event(t, b);
    lsn_tracker_commit(t, b, 0x200);
    lsn_tracker_ack(t, b);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 0x200);
    lsn_tracker_destroy(t);
}

/* A streamed transaction is opened at its first block; transactions that commit meanwhile are
 * not acknowledged past it (nor is a keepalive), until it commits (or aborts: end LSN 0). */
static void test_streamed_transaction_holds_later_commits(void **state)
{
    (void)state;
    struct lsn_tracker *t = lsn_tracker_new(100);
    uint64_t big = lsn_tracker_begin(t);
    uint64_t small = lsn_tracker_begin(t);
    lsn_tracker_event(t, small);
    lsn_tracker_commit(t, small, 200);
    lsn_tracker_ack(t, small);
    lsn_tracker_idle(t, 250);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 100);
    lsn_tracker_event(t, big);
    lsn_tracker_commit(t, big, 300);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 100);
    lsn_tracker_ack(t, big);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 300);
    uint64_t aborted = lsn_tracker_begin(t);
    uint64_t next = lsn_tracker_begin(t);
    lsn_tracker_commit(t, next, 400);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 300);
    lsn_tracker_commit(t, aborted, 0);
    assert_int_equal(lsn_tracker_get_acknowledged(t), 400);
    lsn_tracker_destroy(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_starts_at_the_slot_position),
        cmocka_unit_test(test_commit_alone_does_not_acknowledge_undelivered_events),
        cmocka_unit_test(test_later_transaction_waits_for_earlier_one),
        cmocka_unit_test(test_open_transaction_blocks_acknowledgement),
        cmocka_unit_test(test_empty_transaction_acknowledges_at_commit),
        cmocka_unit_test(test_idle_keepalive_waits_for_what_is_in_flight),
        cmocka_unit_test(test_failed_produce_is_uncounted),
        cmocka_unit_test(test_confirmed_follows_status_updates_and_never_regresses),
        cmocka_unit_test(test_many_transactions_acknowledged_in_reverse),
        cmocka_unit_test(test_held_transaction_waits_for_the_kafka_commit),
        cmocka_unit_test(test_keepalive_during_delivery_applies_when_drained),
        cmocka_unit_test(test_streamed_transaction_holds_later_commits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
