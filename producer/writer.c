/* Exactly-once batch writing: one transaction per batch, reconnect and retry, COMMIT resolution. */
#include "writer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "log.h"
#include "pgconn.h"
#include "schema.h"
#include "session.h"
#include "xalloc.h"

#define BACKOFF_FIRST_S 0.1
#define BACKOFF_MAX_S 5.0
#define COPY_CHUNK (64 * 1024)

/* How one attempt at a batch's transaction ended. */
enum attempt {
    ATTEMPT_OK,      /* committed */
    ATTEMPT_RETRY,   /* did not commit (rolled back, or the connection died before COMMIT) */
    ATTEMPT_UNKNOWN, /* the connection died during COMMIT: it may or may not have committed */
    ATTEMPT_FATAL,   /* an error retrying cannot fix */
};

struct writer {
    struct writer_config cfg;
    char *quoted_schema;
    struct session session;
    struct session_backend lost; /* backend of the last session lost, to be ended */
    uint64_t run_id;
    uint64_t batches;       /* batches committed; the run row's value */
    uint64_t commits_tried; /* for fault injection */
    struct writer_stats stats;
};

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

struct writer *writer_new(const struct writer_config *config)
{
    struct writer *w = xcalloc(1, sizeof *w);
    w->cfg = *config;
    w->quoted_schema = pgconn_quote_ident(config->schema);
    return w;
}

void writer_destroy(struct writer *w)
{
    if (!w)
        return;
    session_close(&w->session);
    free(w->quoted_schema);
    free(w);
}

const struct writer_stats *writer_stats(const struct writer *w)
{
    return &w->stats;
}

uint64_t writer_run_id(const struct writer *w)
{
    return w->run_id;
}

/* Closes the session after its connection died, remembering its backend to end it later. */
static void lose_session(struct writer *w)
{
    w->lost = w->session.backend;
    session_close(&w->session);
}

/* A run id independent of --seed (two runs with the same seed are still two runs). */
static uint64_t random_run_id(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    return (v & INT64_MAX) | 1;
}

static int register_run(struct writer *w, char *errstr, size_t errstr_size)
{
    char id[32], err[1024];
    w->run_id = random_run_id();
    snprintf(id, sizeof id, "%" PRIu64, w->run_id);
    char *sql = xasprintf("INSERT INTO %s.salescdc_producer_runs (run_id, mode, seed)"
                          " VALUES ($1, $2, $3)",
                          w->quoted_schema);
    const char *params[3] = {id, w->cfg.mode, w->cfg.seed};
    PGresult *res = PQexecParams(w->session.conn, sql, 3, NULL, params, NULL, NULL, 0);
    int rc = 0;
    if (PQresultStatus(res) != PGRES_COMMAND_OK) {
        snprintf(errstr, errstr_size, "register the run in %s.salescdc_producer_runs: %s",
                 w->quoted_schema, pgconn_error(w->session.conn, res, err, sizeof err));
        rc = -1;
    }
    PQclear(res);
    free(sql);
    return rc;
}

int writer_start(struct writer *w, char *errstr, size_t errstr_size)
{
    PGconn *conn = pgconn_open(w->cfg.conninfo, errstr, errstr_size);
    if (!conn)
        return -1;
    int rc = w->cfg.init ? schema_init(conn, w->cfg.schema, errstr, errstr_size) : 0;
    if (rc == 0)
        rc = schema_check(conn, w->cfg.schema, errstr, errstr_size);
    PQfinish(conn);
    if (rc < 0)
        return -1;
    if (session_open(&w->session, w->cfg.conninfo, w->quoted_schema, errstr, errstr_size) !=
        SESSION_OK)
        return -1;
    return register_run(w, errstr, errstr_size);
}

/* Classifies the failure of step WHAT (RES is consumed): the connection is gone → RETRY (the
 * transaction died with it); a serialization failure or deadlock → roll back, RETRY; anything
 * else → FATAL. errstr names the step and the cause either way. */
static enum attempt step_failed(struct writer *w, PGresult *res, const char *what, char *errstr,
                                size_t errstr_size)
{
    char err[1024];
    snprintf(errstr, errstr_size, "%s: %s", what,
             pgconn_error(w->session.conn, res, err, sizeof err));
    enum attempt a = ATTEMPT_FATAL;
    if (pgconn_lost(w->session.conn, res)) {
        a = ATTEMPT_RETRY;
        lose_session(w);
    } else if (pgconn_transient(res)) {
        a = ATTEMPT_RETRY;
        PQclear(PQexec(w->session.conn, "ROLLBACK"));
    }
    PQclear(res);
    return a;
}

