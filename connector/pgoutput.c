/* Decoder of the pgoutput logical replication protocol, bounds-checked byte by byte. */
#include "pgoutput.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Reusable arrays the decoded messages point into (grown, never shrunk). */
struct scratch {
    void *data;
    size_t cap; /* elements */
};

struct pgoutput_decoder {
    int in_stream; /* between Stream Start and Stream Stop: data messages carry an xid */
    struct scratch old_cols, new_cols, rel_cols, relids;
};

/* A cursor over one message. The first failed read records the offset and cause in ERR;
 * later reads return zeroes, so a parser checks once at the end. */
struct reader {
    const unsigned char *base, *p, *end;
    char err[160];
};

static const struct {
    int type;
    const char *name;
} type_names[] = {
    {PGOUTPUT_BEGIN, "Begin"},
    {PGOUTPUT_COMMIT, "Commit"},
    {PGOUTPUT_ORIGIN, "Origin"},
    {PGOUTPUT_RELATION, "Relation"},
    {PGOUTPUT_TYPE, "Type"},
    {PGOUTPUT_INSERT, "Insert"},
    {PGOUTPUT_UPDATE, "Update"},
    {PGOUTPUT_DELETE, "Delete"},
    {PGOUTPUT_TRUNCATE, "Truncate"},
    {PGOUTPUT_MESSAGE, "Message"},
    {PGOUTPUT_STREAM_START, "Stream Start"},
    {PGOUTPUT_STREAM_STOP, "Stream Stop"},
    {PGOUTPUT_STREAM_COMMIT, "Stream Commit"},
    {PGOUTPUT_STREAM_ABORT, "Stream Abort"},
    {PGOUTPUT_BEGIN_PREPARE, "Begin Prepare"},
    {PGOUTPUT_PREPARE, "Prepare"},
    {PGOUTPUT_COMMIT_PREPARED, "Commit Prepared"},
    {PGOUTPUT_ROLLBACK_PREPARED, "Rollback Prepared"},
    {PGOUTPUT_STREAM_PREPARE, "Stream Prepare"},
};

const char *pgoutput_msg_type_name(int type)
{
    for (size_t i = 0; i < sizeof type_names / sizeof type_names[0]; i++)
        if (type_names[i].type == type)
            return type_names[i].name;
    return "unknown";
}

struct pgoutput_decoder *pgoutput_decoder_new(void)
{
    return xcalloc(1, sizeof(struct pgoutput_decoder));
}

void pgoutput_decoder_destroy(struct pgoutput_decoder *dec)
{
    if (!dec)
        return;
    free(dec->old_cols.data);
    free(dec->new_cols.data);
    free(dec->rel_cols.data);
    free(dec->relids.data);
    free(dec);
}

static void *scratch_get(struct scratch *s, size_t n, size_t elem_size)
{
    if (n > s->cap) {
        s->data = xrealloc(s->data, n * elem_size);
        s->cap = n;
    }
    return s->data;
}

static size_t remaining(const struct reader *r)
{
    return (size_t)(r->end - r->p);
}

/* Records the first failure: the offset of the field that could not be read, and why. */
static void fail(struct reader *r, const char *cause, size_t need)
{
    if (r->err[0])
        return;
    if (need)
        snprintf(r->err, sizeof r->err, "offset %zu: %s truncated (needs %zu bytes, %zu left)",
                 (size_t)(r->p - r->base), cause, need, remaining(r));
    else
        snprintf(r->err, sizeof r->err, "offset %zu: %s", (size_t)(r->p - r->base), cause);
    r->p = r->end; /* nothing more is read after a failure */
}

/* Reads an unsigned big-endian integer of N bytes (network order, as pq_sendintN writes). */
static uint64_t read_uint(struct reader *r, size_t n, const char *what)
{
    uint64_t v = 0;
    if (r->err[0] || remaining(r) < n) {
        fail(r, what, n);
        return 0;
    }
    for (size_t i = 0; i < n; i++)
        v = v << 8 | r->p[i];
    r->p += n;
    return v;
}

#define read_u8(r, what) ((uint8_t)read_uint((r), 1, (what)))
#define read_u16(r, what) ((uint16_t)read_uint((r), 2, (what)))
#define read_u32(r, what) ((uint32_t)read_uint((r), 4, (what)))
#define read_u64(r, what) read_uint((r), 8, (what))
#define read_i64(r, what) ((int64_t)read_uint((r), 8, (what)))

