/* Decoder of the pgoutput logical replication protocol (PostgreSQL proto_version 1–3) into
 * structs; every read is bounds-checked against the message length. */
#ifndef SALESCDC_PGOUTPUT_H
#define SALESCDC_PGOUTPUT_H

#include <stddef.h>
#include <stdint.h>

/* Message types: the first byte of every pgoutput message (PostgreSQL's LogicalRepMsgType). */
enum pgoutput_msg_type {
    PGOUTPUT_BEGIN = 'B',
    PGOUTPUT_COMMIT = 'C',
    PGOUTPUT_ORIGIN = 'O',
    PGOUTPUT_RELATION = 'R',
    PGOUTPUT_TYPE = 'Y',
    PGOUTPUT_INSERT = 'I',
    PGOUTPUT_UPDATE = 'U',
    PGOUTPUT_DELETE = 'D',
    PGOUTPUT_TRUNCATE = 'T',
    PGOUTPUT_MESSAGE = 'M',
    PGOUTPUT_STREAM_START = 'S',
    PGOUTPUT_STREAM_STOP = 'E',
    PGOUTPUT_STREAM_COMMIT = 'c',
    PGOUTPUT_STREAM_ABORT = 'A',
    PGOUTPUT_BEGIN_PREPARE = 'b',
    PGOUTPUT_PREPARE = 'P',
    PGOUTPUT_COMMIT_PREPARED = 'K',
    PGOUTPUT_ROLLBACK_PREPARED = 'r',
    PGOUTPUT_STREAM_PREPARE = 'p',
};

/* Kinds of a tuple column (TupleData): its first byte. */
enum pgoutput_col_kind {
    PGOUTPUT_COL_NULL = 'n',
    PGOUTPUT_COL_UNCHANGED_TOAST = 'u', /* value not sent: unchanged TOASTed datum */
    PGOUTPUT_COL_TEXT = 't',            /* type output function's text */
    PGOUTPUT_COL_BINARY = 'b',          /* type send function's bytes (option binary 'true') */
};

/* Truncate option bits. */
#define PGOUTPUT_TRUNCATE_CASCADE 1
#define PGOUTPUT_TRUNCATE_RESTART_IDENTITY 2
/* Relation column flag: the column is part of the replica identity. */
#define PGOUTPUT_COLUMN_KEY 1

/* One column value. DATA points into the decoded message (borrowed, not NUL-terminated). */
struct pgoutput_value {
    enum pgoutput_col_kind kind;
    const char *data; /* NULL unless kind is TEXT or BINARY */
    uint32_t len;
};

struct pgoutput_tuple {
    uint16_t ncols;
    const struct pgoutput_value *cols; /* borrowed from the decoder */
};

struct pgoutput_column {
    uint8_t flags;    /* PGOUTPUT_COLUMN_KEY */
    const char *name; /* borrowed, NUL-terminated */
    uint32_t type_oid;
    int32_t typmod;
};

/* PostgreSQL timestamps in messages are microseconds since 2000-01-01 00:00:00 UTC. */
#define PGOUTPUT_EPOCH_OFFSET_US 946684800000000LL

/* A decoded message. All pointers are borrowed: valid until the next pgoutput_decode() call on
 * the same decoder and while the message buffer lives. XID is 0 when the message carries none
 * (outside a streamed transaction). */
struct pgoutput_msg {
    enum pgoutput_msg_type type;
    uint32_t xid;
    union {
        struct {
            uint64_t final_lsn;
            int64_t commit_time;
        } begin;
        struct {
            uint8_t flags;
            uint64_t commit_lsn, end_lsn;
            int64_t commit_time;
        } commit;
        struct {
            uint64_t lsn;
            const char *name;
        } origin;
        struct {
            uint32_t relid;
            const char *nspname; /* "" for pg_catalog */
            const char *relname;
            char replident; /* 'd' default, 'n' nothing, 'f' full, 'i' index */
            uint16_t ncols;
            const struct pgoutput_column *cols;
        } relation;
        struct {
            uint32_t oid;
            const char *nspname, *typname;
        } type;
        struct {
            uint32_t relid;
            struct pgoutput_tuple new_tuple;
        } insert;
        struct {
            uint32_t relid;
            char old_kind; /* 0: no old tuple; 'K': key columns only; 'O': whole old row */
            struct pgoutput_tuple old_tuple, new_tuple;
        } update;
        struct {
            uint32_t relid;
            char old_kind;
            struct pgoutput_tuple old_tuple;
        } delete_;
        struct {
            uint8_t options;
            uint32_t nrelids;
            const uint32_t *relids;
        } truncate;
        struct {
            uint8_t flags; /* 1: transactional */
            uint64_t lsn;
            const char *prefix;
            uint32_t len;
            const char *content; /* borrowed, LEN bytes */
        } message;
        struct {
            uint8_t first_segment;
        } stream_start;
        struct {
            uint8_t flags;
            uint64_t commit_lsn, end_lsn;
            int64_t commit_time;
        } stream_commit;
        struct {
            uint32_t subxid;
        } stream_abort;
        /* Two-phase (proto_version 3): Begin Prepare, Prepare, Commit Prepared, Stream Prepare
         * use LSN1/LSN2 as prepare (or commit) LSN and end LSN, TIME as the prepare or commit
         * time; Rollback Prepared uses LSN1 = prepare end LSN, LSN2 = rollback end LSN,
         * TIME = prepare time, TIME2 = rollback time. */
        struct {
            uint8_t flags;
            uint64_t lsn1, lsn2;
            int64_t time, time2;
            const char *gid;
        } twophase;
    } u;
};

struct pgoutput_decoder;

/* Creates a decoder. It tracks Stream Start/Stop, since inside a streamed block every
 * data message carries the transaction id. Caller frees with pgoutput_decoder_destroy(). */
struct pgoutput_decoder *pgoutput_decoder_new(void);
void pgoutput_decoder_destroy(struct pgoutput_decoder *dec);

/* Decodes the pgoutput message BUF[0..LEN) (the payload of one XLogData) into *MSG. Returns 0,
 * or -1 with errstr naming the message type, the byte offset and the cause; never reads outside
 * BUF. MSG's pointers borrow from BUF and from DEC. */
int pgoutput_decode(struct pgoutput_decoder *dec, const void *buf, size_t len,
                    struct pgoutput_msg *msg, char *errstr, size_t errstr_size);

/* The name of a message type ("Insert", ...), or "unknown". */
const char *pgoutput_msg_type_name(int type);

#endif
