/* Replication session over libpq (replication=database), as pg_recvlogical does it.
 *
 * Read-ahead over a Unix socket: when the streaming thread has been away from
 * replication_next() for ARM_US (a Kafka commit, a full librdkafka queue, a registry call), a
 * reader thread keeps moving the server's CopyData messages from the socket into a bounded
 * queue (READAHEAD_BYTES / READAHEAD_MSGS), which replication_next() hands out first. Without
 * it, the walsender stops as soon as the socket's send buffer is full: for a Unix socket that
 * is net.core.wmem_default (~208 kB, a few hundred messages, a millisecond or two of the
 * stream), whereas TCP loopback autotunes to megabytes. In steady streaming the streaming
 * thread reads the socket itself (a hand-off per message would cost more than it saves). One
 * mutex guards the PGconn (libpq allows one thread at a time per connection) and the queue;
 * the socket is waited for without it. */
#include "replication.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "pgcatalog.h"
#include "pgconn.h"
#include "xalloc.h"

#define READAHEAD_BYTES (2 << 20) /* CopyData bytes the reader may hold ahead of the stream */
#define READAHEAD_MSGS 16384      /* and messages (the queue's slots) */
#define ARM_US 1000               /* the reader reads once the streaming thread is away this long */

struct copymsg {
    char *buf; /* from PQgetCopyData (PQfreemem) */
    int len;
};

struct replication {
    PGconn *conn;
    struct replication_options opt;
    char *copybuf;          /* last CopyData buffer, freed on the next call */
    int64_t last_status_us; /* monotonic time of the last status update */
    /* the reader thread, from replication_start() until the stream ends or destroy */
    pthread_t reader;
    int reader_running;   /* started and not yet joined */
    pthread_mutex_t lock; /* the PGconn (while the reader runs) and everything below */
    pthread_cond_t cond;  /* wakes the reader */
    struct copymsg *q;    /* ring of READAHEAD_MSGS */
    size_t q_head, q_count, q_bytes;
    int in_next;          /* the streaming thread is in replication_next() */
    int waiting;          /* ... and waits for the socket (the stream is idle) */
    int parked;           /* the reader sleeps until the streaming thread leaves */
    int64_t away_us;      /* when the streaming thread left replication_next() */
    int end;              /* the reader stopped: -1 the stream ended, -2 an error */
    int stop;             /* the reader is asked to stop */
    char reader_err[512]; /* for end == -2 */
};

static int64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

struct replication *replication_new(const struct replication_options *opt, char *errstr,
                                    size_t errstr_size)
{
    PGconn *conn = pgconn_open(opt->conninfo, 1, "replication", errstr, errstr_size);
    if (!conn)
        return NULL;
    struct replication *r = xcalloc(1, sizeof *r);
    r->opt = *opt;
    r->conn = conn;
    pthread_mutex_init(&r->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&r->cond, &ca);
    pthread_condattr_destroy(&ca);
    return r;
}

/* Asks the reader to stop and waits for it; the queued messages stay for the caller. */
static void reader_join(struct replication *r)
{
    if (!r->reader_running)
        return;
    pthread_mutex_lock(&r->lock);
    r->stop = 1;
    pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    pthread_join(r->reader, NULL);
    r->reader_running = 0;
}

void replication_destroy(struct replication *r)
{
    if (!r)
        return;
    reader_join(r);
    for (; r->q_count; r->q_count--, r->q_head = (r->q_head + 1) % READAHEAD_MSGS)
        PQfreemem(r->q[r->q_head].buf);
    free(r->q);
    pthread_cond_destroy(&r->cond);
    pthread_mutex_destroy(&r->lock);
    PQfreemem(r->copybuf);
    PQfinish(r->conn);
    free(r);
}

int replication_server_version(const struct replication *r)
{
    return PQserverVersion(r->conn);
}

