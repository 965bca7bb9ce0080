/* Initial snapshot reads in the slot's exported snapshot. */
#include "snapshot.h"

#include <inttypes.h>
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "pgconn.h"
#include "strbuf.h"
#include "xalloc.h"

#define PROGRESS_EVERY_MS 5000

struct snapshot {
    PGconn *conn;
    PGresult *rel_res, *col_res;   /* back the last Relation message's strings */
    struct pgoutput_column *cols;  /* its columns */
    struct pgoutput_value *values; /* a row being handed out */
    int nvalues;
};

static int64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct snapshot *snapshot_open(const char *conninfo, const char *snapshot_id, char *errstr,
                               size_t errstr_size)
{
    PGconn *conn = pgconn_open(conninfo, 0, "the snapshot", errstr, errstr_size);
    if (!conn)
        return NULL;
    struct snapshot *s = xcalloc(1, sizeof *s);
    s->conn = conn;
    char *id = PQescapeLiteral(conn, snapshot_id, strlen(snapshot_id));
    char *sql = xasprintf("SET TRANSACTION SNAPSHOT %s", id ? id : "''");
    char *what = xasprintf("import exported snapshot %s", snapshot_id);
    int rc = pgconn_exec(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
                         "begin the snapshot transaction", errstr, errstr_size);
    if (rc == 0)
        rc = pgconn_exec(conn, sql, what, errstr, errstr_size);
    free(what);
    free(sql);
    PQfreemem(id);
    if (rc < 0) {
        snapshot_close(s);
        return NULL;
    }
    return s;
}

void snapshot_close(struct snapshot *s)
{
    if (!s)
        return;
    PQclear(s->rel_res);
    PQclear(s->col_res);
    free(s->cols);
    free(s->values);
    PQfinish(s->conn); /* ends the read-only transaction */
    free(s);
}