/* Reads a NUL-terminated string (pq_sendstring); returns it in place, or "" on failure. */
static const char *read_string(struct reader *r, const char *what)
{
    const unsigned char *nul = r->err[0] ? NULL : memchr(r->p, '\0', remaining(r));
    if (!nul) {
        fail(r, what, remaining(r) + 1);
        return "";
    }
    const char *s = (const char *)r->p;
    r->p = nul + 1;
    return s;
}

/* Reads N raw bytes; returns them in place, or NULL on failure. */
static const char *read_bytes(struct reader *r, size_t n, const char *what)
{
    if (r->err[0] || remaining(r) < n) {
        fail(r, what, n);
        return NULL;
    }
    const char *s = (const char *)r->p;
    r->p += n;
    return s;
}

/* TupleData:
 *   Int16 ncols, then per column Byte1 kind:
 *     'n' NULL, 'u' unchanged TOASTed value (no data follows),
 *     't' text or 'b' binary: Int32 length, Byte[length] value. */
static void read_tuple(struct reader *r, struct scratch *s, struct pgoutput_tuple *t)
{
    uint16_t n = read_u16(r, "tuple column count");
    if (n > remaining(r)) { /* every column needs at least its kind byte */
        fail(r, "tuple columns", n);
        n = 0;
    }
    struct pgoutput_value *cols = scratch_get(s, n, sizeof *cols);
    for (uint16_t i = 0; i < n && !r->err[0]; i++) {
        uint8_t kind = read_u8(r, "tuple column kind");
        cols[i] = (struct pgoutput_value){(enum pgoutput_col_kind)kind, NULL, 0};
        if (kind == 't' || kind == 'b') {
            cols[i].len = read_u32(r, "tuple column length");
            cols[i].data = read_bytes(r, cols[i].len, "tuple column value");
        } else if (kind != 'n' && kind != 'u' && !r->err[0]) {
            r->p--;
            fail(r, "tuple column kind is not one of n, u, t, b", 0);
        }
    }
    t->ncols = r->err[0] ? 0 : n;
    t->cols = cols;
}

/* Byte1 tuple marker that must be one of ALLOWED (e.g. "KON"); returns it, or 0 on failure. */
static char read_marker(struct reader *r, const char *allowed)
{
    uint8_t c = read_u8(r, "tuple marker");
    if (r->err[0])
        return 0;
    if (c == 0 || !strchr(allowed, c)) {
        char cause[64];
        snprintf(cause, sizeof cause, "tuple marker 0x%02x is not one of %s", c, allowed);
        r->p--;
        fail(r, cause, 0);
        return 0;
    }
    return (char)c;
}

/* Begin:  Int64 final LSN, Int64 commit time, Int32 xid.
 * Begin Prepare ('b'):  Int64 prepare LSN, Int64 end LSN, Int64 prepare time, Int32 xid,
 * String gid. */
static void parse_begin(struct reader *r, struct pgoutput_msg *m)
{
    if (m->type == PGOUTPUT_BEGIN) {
        m->u.begin.final_lsn = read_u64(r, "final LSN");
        m->u.begin.commit_time = read_i64(r, "commit time");
        m->xid = read_u32(r, "xid");
        return;
    }
    m->u.twophase.lsn1 = read_u64(r, "prepare LSN");
    m->u.twophase.lsn2 = read_u64(r, "end LSN");
    m->u.twophase.time = read_i64(r, "prepare time");
    m->xid = read_u32(r, "xid");
    m->u.twophase.gid = read_string(r, "gid");
}

/* Commit:  Int8 flags (0), Int64 commit LSN, Int64 end LSN, Int64 commit time.
 * Stream Commit ('c'):  Int32 xid, then the same fields. */
static void parse_commit(struct reader *r, struct pgoutput_msg *m)
{
    if (m->type == PGOUTPUT_STREAM_COMMIT)
        m->xid = read_u32(r, "xid");
    /* commit and stream_commit share one layout */
    m->u.commit.flags = read_u8(r, "flags");
    m->u.commit.commit_lsn = read_u64(r, "commit LSN");
    m->u.commit.end_lsn = read_u64(r, "end LSN");
    m->u.commit.commit_time = read_i64(r, "commit time");
}

/* Prepare ('P'), Commit Prepared ('K'), Stream Prepare ('p'):  Int8 flags, Int64 LSN,
 * Int64 end LSN, Int64 time, Int32 xid, String gid.
 * Rollback Prepared ('r'):  Int8 flags, Int64 prepare end LSN, Int64 rollback end LSN,
 * Int64 prepare time, Int64 rollback time, Int32 xid, String gid. */
