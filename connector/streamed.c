/* Streamed transactions (pgoutput proto_version 2, streaming 'on'): the blocks of a large
 * in-progress transaction are spooled to a file per top-level xid; Stream Abort drops a
 * subtransaction's changes or the whole spool; Stream Commit replays the spool as one ordinary
 * source transaction (Begin, the changes, Commit), so exactly-once batching and LSN confirmation
 * work as for any other transaction.
 *
 * LSNs: the transaction takes its LSN tracker sequence when its first block arrives, and the
 * tracker acknowledges nothing past an open transaction, so the slot's confirmed position stays
 * before the streamed transaction until it is committed and published; a restart makes the
 * server stream it again from the start. */
#include <stdio.h>
#include <string.h>

#include "connector_internal.h"
#include "log.h"

#define POLL_EVERY 1024 /* replayed messages between deliveries polls and status updates */

struct replay_ctx {
    struct connector *c;
    int64_t n;
};

/* One spooled message: decoded like a message outside a streamed block (the spool keeps it
 * without the xid) and handled as part of the open source transaction. */
static int replay_one(void *arg, uint64_t lsn, const unsigned char *msg, size_t len, char *errstr,
                      size_t errstr_size)
{
    struct replay_ctx *ctx = arg;
    struct connector *c = ctx->c;
    struct pgoutput_msg m;
    c->msg_lsn = lsn;
    if (pgoutput_decode(c->dec, msg, len, &m, errstr, errstr_size) < 0) {
        c->fatal = 1;
        return -1;
    }
    if (connector_handle(c, &m, errstr, errstr_size) < 0)
        return -1;
    if (++ctx->n % POLL_EVERY == 0) {
        publisher_poll(c->pub); /* deliveries, so the queue drains while we produce */
        if (publisher_failed(c->pub, errstr, errstr_size) ||
            replication_feedback(c->repl, c->lsn, 0, 0, errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

/* Stream Commit: Begin (with the sequence taken at the first block), the spool, Commit. */
static int on_stream_commit(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                            size_t errstr_size)
{
    uint64_t seq;
    if (spool_tag(c->spool, m->xid, &seq) < 0)
        seq = lsn_tracker_begin(c->lsn); /* nothing was streamed for it */
    struct pgoutput_msg b = {.type = PGOUTPUT_BEGIN, .xid = m->xid};
    b.u.begin.final_lsn = m->u.stream_commit.commit_lsn;
    b.u.begin.commit_time = m->u.stream_commit.commit_time;
    uint64_t commit_msg_lsn = c->msg_lsn;
    if (connector_begin(c, &b, seq, errstr, errstr_size) < 0)
        return -1;
    struct replay_ctx ctx = {c, 0};
    int64_t n = spool_replay(c->spool, m->xid, replay_one, &ctx, errstr, errstr_size);
    if (n < 0)
        return -1;
    c->msg_lsn = commit_msg_lsn;
    struct pgoutput_msg e = {.type = PGOUTPUT_COMMIT, .xid = m->xid};
    e.u.commit.flags = m->u.stream_commit.flags;
    e.u.commit.commit_lsn = m->u.stream_commit.commit_lsn;
    e.u.commit.end_lsn = m->u.stream_commit.end_lsn;
    e.u.commit.commit_time = m->u.stream_commit.commit_time;
    log_info("streamed transaction committed xid=%u messages=%lld commit_lsn=" LSN_FMT, m->xid,
             (long long)n, LSN_ARGS(e.u.commit.commit_lsn));
    return connector_handle(c, &e, errstr, errstr_size);
}

/* Stream Abort: of a subtransaction, its changes are left out; of the top level, the spool goes
 * and its tracker sequence is released (it holds no events). */
static void on_stream_abort(struct connector *c, const struct pgoutput_msg *m)
{
    uint64_t seq;
    uint32_t subxid = m->u.stream_abort.subxid;
    if (subxid == m->xid && spool_tag(c->spool, m->xid, &seq) == 0)
        lsn_tracker_commit(c->lsn, seq, 0);
    spool_abort(c->spool, m->xid, subxid);
    log_debug("streamed transaction aborted xid=%u subxid=%u", m->xid, subxid);
}

/* A data message inside a streamed block: to the spool without its xid (byte 1..4). Schema
 * messages are kept even if their subtransaction aborts: later changes rely on them. */
static int spool_message(struct connector *c, const struct pgoutput_msg *m, const void *raw,
                         size_t len, char *errstr, size_t errstr_size)
{
    const unsigned char *p = raw;
    int keep = m->type == PGOUTPUT_RELATION || m->type == PGOUTPUT_TYPE;
    if (m->type == PGOUTPUT_MESSAGE && !(m->u.message.flags & 1))
        return 0; /* a non-transactional logical message: nothing to publish */
    uint64_t seq;
    if (spool_tag(c->spool, c->stream_xid, &seq) < 0) { /* the transaction's first block */
        seq = lsn_tracker_begin(c->lsn);
        if (spool_open(c->spool, c->stream_xid, seq, errstr, errstr_size) < 0) {
            lsn_tracker_commit(c->lsn, seq, 0);
            return -1;
        }
        log_debug("streamed transaction spooled xid=%u first_lsn=" LSN_FMT, c->stream_xid,
                  LSN_ARGS(c->msg_lsn));
    }
    return spool_append(c->spool, c->stream_xid, m->xid, c->msg_lsn, keep, p, 1, p + 5, len - 5,
                        errstr, errstr_size);
}

int connector_streamed(struct connector *c, const struct pgoutput_msg *m, const void *raw,
                       size_t len, char *errstr, size_t errstr_size)
{
    switch (m->type) {
    case PGOUTPUT_STREAM_START:
        c->in_stream = 1;
        c->stream_xid = m->xid;
        return 0;
    case PGOUTPUT_STREAM_STOP: c->in_stream = 0; return 0;
    case PGOUTPUT_STREAM_ABORT: on_stream_abort(c, m); return 0;
    case PGOUTPUT_STREAM_COMMIT: return on_stream_commit(c, m, errstr, errstr_size);
    default: return spool_message(c, m, raw, len, errstr, errstr_size);
    }
}