/* Runs SQL with text PARAMS expecting rows; NULL with errstr "WHAT: cause". */
static PGresult *query(struct snapshot *s, const char *sql, int nparams, const char *const *params,
                       const char *what, char *errstr, size_t errstr_size)
{
    char msg[512];
    PGresult *res = PQexecParams(s->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    snprintf(errstr, errstr_size, "%s: %s", what, pgconn_error(s->conn, res, msg, sizeof msg));
    PQclear(res);
    return NULL;
}

int snapshot_tables(struct snapshot *s, const char *pub, uint32_t **relids, char *errstr,
                    size_t errstr_size)
{
    const char *params[] = {pub};
    PGresult *res =
        query(s,
              "SELECT c.oid FROM pg_publication_tables pt JOIN pg_namespace n ON "
              "n.nspname = pt.schemaname JOIN pg_class c ON c.relnamespace = n.oid "
              "AND c.relname = pt.tablename WHERE pt.pubname = $1 ORDER BY 1",
              1, params, "list the publication's tables for the snapshot", errstr, errstr_size);
    if (!res)
        return -1;
    int n = PQntuples(res);
    *relids = xcalloc((size_t)n + 1, sizeof **relids);
    for (int i = 0; i < n; i++)
        (*relids)[i] = (uint32_t)strtoul(PQgetvalue(res, i, 0), NULL, 10);
    PQclear(res);
    return n;
}

/* The published columns of a table in attnum order, flagged as pgoutput flags them: part of the
 * replica identity (every column under FULL, the primary key under DEFAULT, the index's columns
 * under USING INDEX). Dropped and generated columns are never sent; from PostgreSQL 15 on, a
 * publication's column list applies. */
static const char columns_sql[] =
    "SELECT a.attname, a.atttypid, a.atttypmod, c.relreplident = 'f' OR COALESCE(a.attnum = ANY "
    "((SELECT i.indkey FROM pg_index i WHERE i.indrelid = c.oid AND ((c.relreplident = 'd' AND "
    "i.indisprimary) OR (c.relreplident = 'i' AND i.indisreplident)))::int2[]), false) FROM "
    "pg_attribute a JOIN pg_class c ON c.oid = a.attrelid JOIN pg_namespace n ON n.oid = "
    "c.relnamespace WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped AND "
    "a.attgenerated = '' %s ORDER BY a.attnum";
static const char column_list_sql[] =
    "AND a.attname = ANY (SELECT unnest(pt.attnames) FROM pg_publication_tables pt WHERE "
    "pt.pubname = $2 AND pt.schemaname = n.nspname AND pt.tablename = c.relname)";

static int load_columns(struct snapshot *s, const char *pub, const char *relid, char *errstr,
                        size_t errstr_size)
{
    const char *params[] = {relid, pub};
    int v15 = PQserverVersion(s->conn) >= 150000;
    char *sql = xasprintf(columns_sql, v15 ? column_list_sql : "");
    PQclear(s->col_res);
    s->col_res = query(s, sql, v15 ? 2 : 1, params, "read the columns of a table to snapshot",
                       errstr, errstr_size);
    free(sql);
    if (!s->col_res)
        return -1;
    int n = PQntuples(s->col_res);
    free(s->cols);
    s->cols = xcalloc((size_t)n + 1, sizeof *s->cols);
    for (int i = 0; i < n; i++) {
        s->cols[i].name = PQgetvalue(s->col_res, i, 0);
        s->cols[i].type_oid = (uint32_t)strtoul(PQgetvalue(s->col_res, i, 1), NULL, 10);
        s->cols[i].typmod = (int32_t)strtol(PQgetvalue(s->col_res, i, 2), NULL, 10);
        s->cols[i].flags = PQgetvalue(s->col_res, i, 3)[0] == 't' ? PGOUTPUT_COLUMN_KEY : 0;
    }
    return n;
}

int snapshot_relation(struct snapshot *s, const char *pub, uint32_t relid, struct pgoutput_msg *m,
                      char *errstr, size_t errstr_size)
{
    char id[16];
    snprintf(id, sizeof id, "%" PRIu32, relid);
    const char *params[] = {id};
    PQclear(s->rel_res);
    s->rel_res = query(s,
                       "SELECT CASE WHEN n.nspname = 'pg_catalog' THEN '' ELSE n.nspname END, "
                       "c.relname, c.relreplident FROM pg_class c JOIN pg_namespace n ON n.oid "
                       "= c.relnamespace WHERE c.oid = $1",
                       1, params, "look up a table to snapshot", errstr, errstr_size);
    if (!s->rel_res)
        return -1;
    if (PQntuples(s->rel_res) != 1) {
        snprintf(errstr, errstr_size, "look up a table to snapshot: relation %s not found", id);
        return -1;
    }
    int n = load_columns(s, pub, id, errstr, errstr_size);
    if (n < 0)
        return -1;
    memset(m, 0, sizeof *m);
    m->type = PGOUTPUT_RELATION;
    m->u.relation.relid = relid;
    m->u.relation.nspname = PQgetvalue(s->rel_res, 0, 0);
    m->u.relation.relname = PQgetvalue(s->rel_res, 0, 1);
    m->u.relation.replident = PQgetvalue(s->rel_res, 0, 2)[0];
    m->u.relation.ncols = (uint16_t)n;
    m->u.relation.cols = s->cols;
    return 0;
}

/* "DECLARE ... CURSOR FOR SELECT <REL's columns> FROM ONLY <REL>" with every name quoted. */
static char *declare_sql(PGconn *conn, const struct relcache_rel *rel)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "DECLARE salescdc_snapshot NO SCROLL CURSOR FOR SELECT ");
    for (int i = 0; i < rel->ncols; i++) {
        char *q = PQescapeIdentifier(conn, rel->cols[i].name, strlen(rel->cols[i].name));
        strbuf_printf(&sb, "%s%s", i ? ", " : "", q);
        PQfreemem(q);
    }
    char *ns = PQescapeIdentifier(conn, rel->nspname, strlen(rel->nspname));
    char *t = PQescapeIdentifier(conn, rel->relname, strlen(rel->relname));
    strbuf_printf(&sb, " FROM ONLY %s.%s", ns, t);
    PQfreemem(ns);
    PQfreemem(t);
    return strbuf_detach(&sb);
}

/* pg_class.reltuples of REL: -1 when never analysed. */
static int64_t estimate(struct snapshot *s, const struct relcache_rel *rel)
{
    char id[16], err[256];
    snprintf(id, sizeof id, "%" PRIu32, rel->relid);
    const char *params[] = {id};
    PGresult *res = query(s, "SELECT reltuples::bigint FROM pg_class WHERE oid = $1", 1, params,
                          "estimate rows", err, sizeof err);
    int64_t n = res && PQntuples(res) == 1 ? strtoll(PQgetvalue(res, 0, 0), NULL, 10) : -1;
    PQclear(res);
    return n;
}