int replication_create_slot(struct replication *r, int export_snapshot, uint64_t *consistent_lsn,
                            char *snapshot_id, size_t snapshot_id_size, char *errstr,
                            size_t errstr_size)
{
    char msg[512];
    char *slot = PQescapeIdentifier(r->conn, r->opt.slot, strlen(r->opt.slot));
    char *sql = xasprintf("CREATE_REPLICATION_SLOT %s LOGICAL pgoutput %s", slot,
                          export_snapshot ? "EXPORT_SNAPSHOT" : "NOEXPORT_SNAPSHOT");
    PGresult *res = PQexec(r->conn, sql);
    int rc = -1;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQnfields(res) < 3) {
        snprintf(errstr, errstr_size, "create replication slot %s: %s", r->opt.slot,
                 pgconn_error(r->conn, res, msg, sizeof msg));
    } else if (pgcatalog_parse_lsn(PQgetvalue(res, 0, 1), consistent_lsn) < 0) {
        snprintf(errstr, errstr_size, "create replication slot %s: bad consistent point '%s'",
                 r->opt.slot, PQgetvalue(res, 0, 1));
    } else {
        if (snapshot_id_size)
            snprintf(snapshot_id, snapshot_id_size, "%s",
                     export_snapshot && !PQgetisnull(res, 0, 2) ? PQgetvalue(res, 0, 2) : "");
        log_info("replication slot created slot=%s consistent_point=" LSN_FMT " snapshot=%s",
                 r->opt.slot, LSN_ARGS(*consistent_lsn),
                 export_snapshot ? PQgetvalue(res, 0, 2) : "none");
        rc = 0;
    }
    PQclear(res);
    free(sql);
    PQfreemem(slot);
    return rc;
}

int replication_drop_slot(struct replication *r, char *errstr, size_t errstr_size)
{
    char msg[512];
    char *slot = PQescapeIdentifier(r->conn, r->opt.slot, strlen(r->opt.slot));
    char *sql = xasprintf("DROP_REPLICATION_SLOT %s WAIT", slot);
    PGresult *res = PQexec(r->conn, sql);
    int rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : -1;
    if (rc < 0)
        snprintf(errstr, errstr_size, "drop replication slot %s: %s", r->opt.slot,
                 pgconn_error(r->conn, res, msg, sizeof msg));
    else
        log_info("replication slot dropped slot=%s", r->opt.slot);
    PQclear(res);
    free(sql);
    PQfreemem(slot);
    return rc;
}

