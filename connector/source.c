/* The source side of a session: whether the slot exists, whether a snapshot is due (by
 * snapshot.mode and the offsets record), the snapshot itself, and where streaming starts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector_internal.h"
#include "log.h"
#include "snapshot.h"
#include "snapshot_policy.h"
#include "xalloc.h"

/* True when the offsets record R describes this slot on this server. */
static int offsets_match(const struct connector *c, const struct offsets_record *r)
{
    if (!c->have_offsets)
        return 0;
    if (strcmp(r->slot, c->o->slot) == 0 && strcmp(r->system_id, c->system_id) == 0)
        return 1;
    log_warn("offsets record ignored: it is for slot %s on system %s, this is slot %s on system "
             "%s",
             r->slot, r->system_id, c->o->slot, c->system_id);
    return 0;
}

struct snapshot_row_ctx {
    struct connector *c;
    uint32_t relid;
    uint64_t rows;
};

/* With exactly-once, rows go into the open Kafka transaction: committed every
 * snapshot.transaction.max.records rows, or only with the "done" record when that is 0. */
static int on_snapshot_row(void *arg, const struct pgoutput_tuple *row, char *errstr,
                           size_t errstr_size)
{
    struct snapshot_row_ctx *ctx = arg;
    struct connector *c = ctx->c;
    int max = c->o->snapshot_txn_max_records;
    if (txnbatch_open(c->batch, errstr, errstr_size) < 0 ||
        connector_emit_read(c, ctx->relid, row, errstr, errstr_size) < 0)
        return -1;
    if (++ctx->rows % 1024 == 0)
        publisher_poll(c->pub);
    if (max > 0 && txnbatch_records(c->batch) >= (uint64_t)max)
        return connector_commit_batch(c, errstr, errstr_size);
    return 0;
}

/* Announces table RELID (as a Relation message would) and reads its rows. */
static int read_table(struct connector *c, struct snapshot *snap, uint32_t relid, uint64_t *rows,
                      char *errstr, size_t errstr_size)
{
    struct pgoutput_msg m;
    struct snapshot_row_ctx ctx = {c, relid, 0};
    if (snapshot_relation(snap, c->o->publication, relid, &m, errstr, errstr_size) < 0 ||
        connector_handle(c, &m, errstr, errstr_size) < 0)
        return -1;
    struct relcache_rel *rel = relcache_get(c->rels, relid);
    int64_t n = snapshot_read(snap, rel, c->o->snapshot_fetch_rows, on_snapshot_row, &ctx, c->stop,
                              errstr, errstr_size);
    if (n < 0)
        return -1;
    *rows += (uint64_t)n;
    return 0;
}

/* Reads every published table in exported snapshot SNAPSHOT_ID (consistent point CP). */
static int read_tables(struct connector *c, uint64_t cp, const char *snapshot_id, char *errstr,
                       size_t errstr_size)
{
    uint32_t *relids = NULL;
    uint64_t rows = 0;
    int64_t t0 = connector_mono_ms();
    struct snapshot *snap = snapshot_open(c->o->conninfo, snapshot_id, errstr, errstr_size);
    int n = snap ? snapshot_tables(snap, c->o->publication, &relids, errstr, errstr_size) : -1;
    c->txn_seq = PUBLISHER_UNTRACKED;
    c->src_txid = -1;
    c->msg_lsn = cp;
    c->commit_ms = connector_wall_ms();
    int rc = n < 0 ? -1 : 0;
    for (int i = 0; i < n && rc == 0; i++)
        rc = read_table(c, snap, relids[i], &rows, errstr, errstr_size);
    snapshot_close(snap);
    free(relids);
    if (rc == 0)
        log_info("snapshot read tables=%d rows=%llu elapsed_ms=%lld consistent_point=" LSN_FMT, n,
                 (unsigned long long)rows, (long long)(connector_mono_ms() - t0), LSN_ARGS(cp));
    return rc;
}

/* Records the snapshot as running, creates the slot with an exported snapshot, reads it, and
 * records it done in the same Kafka transaction as its last rows. */