static void parse_twophase(struct reader *r, struct pgoutput_msg *m)
{
    m->u.twophase.flags = read_u8(r, "flags");
    m->u.twophase.lsn1 = read_u64(r, "LSN");
    m->u.twophase.lsn2 = read_u64(r, "end LSN");
    m->u.twophase.time = read_i64(r, "time");
    if (m->type == PGOUTPUT_ROLLBACK_PREPARED)
        m->u.twophase.time2 = read_i64(r, "rollback time");
    m->xid = read_u32(r, "xid");
    m->u.twophase.gid = read_string(r, "gid");
}

/* Origin:  Int64 LSN of the commit on the origin server, String origin name. */
static void parse_origin(struct reader *r, struct pgoutput_msg *m)
{
    m->u.origin.lsn = read_u64(r, "origin LSN");
    m->u.origin.name = read_string(r, "origin name");
}

/* Relation:  Int32 relation id, String namespace ("" for pg_catalog), String relation name,
 * Int8 replica identity (relreplident), Int16 column count, then per column: Int8 flags
 * (1: part of the replica identity), String name, Int32 type OID, Int32 type modifier. */
static void parse_relation(struct pgoutput_decoder *dec, struct reader *r, struct pgoutput_msg *m)
{
    m->u.relation.relid = read_u32(r, "relation id");
    m->u.relation.nspname = read_string(r, "namespace");
    m->u.relation.relname = read_string(r, "relation name");
    m->u.relation.replident = (char)read_u8(r, "replica identity");
    uint16_t n = read_u16(r, "column count");
    if (n > remaining(r) / 10) { /* a column takes at least 10 bytes */
        fail(r, "columns", (size_t)n * 10);
        n = 0;
    }
    struct pgoutput_column *cols = scratch_get(&dec->rel_cols, n, sizeof *cols);
    for (uint16_t i = 0; i < n && !r->err[0]; i++) {
        cols[i].flags = read_u8(r, "column flags");
        cols[i].name = read_string(r, "column name");
        cols[i].type_oid = read_u32(r, "column type");
        cols[i].typmod = (int32_t)read_u32(r, "column type modifier");
    }
    m->u.relation.ncols = r->err[0] ? 0 : n;
    m->u.relation.cols = cols;
}

/* Type:  Int32 type OID, String namespace, String type name. */
static void parse_type(struct reader *r, struct pgoutput_msg *m)
{
    m->u.type.oid = read_u32(r, "type OID");
    m->u.type.nspname = read_string(r, "namespace");
    m->u.type.typname = read_string(r, "type name");
}

/* Insert:  Int32 relation id, Byte1 'N', TupleData new row. */
static void parse_insert(struct pgoutput_decoder *dec, struct reader *r, struct pgoutput_msg *m)
{
    m->u.insert.relid = read_u32(r, "relation id");
    read_marker(r, "N");
    read_tuple(r, &dec->new_cols, &m->u.insert.new_tuple);
}

/* Update:  Int32 relation id, optionally Byte1 'K' (old key columns, when the key changed) or
 * 'O' (old row, REPLICA IDENTITY FULL) with TupleData, then Byte1 'N', TupleData new row. */
static void parse_update(struct pgoutput_decoder *dec, struct reader *r, struct pgoutput_msg *m)
{
    m->u.update.relid = read_u32(r, "relation id");
    char marker = read_marker(r, "KON");
    if (marker == 'K' || marker == 'O') {
        m->u.update.old_kind = marker;
        read_tuple(r, &dec->old_cols, &m->u.update.old_tuple);
        read_marker(r, "N");
    }
    read_tuple(r, &dec->new_cols, &m->u.update.new_tuple);
}

/* Delete:  Int32 relation id, Byte1 'K' (key columns) or 'O' (whole row), TupleData. */
static void parse_delete(struct pgoutput_decoder *dec, struct reader *r, struct pgoutput_msg *m)
{
    m->u.delete_.relid = read_u32(r, "relation id");
    m->u.delete_.old_kind = read_marker(r, "KO");
    read_tuple(r, &dec->old_cols, &m->u.delete_.old_tuple);
}

/* Truncate:  Int32 relation count, Int8 options (1 CASCADE, 2 RESTART IDENTITY),
 * Int32 relation id per relation. */
static void parse_truncate(struct pgoutput_decoder *dec, struct reader *r, struct pgoutput_msg *m)
{
    uint32_t n = read_u32(r, "relation count");
    m->u.truncate.options = read_u8(r, "options");
    if (n > remaining(r) / 4) {
        fail(r, "relation ids", (size_t)n * 4);
        n = 0;
    }
    uint32_t *relids = scratch_get(&dec->relids, n, sizeof *relids);
    for (uint32_t i = 0; i < n; i++)
        relids[i] = read_u32(r, "relation id");
    m->u.truncate.nrelids = r->err[0] ? 0 : n;
    m->u.truncate.relids = relids;
}

