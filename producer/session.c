/* Session set-up: planner settings, stage table, prepared statements, backend identity. */
#include "session.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"
#include "xalloc.h"

/* The stage holds one batch (rows vanish at COMMIT or ROLLBACK). The write statements join it
 * with orders on orderid; the planner knows nothing about a fresh temp table, and a hash or
 * merge join would scan all of orders for a few thousand rows, so only nested loops over the
 * primary key are allowed. JIT compiling these short statements costs more than it saves. */
static const char *const setup_sql[] = {
    "SET enable_hashjoin = off",
    "SET enable_mergejoin = off",
    "SET jit = off",
    "CREATE TEMP TABLE salescdc_stage (round int NOT NULL, kind text NOT NULL,"
    " orderid text NOT NULL, product_name text, quantity int, price numeric(10,2),"
    " customer_id int, status_old text, status_new text, ts timestamptz) ON COMMIT DELETE ROWS",
};

struct statement {
    const char *name;
    const char *sql; /* %1$s: the quoted schema */
};

static const struct statement statements[] = {
    {SESSION_MARKER, "UPDATE %1$s.salescdc_producer_runs SET batches = $2, updated_at = now()"
                     " WHERE run_id = $1"},
    {SESSION_UPSERT,
     "WITH w AS (INSERT INTO %1$s.orders AS o (orderid, product_name, quantity, price,"
     " customer_id, status, created_at, updated_at)"
     " SELECT orderid, product_name, quantity, price, customer_id, status_new,"
     " coalesce(ts, now()), coalesce(ts, now()) FROM " SESSION_STAGE
     " WHERE round = $1 AND kind = 'u'"
     " ON CONFLICT (orderid) DO UPDATE SET product_name = excluded.product_name,"
     " quantity = excluded.quantity, price = excluded.price, customer_id = excluded.customer_id,"
     " status = excluded.status, updated_at = excluded.updated_at"
     /* A row version made by the insert path has no xmax; the update path locks it first. */
     " RETURNING o.xmax = 0 AS inserted)"
     " SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM w"},
    {SESSION_ADVANCE, "UPDATE %1$s.orders AS o SET status = s.status_new,"
                      " updated_at = coalesce(s.ts, now()) FROM " SESSION_STAGE " AS s"
                      " WHERE s.round = $1 AND s.kind = 'a' AND o.orderid = s.orderid"
                      " AND o.status = s.status_old"},
    {SESSION_DELETE, "DELETE FROM %1$s.orders AS o USING " SESSION_STAGE " AS s"
                     " WHERE s.round = $1 AND s.kind = 'd' AND o.orderid = s.orderid"},
    {SESSION_RESOLVE, "SELECT batches FROM %1$s.salescdc_producer_runs WHERE run_id = $1"
                      " FOR UPDATE"},
};

/* Maps a failed step to RETRY (connection gone) or FATAL, closing S when gone. */
static enum session_result failed(struct session *s, PGresult *res)
{
    enum session_result r = pgconn_lost(s->conn, res) ? SESSION_RETRY : SESSION_FATAL;
    PQclear(res);
    if (r == SESSION_RETRY)
        session_close(s);
    return r;
}

static enum session_result prepare_all(struct session *s, const char *quoted, char *errstr,
                                       size_t errstr_size)
{
    char err[1024];
    for (size_t i = 0; i < sizeof statements / sizeof statements[0]; i++) {
        char *sql = xasprintf(statements[i].sql, quoted);
        PGresult *res = PQprepare(s->conn, statements[i].name, sql, 0, NULL);
        free(sql);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(errstr, errstr_size, "prepare statement %s: %s", statements[i].name,
                     pgconn_error(s->conn, res, err, sizeof err));
            return failed(s, res);
        }
        PQclear(res);
    }
    return SESSION_OK;
}

static enum session_result read_identity(struct session *s, char *errstr, size_t errstr_size)
{
    char err[1024];
    PGresult *res = PQexec(s->conn, "SELECT pid, backend_start::text FROM pg_stat_activity"
                                    " WHERE pid = pg_backend_pid()");
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        snprintf(errstr, errstr_size, "read the session's backend pid: %s",
                 pgconn_error(s->conn, res, err, sizeof err));
        return failed(s, res);
    }
    s->backend.pid = atoi(PQgetvalue(res, 0, 0));
    snprintf(s->backend.start, sizeof s->backend.start, "%s", PQgetvalue(res, 0, 1));
    PQclear(res);
    return SESSION_OK;
}

enum session_result session_open(struct session *s, const char *conninfo, const char *quoted_schema,
                                 char *errstr, size_t errstr_size)
{
    char err[1024];
    s->conn = pgconn_open(conninfo, errstr, errstr_size);
    if (!s->conn)
        return SESSION_RETRY;
    for (size_t i = 0; i < sizeof setup_sql / sizeof setup_sql[0]; i++) {
        PGresult *res = PQexec(s->conn, setup_sql[i]);
        if (PQresultStatus(res) != PGRES_COMMAND_OK) {
            snprintf(errstr, errstr_size, "set up session (%.40s...): %s", setup_sql[i],
                     pgconn_error(s->conn, res, err, sizeof err));
            return failed(s, res);
        }
        PQclear(res);
    }
    enum session_result r = prepare_all(s, quoted_schema, errstr, errstr_size);
    if (r == SESSION_OK)
        r = read_identity(s, errstr, errstr_size);
    if (r == SESSION_FATAL)
        session_close(s);
    return r;
}

void session_close(struct session *s)
{
    if (s->conn)
        PQfinish(s->conn);
    s->conn = NULL;
}

void session_end_backend(struct session *s, const struct session_backend *old)
{
    if (!s->conn || old->pid == 0 || old->pid == s->backend.pid)
        return;
    char pid[16], err[1024];
    snprintf(pid, sizeof pid, "%d", old->pid);
    const char *params[2] = {pid, old->start};
    PGresult *res = PQexecParams(s->conn,
                                 "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                                 " WHERE pid = $1::int AND backend_start = $2::timestamptz",
                                 2, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) != PGRES_TUPLES_OK)
        log_debug("end the previous backend %d: %s", old->pid,
                  pgconn_error(s->conn, res, err, sizeof err));
    else if (PQntuples(res) > 0)
        log_info("ended the previous session's backend %d, which outlived its connection",
                 old->pid);
    PQclear(res);
}
