/* The replication session: a libpq replication=database connection that creates the logical
 * slot, runs START_REPLICATION with pgoutput, hands out the stream's messages and sends standby
 * status updates on a timer and on request. */
#ifndef SALESCDC_REPLICATION_H
#define SALESCDC_REPLICATION_H

#include <stddef.h>
#include <stdint.h>

#include "lsn_tracker.h"
#include "repl_proto.h"

struct replication_options {
    const char *conninfo;    /* borrowed; replication=database and GUCs are added */
    const char *slot;        /* borrowed */
    const char *publication; /* borrowed */
    int proto_version;       /* 1, or 2 for streaming of in-progress transactions */
    int status_interval_ms;  /* standby status update period (keep < wal_sender_timeout) */
};

struct replication;

/* Connects (pgconn_open(): text output that parses unambiguously). Returns the session (caller
 * frees with replication_destroy()) or NULL with errstr naming the server and the cause. */
struct replication *replication_new(const struct replication_options *opt, char *errstr,
                                    size_t errstr_size);
void replication_destroy(struct replication *r);

/* Creates the logical slot with plugin pgoutput; sets *CONSISTENT_LSN to the position from
 * which it streams. With EXPORT_SNAPSHOT, copies the exported snapshot's name into SNAPSHOT_ID:
 * it shows exactly the transactions committed before the consistent point, and stays importable
 * (SET TRANSACTION SNAPSHOT) until the next command on this session. Returns 0 or -1 with
 * errstr. */
int replication_create_slot(struct replication *r, int export_snapshot, uint64_t *consistent_lsn,
                            char *snapshot_id, size_t snapshot_id_size, char *errstr,
                            size_t errstr_size);

/* Drops the slot (waiting while another process releases it). Returns 0 or -1 with errstr. */
int replication_drop_slot(struct replication *r, char *errstr, size_t errstr_size);

/* Copies the server's system identifier (IDENTIFY_SYSTEM) into SYSTEM_ID. Returns 0 or -1. */
int replication_identify(struct replication *r, char *system_id, size_t size, char *errstr,
                         size_t errstr_size);

/* Starts streaming from START (0: the slot's confirmed position). Returns 0 or -1 with errstr
 * (e.g. the slot is active for another PID). */
int replication_start(struct replication *r, uint64_t start, char *errstr, size_t errstr_size);

/* Waits up to TIMEOUT_MS for the next message and parses it into *MSG (borrowing a buffer that
 * lives until the next call). Returns 1 for a message, 0 on timeout, -1 with errstr when the
 * stream failed or ended. Keepalives are returned too (the caller decides about replies). */
int replication_next(struct replication *r, int timeout_ms, struct repl_proto_msg *msg,
                     char *errstr, size_t errstr_size);

/* Sends a standby status update when FORCE is set or the interval has passed since the last
 * one: written = received, flushed = applied = acknowledged (T's positions), then records the
 * flushed position in T as confirmed. With REPLY, asks the server to answer with a keepalive
 * (which carries its WAL position). Returns 0 or -1 with errstr. */
int replication_feedback(struct replication *r, struct lsn_tracker *t, int force, int reply,
                         char *errstr, size_t errstr_size);

/* Milliseconds until the next timed status update is due (for the caller's wait). */
int replication_feedback_due_ms(const struct replication *r);

/* Non-zero while the connection is up. */
int replication_connected(struct replication *r);

/* The server version (e.g. 150020). */
int replication_server_version(const struct replication *r);

#endif