/* Checks that RES has status WANT; else classifies the failure. */
static enum attempt expect(struct writer *w, PGresult *res, ExecStatusType want, const char *what,
                           char *errstr, size_t errstr_size)
{
    if (PQresultStatus(res) != want)
        return step_failed(w, res, what, errstr, errstr_size);
    PQclear(res);
    return ATTEMPT_OK;
}

/* BEGIN, then set the run row's batch number first, so the row stays locked by this
 * transaction until it ends (the COMMIT resolution waits on that lock). */
static enum attempt begin_batch(struct writer *w, uint64_t seq, char *errstr, size_t errstr_size)
{
    char id[32], batch[32];
    PGresult *res = PQexec(w->session.conn, "BEGIN");
    enum attempt a = expect(w, res, PGRES_COMMAND_OK, "begin transaction", errstr, errstr_size);
    if (a != ATTEMPT_OK)
        return a;
    snprintf(id, sizeof id, "%" PRIu64, w->run_id);
    snprintf(batch, sizeof batch, "%" PRIu64, seq);
    const char *params[2] = {id, batch};
    res = PQexecPrepared(w->session.conn, SESSION_MARKER, 2, params, NULL, NULL, 0);
    if (PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdTuples(res), "1") != 0) {
        snprintf(errstr, errstr_size, "the run row %s of %s.salescdc_producer_runs is gone", id,
                 w->quoted_schema);
        PQclear(res);
        return ATTEMPT_FATAL;
    }
    return expect(w, res, PGRES_COMMAND_OK, "mark the batch in the run row", errstr, errstr_size);
}

static enum attempt copy_batch(struct writer *w, const struct batch *b, char *errstr,
                               size_t errstr_size)
{
    PGconn *c = w->session.conn;
    PGresult *res = PQexec(c, "COPY " SESSION_STAGE " (" BATCH_COPY_COLUMNS ") FROM STDIN");
    enum attempt a =
        expect(w, res, PGRES_COPY_IN, "start COPY into the stage", errstr, errstr_size);
    if (a != ATTEMPT_OK)
        return a;
    int ok = 1;
    for (size_t off = 0; ok && off < b->copy_len; off += COPY_CHUNK) {
        size_t n = b->copy_len - off < COPY_CHUNK ? b->copy_len - off : COPY_CHUNK;
        ok = PQputCopyData(c, b->copy + off, (int)n) == 1;
    }
    if (ok)
        ok = PQputCopyEnd(c, NULL) == 1;
    res = PQgetResult(c);
    a = expect(w, res, PGRES_COMMAND_OK, "COPY the batch into the stage", errstr, errstr_size);
    if (a == ATTEMPT_OK && w->session.conn)
        PQclear(PQgetResult(c)); /* the NULL that ends the COPY's results */
    return a;
}

/* Runs the prepared statement NAME for ROUND; *AFFECTED is PQcmdTuples, or for the upsert the
 * inserted count with *UPDATED the updated one. */
static enum attempt run_statement(struct writer *w, const char *name, int round, uint64_t *affected,
                                  uint64_t *updated, char *errstr, size_t errstr_size)
{
    char r[16], what[64];
    snprintf(r, sizeof r, "%d", round);
    const char *params[1] = {r};
    PGresult *res = PQexecPrepared(w->session.conn, name, 1, params, NULL, NULL, 0);
    ExecStatusType want = updated ? PGRES_TUPLES_OK : PGRES_COMMAND_OK;
    if (PQresultStatus(res) != want) {
        snprintf(what, sizeof what, "write orders (%s, round %d)", name, round);
        return step_failed(w, res, what, errstr, errstr_size);
    }
    if (updated) {
        *affected = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
        *updated = strtoull(PQgetvalue(res, 0, 1), NULL, 10);
    } else {
        *affected = strtoull(PQcmdTuples(res), NULL, 10);
    }
    PQclear(res);
    return ATTEMPT_OK;
}

