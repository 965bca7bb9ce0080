/* Streaming replication protocol framing (CopyBoth sub-protocol of START_REPLICATION). */
#include "repl_proto.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "pgoutput.h"

static uint64_t get_be64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

static void put_be64(unsigned char *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (unsigned char)(v & 0xff);
}

/* XLogData:  Byte1 'w', Int64 start LSN of the data, Int64 server's end of WAL,
 *            Int64 server send time, Byte[n] payload (one pgoutput message).
 * Primary keepalive:  Byte1 'k', Int64 server's end of WAL, Int64 server send time,
 *            Byte1 1 if the server asks for an immediate status update. */
int repl_proto_parse(const void *buf, size_t len, struct repl_proto_msg *msg, char *errstr,
                     size_t errstr_size)
{
    const unsigned char *p = buf;

    memset(msg, 0, sizeof *msg);
    if (len >= 1 && p[0] == 'w') {
        if (len < 25)
            goto truncated;
        msg->kind = REPL_PROTO_XLOGDATA;
        msg->wal_start = get_be64(p + 1);
        msg->wal_end = get_be64(p + 9);
        msg->send_time = (int64_t)get_be64(p + 17);
        msg->data = (const char *)p + 25;
        msg->len = len - 25;
        return 0;
    }
    if (len >= 1 && p[0] == 'k') {
        if (len < 18)
            goto truncated;
        msg->kind = REPL_PROTO_KEEPALIVE;
        msg->wal_end = get_be64(p + 1);
        msg->send_time = (int64_t)get_be64(p + 9);
        msg->reply_requested = p[17] != 0;
        return 0;
    }
    snprintf(errstr, errstr_size,
             "read replication stream: offset 0: unknown CopyData message 0x%02x (%zu bytes)",
             len ? p[0] : 0, len);
    return -1;
truncated:
    snprintf(errstr, errstr_size,
             "read replication stream: '%c' message truncated at offset %zu (%s needs %d bytes)",
             p[0], len, p[0] == 'w' ? "XLogData" : "keepalive", p[0] == 'w' ? 25 : 18);
    return -1;
}

/* Standby status update:  Byte1 'r', Int64 written LSN, Int64 flushed LSN, Int64 applied LSN
 * (each "last WAL byte + 1" of what the client has written/flushed/applied; the server advances
 * the slot's confirmed_flush_lsn to the flushed one), Int64 client time, Byte1 1 to ask for an
 * immediate reply. */
void repl_proto_status(unsigned char out[REPL_PROTO_STATUS_SIZE], uint64_t written,
                       uint64_t flushed, uint64_t applied, int64_t now, int reply)
{
    out[0] = 'r';
    put_be64(out + 1, written);
    put_be64(out + 9, flushed);
    put_be64(out + 17, applied);
    put_be64(out + 25, (uint64_t)now);
    out[33] = reply ? 1 : 0;
}

int64_t repl_proto_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 - PGOUTPUT_EPOCH_OFFSET_US;
}
