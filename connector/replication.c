/* Replication session over libpq (replication=database), as pg_recvlogical does it. */
#include "replication.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pgcatalog.h"
#include "pgconn.h"
#include "xalloc.h"

struct replication {
    PGconn *conn;
    struct replication_options opt;
    char *copybuf;          /* last CopyData buffer, freed on the next call */
    int64_t last_status_us; /* monotonic time of the last status update */
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
    return r;
}

void replication_destroy(struct replication *r)
{
    if (!r)
        return;
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
    return rc;
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

int replication_next(struct replication *r, int timeout_ms, struct repl_proto_msg *msg,
                     char *errstr, size_t errstr_size)
{
    char buf[512];
    PQfreemem(r->copybuf);
    r->copybuf = NULL;
    int n = PQgetCopyData(r->conn, &r->copybuf, 1);
    if (n == 0) {
        if (wait_readable(r->conn, timeout_ms) < 0 || !PQconsumeInput(r->conn)) {
            snprintf(errstr, errstr_size, "read replication stream of slot %s: %s", r->opt.slot,
                     pgconn_error(r->conn, NULL, buf, sizeof buf));
            return -1;
        }
        n = PQgetCopyData(r->conn, &r->copybuf, 1);
        if (n == 0)
            return 0;
    }
    if (n == -1)
        return stream_ended(r, errstr, errstr_size);
    if (n < 0) {
        snprintf(errstr, errstr_size, "read replication stream of slot %s: %s", r->opt.slot,
                 pgconn_error(r->conn, NULL, buf, sizeof buf));
        return -1;
    }
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
    if (PQputCopyData(r->conn, (const char *)status, sizeof status) <= 0 || PQflush(r->conn)) {
        snprintf(errstr, errstr_size, "send standby status update on slot %s: %s", r->opt.slot,
                 pgconn_error(r->conn, NULL, buf, sizeof buf));
        return -1;
    }
    r->last_status_us = mono_us();
    if (ack != lsn_tracker_get_confirmed(t))
        log_debug("status update sent received=" LSN_FMT " flushed=" LSN_FMT,
                  LSN_ARGS(lsn_tracker_get_received(t)), LSN_ARGS(ack));
    lsn_tracker_confirmed_sent(t, ack);
    return 0;
}

int replication_connected(const struct replication *r)
{
    return r && PQstatus(r->conn) == CONNECTION_OK;
}