static enum attempt run_round(struct writer *w, const struct batch *b, int round,
                              struct writer_counts *c, char *errstr, size_t errstr_size)
{
    const struct batch_round *r = &b->rounds[round];
    uint64_t n = 0, m = 0;
    enum attempt a = ATTEMPT_OK;
    if (r->upserts &&
        (a = run_statement(w, SESSION_UPSERT, round, &n, &m, errstr, errstr_size)) == ATTEMPT_OK) {
        c->inserted += n;
        c->updated += m;
    }
    if (a == ATTEMPT_OK && r->advances &&
        (a = run_statement(w, SESSION_ADVANCE, round, &n, NULL, errstr, errstr_size)) ==
            ATTEMPT_OK) {
        c->updated += n;
        c->unchanged += r->advances - n;
    }
    if (a == ATTEMPT_OK && r->deletes &&
        (a = run_statement(w, SESSION_DELETE, round, &n, NULL, errstr, errstr_size)) ==
            ATTEMPT_OK) {
        c->deleted += n;
        c->unchanged += r->deletes - n;
    }
    return a;
}

/* Testing (pg.fault.commit.lost.every): drops the connection as if it died during COMMIT —
 * alternately after sending COMMIT (the server commits) and before (it rolls back) — so both
 * outcomes of the resolution are exercised. */
static enum attempt inject_lost_commit(struct writer *w, char *errstr, size_t errstr_size)
{
    int sent = (w->commits_tried / (uint64_t)w->cfg.fault_commit_lost_every) % 2 == 1;
    if (sent && PQsendQuery(w->session.conn, "COMMIT"))
        PQflush(w->session.conn);
    log_warn("fault injection: connection dropped %s COMMIT", sent ? "after sending" : "before");
    lose_session(w);
    snprintf(errstr, errstr_size, "COMMIT: connection dropped by pg.fault.commit.lost.every");
    return ATTEMPT_UNKNOWN;
}

static enum attempt commit_batch(struct writer *w, char *errstr, size_t errstr_size)
{
    w->commits_tried++;
    if (w->cfg.fault_commit_lost_every > 0 &&
        w->commits_tried % (uint64_t)w->cfg.fault_commit_lost_every == 0)
        return inject_lost_commit(w, errstr, errstr_size);
    PGresult *res = PQexec(w->session.conn, "COMMIT");
    if (PQresultStatus(res) == PGRES_COMMAND_OK && strcmp(PQcmdStatus(res), "COMMIT") == 0) {
        PQclear(res);
        return ATTEMPT_OK;
    }
    if (pgconn_lost(w->session.conn, res)) {
        char err[1024];
        snprintf(errstr, errstr_size, "COMMIT: %s",
                 pgconn_error(w->session.conn, res, err, sizeof err));
        PQclear(res);
        lose_session(w);
        return ATTEMPT_UNKNOWN;
    }
    /* A failed COMMIT has rolled back already. */
    return step_failed(w, res, "COMMIT", errstr, errstr_size);
}

/* One try at B's transaction, as batch number SEQ of the run; *C gets its counts. */
static enum attempt attempt_batch(struct writer *w, const struct batch *b, uint64_t seq,
                                  struct writer_counts *c, char *errstr, size_t errstr_size)
{
    memset(c, 0, sizeof *c);
    enum attempt a = begin_batch(w, seq, errstr, errstr_size);
    if (a == ATTEMPT_OK)
        a = copy_batch(w, b, errstr, errstr_size);
    for (int r = 0; a == ATTEMPT_OK && r < b->n_rounds; r++)
        a = run_round(w, b, r, c, errstr, errstr_size);
    if (a == ATTEMPT_OK)
        return commit_batch(w, errstr, errstr_size);
    if (a == ATTEMPT_FATAL && w->session.conn)
        PQclear(PQexec(w->session.conn, "ROLLBACK"));
    return a;
}