int replication_identify(struct replication *r, char *system_id, size_t size, char *errstr,
                         size_t errstr_size)
{
    char msg[512];
    PGresult *res = PQexec(r->conn, "IDENTIFY_SYSTEM");
    int rc = PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1 ? 0 : -1;
    if (rc < 0)
        snprintf(errstr, errstr_size, "identify the server (IDENTIFY_SYSTEM): %s",
                 pgconn_error(r->conn, res, msg, sizeof msg));
    else
        snprintf(system_id, size, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return rc;
}

static void abs_time(struct timespec *ts, int64_t us)
{
    ts->tv_sec = us / 1000000;
    ts->tv_nsec = (long)(us % 1000000) * 1000;
}

/* Whether the reader should read now (with the lock held): the streaming thread has been away
 * for ARM_US and the queue has room. */
static int reader_armed(const struct replication *r, int64_t now)
{
    return !r->in_next && now >= r->away_us + ARM_US && r->q_count < READAHEAD_MSGS &&
           r->q_bytes < READAHEAD_BYTES;
}

/* The reader thread: with the lock held except while it sleeps or waits for the socket. */
static void *reader_main(void *arg)
{
    struct replication *r = arg;
    struct timespec ts;
    pthread_mutex_lock(&r->lock);
    while (!r->stop && !r->end) {
        int64_t now = mono_us();
        if (!reader_armed(r, now)) {
            if (r->waiting) { /* idle stream: sleep until the streaming thread leaves */
                r->parked = 1;
                pthread_cond_wait(&r->cond, &r->lock);
                r->parked = 0;
            } else {
                int64_t at =
                    r->in_next || now >= r->away_us + ARM_US ? now + ARM_US : r->away_us + ARM_US;
                abs_time(&ts, at);
                pthread_cond_timedwait(&r->cond, &r->lock, &ts);
            }
            continue;
        }
        char *buf = NULL;
        int n = PQgetCopyData(r->conn, &buf, 1);
        if (n > 0) {
            r->q[(r->q_head + r->q_count) % READAHEAD_MSGS] = (struct copymsg){buf, n};
            r->q_count++;
            r->q_bytes += (size_t)n;
            continue;
        }
        if (n < 0) { /* the end, or an error: the streaming thread reports it */
            r->end = n == -1 ? -1 : -2;
            pgconn_error(r->conn, NULL, r->reader_err, sizeof r->reader_err);
            break;
        }
        /* wait for the socket (briefly: the streaming thread may be back by then) */
        struct pollfd pfd = {PQsocket(r->conn), POLLIN, 0};
        pthread_mutex_unlock(&r->lock);
        int pn = poll(&pfd, 1, ARM_US / 1000);
        pthread_mutex_lock(&r->lock);
        if (pn > 0 && reader_armed(r, mono_us()) && !PQconsumeInput(r->conn)) {
            r->end = -2;
            pgconn_error(r->conn, NULL, r->reader_err, sizeof r->reader_err);
            break;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return NULL;
}

/* Whether the connection is a Unix socket (the read-ahead's case: over TCP the kernel's
 * autotuned buffers already hold megabytes, and the thread only cost CPU in
 * bench/connector_bench). */
static int unix_socket(PGconn *conn)
{
    struct sockaddr_storage ss;
    socklen_t len = sizeof ss;
    return getsockname(PQsocket(conn), (struct sockaddr *)&ss, &len) == 0 &&
           ss.ss_family == AF_UNIX;
}

/* Starts the reader thread with every signal blocked (they stay with the streaming thread). */
static int reader_start(struct replication *r, char *errstr, size_t errstr_size)
{
    sigset_t all, old;
    r->q = xcalloc(READAHEAD_MSGS, sizeof *r->q);
    r->away_us = mono_us();
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int err = pthread_create(&r->reader, NULL, reader_main, r);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (err) {
        snprintf(errstr, errstr_size, "start the replication reader: %s", strerror(err));
        return -1;
    }
    r->reader_running = 1;
    log_info("replication read-ahead on (Unix socket) slot=%s max_bytes=%d", r->opt.slot,
             READAHEAD_BYTES);
    return 0;
}

int replication_start(struct replication *r, uint64_t start, char *errstr, size_t errstr_size)
{
    char msg[512];
    char *slot = PQescapeIdentifier(r->conn, r->opt.slot, strlen(r->opt.slot));
    char *pub = PQescapeLiteral(r->conn, r->opt.publication, strlen(r->opt.publication));
    int proto = r->opt.proto_version;
    if (proto >= 2 && PQserverVersion(r->conn) < 140000) {
        log_info("streaming of in-progress transactions needs PostgreSQL 14; this server is %d: "
                 "using proto_version 1",
                 PQserverVersion(r->conn));
        proto = 1;
    }
    char *sql = xasprintf("START_REPLICATION SLOT %s LOGICAL " LSN_FMT
                          " (proto_version '%d', publication_names %s%s)",
                          slot, LSN_ARGS(start), proto, pub, proto >= 2 ? ", streaming 'on'" : "");
    PGresult *res = PQexec(r->conn, sql);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COPY_BOTH) {
        snprintf(errstr, errstr_size, "start replication from slot %s: %s", r->opt.slot,
                 pgconn_error(r->conn, NULL, msg, sizeof msg));
        rc = -1;
    } else {
        log_info("replication started slot=%s publication=%s proto_version=%d streaming=%s "
                 "start=" LSN_FMT,
                 r->opt.slot, r->opt.publication, proto, proto >= 2 ? "on" : "off",
                 LSN_ARGS(start));
        r->last_status_us = mono_us();
    }
    PQclear(res);
    free(sql);
    PQfreemem(pub);
    PQfreemem(slot);
    if (rc == 0 && unix_socket(r->conn) && reader_start(r, errstr, errstr_size) < 0)
        rc = -1;
    return rc;
}

/* The stream ended (-1 from PQgetCopyData): report why. */
static int stream_ended(struct replication *r, char *errstr, size_t errstr_size)
{
    char msg[512];
    PGresult *res = PQgetResult(r->conn);
    const char *why = res && PQresultErrorMessage(res)[0] ? PQresultErrorMessage(res) : "";
    snprintf(msg, sizeof msg, "%s", why[0] ? why : "the server ended the stream");
    for (char *p = msg; *p; p++)
        if (*p == '\n')
            *p = ' ';
    snprintf(errstr, errstr_size, "read replication stream of slot %s: %s", r->opt.slot, msg);
    PQclear(res);
    return -1;
}

/* Waits until the socket is readable or TIMEOUT_MS passed; returns -1 on a poll error. */
static int wait_readable(PGconn *conn, int timeout_ms)
{
    struct pollfd pfd = {PQsocket(conn), POLLIN, 0};
    int n = poll(&pfd, 1, timeout_ms);
    if (n < 0)
        return errno == EINTR ? 0 : -1; /* a stop signal: the caller checks its flag */
    return n;
}

/* The next message: read ahead by the reader, else from libpq. With the lock held. */
static int next_locked(struct replication *r, int timeout_ms, char *errstr, size_t errstr_size)
{
    char buf[512];
    if (r->q_count) {
        struct copymsg m = r->q[r->q_head];
        r->q_head = (r->q_head + 1) % READAHEAD_MSGS;
        r->q_count--;
        r->q_bytes -= (size_t)m.len;
        r->copybuf = m.buf;
        return m.len;
    }
    if (r->end == -2) {
        snprintf(errstr, errstr_size, "read replication stream of slot %s: %s", r->opt.slot,
                 r->reader_err);
        return -2;
    }
    int n = r->end ? r->end : PQgetCopyData(r->conn, &r->copybuf, 1);
    if (n == 0) {
        r->waiting = timeout_ms > 0;
        pthread_mutex_unlock(&r->lock);
        int w = wait_readable(r->conn, timeout_ms);
        pthread_mutex_lock(&r->lock);
        r->waiting = 0;
        if (w < 0 || !PQconsumeInput(r->conn)) {
            snprintf(errstr, errstr_size, "read replication stream of slot %s: %s", r->opt.slot,
                     pgconn_error(r->conn, NULL, buf, sizeof buf));
            return -2;
        }
        n = PQgetCopyData(r->conn, &r->copybuf, 1);
    }
    if (n == -1) {
        r->end = -1; /* the reader stops */
        return stream_ended(r, errstr, errstr_size) - 1;
    }
    if (n < -1) {
        r->end = -2;
        snprintf(errstr, errstr_size, "read replication stream of slot %s: %s", r->opt.slot,
                 pgconn_error(r->conn, NULL, buf, sizeof buf));
        snprintf(r->reader_err, sizeof r->reader_err, "%s", errstr);
    }
    return n;
}

int replication_next(struct replication *r, int timeout_ms, struct repl_proto_msg *msg,
                     char *errstr, size_t errstr_size)
{
    PQfreemem(r->copybuf);
    r->copybuf = NULL;
    pthread_mutex_lock(&r->lock);
    r->in_next = 1;
    int n = next_locked(r, timeout_ms, errstr, errstr_size);
    r->in_next = 0;
    r->away_us = mono_us();
    if (r->parked)
        pthread_cond_signal(&r->cond);
    pthread_mutex_unlock(&r->lock);
    if (n < 0)
        return -1;
    if (!n)
        return 0;
    return repl_proto_parse(r->copybuf, (size_t)n, msg, errstr, errstr_size) < 0 ? -1 : 1;
}

int replication_feedback_due_ms(const struct replication *r)
{
    int64_t left = r->last_status_us + (int64_t)r->opt.status_interval_ms * 1000 - mono_us();
    return left <= 0 ? 0 : (int)((left + 999) / 1000);
}

int replication_feedback(struct replication *r, struct lsn_tracker *t, int force, int reply,
                         char *errstr, size_t errstr_size)
{
    char buf[512];
    unsigned char status[REPL_PROTO_STATUS_SIZE];
    if (!force && replication_feedback_due_ms(r) > 0)
        return 0;
    uint64_t ack = lsn_tracker_get_acknowledged(t);
    repl_proto_status(status, lsn_tracker_get_received(t), ack, ack, repl_proto_now(), reply);
    pthread_mutex_lock(&r->lock);
    int failed =
        PQputCopyData(r->conn, (const char *)status, sizeof status) <= 0 || PQflush(r->conn);
    if (failed)
        snprintf(errstr, errstr_size, "send standby status update on slot %s: %s", r->opt.slot,
                 pgconn_error(r->conn, NULL, buf, sizeof buf));
    pthread_mutex_unlock(&r->lock);
    if (failed)
        return -1;
    r->last_status_us = mono_us();
    if (ack != lsn_tracker_get_confirmed(t))
        log_debug("status update sent received=" LSN_FMT " flushed=" LSN_FMT,
                  LSN_ARGS(lsn_tracker_get_received(t)), LSN_ARGS(ack));
    lsn_tracker_confirmed_sent(t, ack);
    return 0;
}

int replication_connected(struct replication *r)
{
    if (!r)
        return 0;
    pthread_mutex_lock(&r->lock);
    int ok = PQstatus(r->conn) == CONNECTION_OK;
    pthread_mutex_unlock(&r->lock);
    return ok;
}
