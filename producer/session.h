/* One database session of the writer: the connection plus what the writer relies on in it — the
 * stage table, prepared statements and planner settings — and the backend's identity, so that a
 * later session can end this one's backend if it outlived the connection. */
#ifndef SALESCDC_PRODUCER_SESSION_H
#define SALESCDC_PRODUCER_SESSION_H

#include <libpq-fe.h>
#include <stddef.h>

/* Prepared statement names (parameters in brackets). */
#define SESSION_MARKER "salescdc_marker"   /* (run_id, batch): set the run's batch number */
#define SESSION_UPSERT "salescdc_upsert"   /* (round) → inserted, updated */
#define SESSION_ADVANCE "salescdc_advance" /* (round) → rows changed */
#define SESSION_DELETE "salescdc_delete"   /* (round) → rows deleted */
#define SESSION_RESOLVE "salescdc_resolve" /* (run_id) → committed batch (waits for locks) */
#define SESSION_STAGE "pg_temp.salescdc_stage"

/* Identifies a backend process across sessions (a pid alone may be reused). */
struct session_backend {
    int pid; /* 0: none */
    char start[64];
};

struct session {
    PGconn *conn; /* NULL when closed */
    struct session_backend backend;
};

/* Outcome of session_open(). */
enum session_result {
    SESSION_OK = 0,
    SESSION_RETRY = -1, /* could not connect or lost the connection: try again later */
    SESSION_FATAL = -2, /* e.g. missing privilege: trying again will not help */
};

/* Connects with CONNINFO and prepares the session for the tables in QUOTED_SCHEMA (a quoted
 * identifier). On failure errstr says what failed. */
enum session_result session_open(struct session *s, const char *conninfo, const char *quoted_schema,
                                 char *errstr, size_t errstr_size);
/* Closes the connection (if open); the backend identity stays for session_end_backend(). */
void session_close(struct session *s);
/* Asks the server to end backend OLD if it still runs (a dead client's backend may hold locks
 * or an open transaction). Best effort: failures are logged at debug level. */
void session_end_backend(struct session *s, const struct session_backend *old);

#endif
