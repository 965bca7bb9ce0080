/* Streaming replication protocol framing inside CopyBoth: XLogData and keepalive messages from
 * the server, standby status updates to it. */
#ifndef SALESCDC_REPL_PROTO_H
#define SALESCDC_REPL_PROTO_H

#include <stddef.h>
#include <stdint.h>

enum repl_proto_kind {
    REPL_PROTO_XLOGDATA = 'w',
    REPL_PROTO_KEEPALIVE = 'k',
};

/* One CopyData message from the server. For XLOGDATA, DATA/LEN is the pgoutput message
 * (borrowed from the CopyData buffer). */
struct repl_proto_msg {
    enum repl_proto_kind kind;
    uint64_t wal_start;  /* XLogData: LSN of the data (0 for some messages) */
    uint64_t wal_end;    /* server's current end of WAL */
    int64_t send_time;   /* server clock, microseconds since 2000-01-01 */
    int reply_requested; /* keepalive: the server wants a status update now */
    const char *data;
    size_t len;
};

/* Size of a standby status update. */
#define REPL_PROTO_STATUS_SIZE 34

/* Parses the CopyData message BUF[0..LEN). Returns 0, or -1 with errstr naming the message
 * kind, the offset and the cause. */
int repl_proto_parse(const void *buf, size_t len, struct repl_proto_msg *msg, char *errstr,
                     size_t errstr_size);

/* Writes a standby status update into OUT: WRITTEN, FLUSHED and APPLIED positions (we report
 * the confirmed position as flushed and applied), NOW in microseconds since 2000-01-01, and
 * whether we ask the server for an immediate reply. */
void repl_proto_status(unsigned char out[REPL_PROTO_STATUS_SIZE], uint64_t written,
                       uint64_t flushed, uint64_t applied, int64_t now, int reply);

/* Current time in PostgreSQL's representation (microseconds since 2000-01-01 UTC). */
int64_t repl_proto_now(void);

#endif