static int take_snapshot(struct connector *c, char *errstr, size_t errstr_size)
{
    char id[128], err[256];
    uint64_t cp = 0;
    struct offsets_record *rec = txnbatch_record(c->batch);
    *rec = (struct offsets_record){.snapshot = OFFSETS_SNAPSHOT_RUNNING};
    snprintf(rec->slot, sizeof rec->slot, "%s", c->o->slot);
    snprintf(rec->system_id, sizeof rec->system_id, "%s", c->system_id);
    /* one long Kafka transaction for the whole snapshot needs a producer that allows it */
    int one_txn = c->o->exactly_once && c->o->snapshot_txn_max_records == 0;
    if ((one_txn &&
         connector_open_kafka(c, c->o->snapshot_txn_timeout_ms, errstr, errstr_size) < 0) ||
        connector_commit_batch(c, errstr, errstr_size) < 0 ||
        replication_create_slot(c->repl, 1, &cp, id, sizeof id, errstr, errstr_size) < 0)
        return -1;
    metrics_set_state(c->metrics, METRICS_STATE_SNAPSHOT);
    int rc = read_tables(c, cp, id, errstr, errstr_size);
    if (rc == 0 && !c->o->exactly_once) /* every row acknowledged before "done" is written */
        rc = publisher_flush(c->pub, c->o->txn_timeout_ms, errstr, errstr_size) < 0 ||
                     publisher_failed(c->pub, errstr, errstr_size)
                 ? -1
                 : 0;
    if (rc < 0) {
        txnbatch_abort(c->batch, err, sizeof err);
        return -1;
    }
    rec->snapshot = OFFSETS_SNAPSHOT_DONE;
    rec->lsn = cp;
    if (connector_commit_batch(c, errstr, errstr_size) < 0 ||
        (one_txn && connector_open_kafka(c, 0, errstr, errstr_size) < 0))
        return -1;
    c->start_lsn = c->skip_before = cp;
    log_info("snapshot complete slot=%s consistent_point=" LSN_FMT, c->o->slot, LSN_ARGS(cp));
    return 0;
}

/* Streaming position when the slot exists: from what the slot confirmed (it is confirmed only
 * after Kafka commits, so it may lag the offsets topic); transactions the offsets topic says are
 * committed are then skipped here, whatever the server sends again. */
static void resume(struct connector *c, uint64_t confirmed, int match)
{
    struct offsets_record *rec = txnbatch_record(c->batch);
    c->skip_before = match ? rec->lsn : 0;
    c->start_lsn = confirmed;
    log_info("resuming slot=%s confirmed_flush=" LSN_FMT " stored_lsn=" LSN_FMT, c->o->slot,
             LSN_ARGS(confirmed), LSN_ARGS(c->skip_before));
}

int connector_source_prepare(struct connector *c, char *errstr, size_t errstr_size)
{
    const char *why;
    uint64_t confirmed = c->slot_confirmed;
    struct offsets_record *rec = txnbatch_record(c->batch);
    int match = offsets_match(c, rec);
    enum snapshot_policy_action act =
        snapshot_policy_decide(c->o->snapshot_mode, c->slot_exists, match ? rec : NULL, &why);
    if (why)
        log_warn("slot %s: %s", c->o->slot, why);
    if (act == SNAPSHOT_POLICY_DROP_AND_SNAPSHOT &&
        replication_drop_slot(c->repl, errstr, errstr_size) < 0)
        return -1;
    if (!match) { /* from here on the record describes this slot */
        *rec = (struct offsets_record){.snapshot = OFFSETS_SNAPSHOT_NONE};
        snprintf(rec->slot, sizeof rec->slot, "%s", c->o->slot);
        snprintf(rec->system_id, sizeof rec->system_id, "%s", c->system_id);
    }
    if (act == SNAPSHOT_POLICY_SNAPSHOT || act == SNAPSHOT_POLICY_DROP_AND_SNAPSHOT) {
        if (take_snapshot(c, errstr, errstr_size) < 0)
            return -1;
    } else if (act == SNAPSHOT_POLICY_CREATE_SLOT) {
        if (replication_create_slot(c->repl, 0, &confirmed, NULL, 0, errstr, errstr_size) < 0)
            return -1;
        c->start_lsn = confirmed;
        c->skip_before = 0;
    } else {
        resume(c, confirmed, match);
    }
    c->finished = c->o->snapshot_mode == CONNECTOR_SNAPSHOT_INITIAL_ONLY;
    if (c->finished)
        log_info("snapshot.mode initial_only: the snapshot of slot %s is complete; not streaming",
                 c->o->slot);
    return 0;
}
