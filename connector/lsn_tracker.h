/* The one owner of the connector's WAL positions: received (seen in the stream), acknowledged
 * (every event up to it delivered) and confirmed (reported to the server as flushed).
 * Acknowledged advances only to the end LSN of the newest committed transaction that has all of
 * its events, and all earlier transactions' events, delivered (bottledwater's maybe_checkpoint). */
#ifndef SALESCDC_LSN_TRACKER_H
#define SALESCDC_LSN_TRACKER_H

#include <stddef.h>
#include <stdint.h>

struct lsn_tracker;

/* Creates a tracker whose positions all start at START (the slot's confirmed_flush_lsn, or 0).
 * Caller frees with lsn_tracker_destroy(). */
struct lsn_tracker *lsn_tracker_new(uint64_t start);
void lsn_tracker_destroy(struct lsn_tracker *t);

/* Notes that the stream reached LSN (XLogData start or end of WAL from a message). */
void lsn_tracker_received(struct lsn_tracker *t, uint64_t lsn);

/* Opens a transaction (at Begin); returns its sequence number, which events carry to
 * lsn_tracker_ack(). Transactions are opened in stream order; a streamed transaction is opened
 * at its first block and commits after later ones, holding acknowledged before it until then. */
uint64_t lsn_tracker_begin(struct lsn_tracker *t);
/* Counts one event of transaction SEQ handed to Kafka (before produce). */
void lsn_tracker_event(struct lsn_tracker *t, uint64_t seq);
/* Drops one event of SEQ that was never handed over after all (the produce call failed). */
void lsn_tracker_unevent(struct lsn_tracker *t, uint64_t seq);
/* Marks SEQ complete: no more events; END_LSN is the Commit's end LSN. */
void lsn_tracker_commit(struct lsn_tracker *t, uint64_t seq, uint64_t end_lsn);
/* Records the delivery of one event of SEQ (from the delivery report). */
void lsn_tracker_ack(struct lsn_tracker *t, uint64_t seq);

/* The server's end of WAL WAL_END (from a keepalive: everything before it was sent) holds
 * nothing for us once no transaction is open or undelivered: acknowledged moves up to it now,
 * or as soon as the transactions in flight are done, so an idle slot does not pin WAL. */
void lsn_tracker_idle(struct lsn_tracker *t, uint64_t wal_end);

/* Records that a status update reported LSN as flushed. */
void lsn_tracker_confirmed_sent(struct lsn_tracker *t, uint64_t lsn);

uint64_t lsn_tracker_get_received(const struct lsn_tracker *t);
uint64_t lsn_tracker_get_acknowledged(const struct lsn_tracker *t);
uint64_t lsn_tracker_get_confirmed(const struct lsn_tracker *t);
/* Transactions opened whose events are not all delivered yet. */
size_t lsn_tracker_in_flight(const struct lsn_tracker *t);
/* Events handed to Kafka and not yet acknowledged. */
uint64_t lsn_tracker_pending_events(const struct lsn_tracker *t);

#endif