/* Hands each row of RES to FN. */
static int deliver(struct snapshot *s, PGresult *res, const struct relcache_rel *rel,
                   snapshot_row_fn fn, void *arg, char *errstr, size_t errstr_size)
{
    if (s->nvalues < rel->ncols) {
        s->nvalues = rel->ncols;
        s->values = xrealloc(s->values, (size_t)s->nvalues * sizeof *s->values);
    }
    struct pgoutput_tuple row = {(uint16_t)rel->ncols, s->values};
    for (int r = 0; r < PQntuples(res); r++) {
        for (int i = 0; i < rel->ncols; i++) {
            int null = PQgetisnull(res, r, i);
            s->values[i] = (struct pgoutput_value){null ? PGOUTPUT_COL_NULL : PGOUTPUT_COL_TEXT,
                                                   null ? NULL : PQgetvalue(res, r, i),
                                                   (uint32_t)PQgetlength(res, r, i)};
        }
        if (fn(arg, &row, errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

static void log_progress(const struct relcache_rel *rel, int64_t rows, int64_t est, int64_t ms,
                         int done)
{
    log_info("snapshot %s table=%s.%s rows=%lld estimated=%lld percent=%.1f elapsed_ms=%lld "
             "rows_per_s=%.0f",
             done ? "table done" : "progress", rel->nspname, rel->relname, (long long)rows,
             (long long)est,
             est > 0 ? 100.0 * (double)rows / (double)est
             : done  ? 100.0
                     : 0.0,
             (long long)ms, ms > 0 ? (double)rows * 1000.0 / (double)ms : 0.0);
}

/* FETCHes until the cursor is exhausted; returns the rows read or -1. */
static int64_t fetch_all(struct snapshot *s, const struct relcache_rel *rel, int fetch_rows,
                         snapshot_row_fn fn, void *arg, volatile sig_atomic_t *stop, char *errstr,
                         size_t errstr_size)
{
    char fetch[64], what[300];
    int64_t rows = 0, est = estimate(s, rel), t0 = mono_ms(), last = t0;
    snprintf(fetch, sizeof fetch, "FETCH FORWARD %d FROM salescdc_snapshot", fetch_rows);
    snprintf(what, sizeof what, "read table %s.%s for the snapshot", rel->nspname, rel->relname);
    log_info("snapshot table start table=%s.%s estimated=%lld", rel->nspname, rel->relname,
             (long long)est);
    for (;;) {
        if (*stop) {
            snprintf(errstr, errstr_size, "snapshot of %s.%s stopped by a signal", rel->nspname,
                     rel->relname);
            return -1;
        }
        PGresult *res = query(s, fetch, 0, NULL, what, errstr, errstr_size);
        if (!res)
            return -1;
        int n = PQntuples(res);
        int rc = deliver(s, res, rel, fn, arg, errstr, errstr_size);
        PQclear(res);
        if (rc < 0)
            return -1;
        if (n == 0)
            break;
        rows += n;
        if (mono_ms() - last >= PROGRESS_EVERY_MS) {
            last = mono_ms();
            log_progress(rel, rows, est, last - t0, 0);
        }
    }
    log_progress(rel, rows, est, mono_ms() - t0, 1);
    return rows;
}

int64_t snapshot_read(struct snapshot *s, const struct relcache_rel *rel, int fetch_rows,
                      snapshot_row_fn fn, void *arg, volatile sig_atomic_t *stop, char *errstr,
                      size_t errstr_size)
{
    char what[300];
    snprintf(what, sizeof what, "open a cursor over %s.%s for the snapshot (needs SELECT on it)",
             rel->nspname, rel->relname);
    char *sql = declare_sql(s->conn, rel);
    int rc = pgconn_exec(s->conn, sql, what, errstr, errstr_size);
    free(sql);
    if (rc < 0)
        return -1;
    int64_t rows = fetch_all(s, rel, fetch_rows, fn, arg, stop, errstr, errstr_size);
    if (rows >= 0 && pgconn_exec(s->conn, "CLOSE salescdc_snapshot", "close the snapshot cursor",
                                 errstr, errstr_size) < 0)
        return -1;
    return rows;
}
