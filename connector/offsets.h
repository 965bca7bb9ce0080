/* The connector's offsets: one record per connector (key = its name) on a compacted Kafka topic,
 * saying up to which WAL position its changes are committed to Kafka and whether its snapshot
 * is complete. Written inside the Kafka transaction whose events it covers (exactly-once), read
 * back with isolation.level=read_committed at start-up.
 *
 * Record value (JSON, UTF-8):
 *   {"version":1, "name":"<connector>", "slot":"<slot>", "system_id":"<pg system identifier>",
 *    "lsn":"X/Y"         end LSN of the last committed source transaction: everything whose
 *                        commit LSN is below it is in Kafka (the snapshot's consistent point
 *                        right after a snapshot),
 *    "commit_lsn":"X/Y"  commit LSN of that transaction (0/0 after a snapshot),
 *    "snapshot":"running"|"done"|"none", "ts_ms":<wall clock of the write>} */
#ifndef SALESCDC_CONNECTOR_OFFSETS_H
#define SALESCDC_CONNECTOR_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum offsets_snapshot {
    OFFSETS_SNAPSHOT_NONE,    /* no snapshot taken (snapshot.mode never, or an older record) */
    OFFSETS_SNAPSHOT_RUNNING, /* a snapshot was started and has not completed */
    OFFSETS_SNAPSHOT_DONE,    /* the slot's snapshot completed */
};

struct offsets_record {
    char slot[64];
    char system_id[32];
    uint64_t lsn, commit_lsn;
    enum offsets_snapshot snapshot;
};

/* The JSON value of R for connector NAME. Caller frees with free(). */
char *offsets_encode(const char *name, const struct offsets_record *r);

/* Parses record value TEXT[0..LEN) into *R. Returns 0, or -1 with errstr naming the cause. */
int offsets_decode(const char *text, size_t len, struct offsets_record *r, char *errstr,
                   size_t errstr_size);

/* Creates TOPIC (1 partition, cleanup.policy=compact) if missing, then reads it to its end
 * (read_committed; CFG's kafka.* keys apply) and sets *R to the newest record keyed NAME. Returns
 * 1 when one was found, 0 when none, -1 with errstr (Kafka unreachable, TOPIC unreadable, or not
 * read to its end within TIMEOUT_MS). Call it after init_transactions(): then no transaction of
 * this connector is still open and the newest committed record is final. */
int offsets_read(const struct config *cfg, const char *topic, const char *name, int timeout_ms,
                 struct offsets_record *r, char *errstr, size_t errstr_size);

/* The name of snapshot state S ("none", "running", "done"). */
const char *offsets_snapshot_name(enum offsets_snapshot s);

#endif
