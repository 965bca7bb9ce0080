/* State shared by the connector's parts: the retry loop (connector.c), one session's start-up
 * (session.c), its slot and snapshot (source.c), its replication stream (stream.c) and the change
 * handlers (handlers.c). */
#ifndef SALESCDC_CONNECTOR_INTERNAL_H
#define SALESCDC_CONNECTOR_INTERNAL_H

#include <signal.h>
#include <stdint.h>

#include "avro_encode.h"
#include "lsn_tracker.h"
#include "metrics.h"
#include "offsets.h"
#include "options.h"
#include "pgcatalog.h"
#include "pgoutput.h"
#include "publisher.h"
#include "registry_client.h"
#include "relcache.h"
#include "spool.h"
#include "replication.h"
#include "strbuf.h"
#include "txnbatch.h"

/* Per captured table (relcache ext): its encoder, topic, registered schema ids and counters. */
struct connector_table {
    struct avroenc *enc;
    char *topic;
    int32_t key_id, value_id;
    struct metrics_table *metrics;
};

struct connector {
    const struct connector_options *o;
    volatile sig_atomic_t *stop;
    /* for the whole run */
    struct metrics *metrics;
    struct registry_client *registry;
    int sessions;               /* sessions started */
    int fatal;                  /* the last error will not go away by retrying */
    int streamed;               /* the last session reached streaming */
    int finished;               /* nothing more to do (snapshot.mode initial_only) */
    int64_t slot_busy_since_ms; /* when the slot was first found active for another process */
    /* one session */
    struct pgcatalog *cat;
    struct replication *repl;
    struct pgoutput_decoder *dec;
    struct relcache *rels;
    struct lsn_tracker *lsn;
    struct publisher *pub;
    struct txnbatch *batch;
    struct spool_set *spool; /* streamed transactions not yet committed */
    char *dbname;
    char system_id[32];
    int slot_exists;          /* the slot existed when the session started */
    uint64_t slot_confirmed;  /* its confirmed_flush_lsn then */
    int have_offsets;         /* the offsets topic had a record of this connector */
    uint64_t start_lsn;       /* where streaming starts */
    uint64_t skip_before;     /* transactions committed below this LSN are already in Kafka */
    struct strbuf key, value; /* reused encoding buffers */
    /* the transaction being decoded (or the snapshot being read) */
    int in_txn, skipping;
    uint64_t txn_seq;
    int64_t src_txid;
    int64_t commit_ms;
    uint64_t msg_lsn;    /* XLogData start of the message being handled */
    int in_stream;       /* between Stream Start and Stream Stop */
    uint32_t stream_xid; /* the streamed block's top-level transaction */
    uint64_t events, txns, skipped;
    /* timers of the stream loop (monotonic ms) */
    int64_t next_heartbeat_ms, next_wal_poll_ms;
    int heartbeat_pending;
};

/* One session: connects, prepares the source, snapshots if needed and streams until *stop or an
 * error. Returns 0 when stopped (or done), -1 with errstr; c->fatal says not to retry. */
int connector_session(struct connector *c, char *errstr, size_t errstr_size);

/* (Re)creates the Kafka producer (transaction.timeout.ms TXN_TIMEOUT_MS when > 0) and, for
 * exactly-once, registers its transactional.id, which ends whatever transaction an earlier
 * producer of this connector left open. Returns 0 or -1 with errstr. */
int connector_open_kafka(struct connector *c, int txn_timeout_ms, char *errstr, size_t errstr_size);

/* Slot and snapshot (source.c): finds or creates the slot, runs the snapshot the mode asks for
 * and sets c->start_lsn and c->skip_before. Returns 0 or -1 with errstr. */
int connector_source_prepare(struct connector *c, char *errstr, size_t errstr_size);

/* Streams from c->start_lsn until *stop or an error, then flushes or commits what is complete
 * and confirms it. Returns 0, or -1 with errstr. */
int connector_stream(struct connector *c, char *errstr, size_t errstr_size);

/* Commits the open Kafka transaction with the offsets record; classifies failures (fenced:
 * the session decides whether that is fatal). Returns 0 or -1 with errstr. */
int connector_commit_batch(struct connector *c, char *errstr, size_t errstr_size);

/* Handles one decoded pgoutput message. Returns 0, or -1 with errstr (c->fatal when retrying
 * cannot help). */
int connector_handle(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                     size_t errstr_size);

/* Begin of source transaction M with LSN tracker sequence SEQ. Returns 0 or -1 with errstr. */
int connector_begin(struct connector *c, const struct pgoutput_msg *m, uint64_t seq, char *errstr,
                    size_t errstr_size);

/* A message of a streamed transaction (proto_version 2): Stream Start/Stop/Abort/Commit, or a
 * data message (RAW[0..LEN) as received) inside a streamed block, which is spooled. At Stream
 * Commit the spool is replayed through connector_handle() as one source transaction. Returns 0
 * or -1 with errstr. */
int connector_streamed(struct connector *c, const struct pgoutput_msg *m, const void *raw,
                       size_t len, char *errstr, size_t errstr_size);

/* Produces the snapshot row ROW of relation RELID as an op 'r' event. Returns 0 or -1. */
int connector_emit_read(struct connector *c, uint32_t relid, const struct pgoutput_tuple *row,
                        char *errstr, size_t errstr_size);

/* Milliseconds since an arbitrary start (CLOCK_MONOTONIC) / since the epoch (CLOCK_REALTIME). */
int64_t connector_mono_ms(void);
int64_t connector_wall_ms(void);

#endif