/* Sleeps up to SECONDS; a signal (the stop flag's) cuts it short. */
static void nap(double seconds)
{
    struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Opens a new session, retrying with exponential backoff until pg.reconnect.timeout. Then ends
 * the lost session's backend if it still runs, so it releases its locks. */
static enum writer_result reconnect(struct writer *w, char *errstr, size_t errstr_size)
{
    char err[1024];
    double delay = BACKOFF_FIRST_S, start = monotonic_now();
    for (int tries = 1;; tries++) {
        if (*w->cfg.stop) {
            snprintf(errstr, errstr_size, "stopped while reconnecting to PostgreSQL");
            return WRITER_STOPPED;
        }
        enum session_result r =
            session_open(&w->session, w->cfg.conninfo, w->quoted_schema, err, sizeof err);
        if (r == SESSION_OK) {
            w->stats.reconnects++;
            log_info("reconnected to PostgreSQL after %d attempt%s", tries, tries > 1 ? "s" : "");
            session_end_backend(&w->session, &w->lost);
            return WRITER_OK;
        }
        double waited = monotonic_now() - start, limit = w->cfg.reconnect_timeout_s;
        if (r == SESSION_FATAL || (limit > 0 && waited + delay > limit)) {
            snprintf(errstr, errstr_size, "%s%s", err,
                     r == SESSION_FATAL ? "" : " (gave up after pg.reconnect.timeout)");
            return WRITER_FAILED;
        }
        log_warn("reconnect to PostgreSQL failed (attempt %d), next in %.1fs: %s", tries, delay,
                 err);
        nap(delay);
        delay = fmin(delay * 2, BACKOFF_MAX_S);
    }
}

/* After a COMMIT whose reply was lost: reconnects and reads the run row's batch number. Taking
 * the row lock waits until the old transaction is over, so the number read is final: SEQ means
 * it committed, SEQ - 1 that it rolled back. */
static enum writer_result resolve(struct writer *w, uint64_t seq, int *committed, char *errstr,
                                  size_t errstr_size)
{
    char id[32], err[1024];
    snprintf(id, sizeof id, "%" PRIu64, w->run_id);
    const char *params[1] = {id};
    for (;;) {
        enum writer_result r = w->session.conn ? WRITER_OK : reconnect(w, errstr, errstr_size);
        if (r != WRITER_OK)
            return r;
        PGresult *res = PQexecPrepared(w->session.conn, SESSION_RESOLVE, 1, params, NULL, NULL, 0);
        if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1) {
            uint64_t seen = strtoull(PQgetvalue(res, 0, 0), NULL, 10);
            PQclear(res);
            *committed = seen == seq;
            if (seen == seq || seen + 1 == seq)
                return WRITER_OK;
            snprintf(errstr, errstr_size,
                     "run row %s says batch %" PRIu64 " while this run is at batch %" PRIu64
                     ": is another producer using the same run?",
                     id, seen, seq);
            return WRITER_FAILED;
        }
        snprintf(errstr, errstr_size, "read the run row %s: %s", id,
                 pgconn_error(w->session.conn, res, err, sizeof err));
        int lost = pgconn_lost(w->session.conn, res);
        PQclear(res);
        if (!lost)
            return WRITER_FAILED;
        lose_session(w);
    }
}

/* Settles an ATTEMPT_UNKNOWN: WRITER_OK with *COMMITTED set, or the failure with errstr saying
 * that the batch's fate is unknown. */
static enum writer_result settle_unknown(struct writer *w, const struct batch *b, uint64_t seq,
                                         int *committed, char *errstr, size_t errstr_size)
{
    char err[1024];
    log_warn("connection lost during COMMIT of batch %" PRIu64 " (%zu orders): %s; reading its "
             "outcome back",
             seq, b->n, errstr);
    enum writer_result r = resolve(w, seq, committed, err, sizeof err);
    if (r == WRITER_OK) {
        w->stats.resolved++;
        log_info("batch %" PRIu64 " %s", seq,
                 *committed ? "had committed" : "had rolled back; writing it again");
        return WRITER_OK;
    }
    snprintf(errstr, errstr_size,
             "%s; whether batch %" PRIu64 " (%zu orders) committed is unknown: it did if "
             "salescdc_producer_runs.batches = %" PRIu64 " for run_id %" PRIu64,
             err, seq, b->n, seq, w->run_id);
    return WRITER_FAILED;
}

enum writer_result writer_write(struct writer *w, const struct batch *b,
                                struct writer_counts *totals, char *errstr, size_t errstr_size)
{
    struct writer_counts c;
    uint64_t seq = w->batches + 1;
    for (;;) {
        enum writer_result r = w->session.conn ? WRITER_OK : reconnect(w, errstr, errstr_size);
        if (r != WRITER_OK)
            return r;
        enum attempt a = attempt_batch(w, b, seq, &c, errstr, errstr_size);
        int committed = a == ATTEMPT_OK;
        if (a == ATTEMPT_FATAL)
            return WRITER_FAILED;
        if (a == ATTEMPT_UNKNOWN &&
            settle_unknown(w, b, seq, &committed, errstr, errstr_size) != WRITER_OK)
            return WRITER_FAILED;
        if (committed) {
            w->batches = seq;
            w->stats.transactions++;
            totals->inserted += c.inserted;
            totals->updated += c.updated;
            totals->deleted += c.deleted;
            totals->unchanged += c.unchanged;
            return WRITER_OK;
        }
        w->stats.retries++;
        if (a == ATTEMPT_RETRY)
            log_warn("batch %" PRIu64 " (%zu orders) did not commit, writing it again: %s", seq,
                     b->n, errstr);
    }
}