/* Message (pg_logical_emit_message; sent when the option messages is on):  Int8 flags
 * (1: transactional), Int64 LSN, String prefix, Int32 length, Byte[length] content. */
static void parse_message(struct reader *r, struct pgoutput_msg *m)
{
    m->u.message.flags = read_u8(r, "flags");
    m->u.message.lsn = read_u64(r, "LSN");
    m->u.message.prefix = read_string(r, "prefix");
    m->u.message.len = read_u32(r, "content length");
    m->u.message.content = read_bytes(r, m->u.message.len, "content");
}

/* Stream Start:  Int32 xid, Int8 first segment (1 for the transaction's first block).
 * Stream Stop:  no fields.  Stream Abort:  Int32 xid, Int32 subtransaction xid (equal to
 * xid when the whole transaction aborted). */
static void parse_stream(struct pgoutput_decoder *dec, struct reader *r, struct pgoutput_msg *m)
{
    switch (m->type) {
    case PGOUTPUT_STREAM_START:
        m->xid = read_u32(r, "xid");
        m->u.stream_start.first_segment = read_u8(r, "first segment");
        dec->in_stream = 1;
        break;
    case PGOUTPUT_STREAM_STOP: dec->in_stream = 0; break;
    default:
        m->xid = read_u32(r, "xid");
        m->u.stream_abort.subxid = read_u32(r, "subtransaction xid");
        break;
    }
}

/* Data messages (Relation, Type, Insert, Update, Delete, Truncate, Message) start with an
 * Int32 xid only inside a streamed block (between Stream Start and Stream Stop). */
static int dispatch(struct pgoutput_decoder *dec, struct reader *r, struct pgoutput_msg *m)
{
    switch (m->type) {
    case PGOUTPUT_BEGIN:
    case PGOUTPUT_BEGIN_PREPARE: parse_begin(r, m); return 0;
    case PGOUTPUT_COMMIT:
    case PGOUTPUT_STREAM_COMMIT: parse_commit(r, m); return 0;
    case PGOUTPUT_PREPARE:
    case PGOUTPUT_COMMIT_PREPARED:
    case PGOUTPUT_ROLLBACK_PREPARED:
    case PGOUTPUT_STREAM_PREPARE: parse_twophase(r, m); return 0;
    case PGOUTPUT_ORIGIN: parse_origin(r, m); return 0;
    case PGOUTPUT_STREAM_START:
    case PGOUTPUT_STREAM_STOP:
    case PGOUTPUT_STREAM_ABORT: parse_stream(dec, r, m); return 0;
    default: break;
    }
    if (dec->in_stream)
        m->xid = read_u32(r, "xid");
    switch (m->type) {
    case PGOUTPUT_RELATION: parse_relation(dec, r, m); return 0;
    case PGOUTPUT_TYPE: parse_type(r, m); return 0;
    case PGOUTPUT_INSERT: parse_insert(dec, r, m); return 0;
    case PGOUTPUT_UPDATE: parse_update(dec, r, m); return 0;
    case PGOUTPUT_DELETE: parse_delete(dec, r, m); return 0;
    case PGOUTPUT_TRUNCATE: parse_truncate(dec, r, m); return 0;
    case PGOUTPUT_MESSAGE: parse_message(r, m); return 0;
    default: return -1;
    }
}

int pgoutput_decode(struct pgoutput_decoder *dec, const void *buf, size_t len,
                    struct pgoutput_msg *msg, char *errstr, size_t errstr_size)
{
    struct reader r = {buf, buf, (const unsigned char *)buf + len, ""};

    memset(msg, 0, sizeof *msg);
    if (len == 0) {
        snprintf(errstr, errstr_size, "decode pgoutput message: empty message");
        return -1;
    }
    msg->type = (enum pgoutput_msg_type)read_u8(&r, "message type");
    if (dispatch(dec, &r, msg) < 0) {
        snprintf(errstr, errstr_size,
                 "decode pgoutput message: offset 0: unknown message type 0x%02x", msg->type);
        return -1;
    }
    if (!r.err[0] && r.p != r.end)
        snprintf(r.err, sizeof r.err, "offset %zu: %zu unexpected bytes after the message",
                 (size_t)(r.p - r.base), remaining(&r));
    if (r.err[0]) {
        snprintf(errstr, errstr_size, "decode pgoutput %s message ('%c', %zu bytes): %s",
                 pgoutput_msg_type_name(msg->type), (char)msg->type, len, r.err);
        return -1;
    }
    return 0;
}
