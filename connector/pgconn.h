/* libpq connections of the connector: the user's conninfo (string or URI) plus the session
 * settings under which PostgreSQL's text output of values parses unambiguously, and one-line
 * error messages. */
#ifndef SALESCDC_PGCONN_H
#define SALESCDC_PGCONN_H

#include <libpq-fe.h>
#include <stddef.h>

/* Connects with CONNINFO (borrowed; keyword string or URI), as application salescdc-connector,
 * with DateStyle ISO, TimeZone UTC, extra_float_digits 3, IntervalStyle postgres and
 * bytea_output hex; with REPLICATION set, as a replication=database connection. Returns the
 * connection (caller frees with PQfinish()), or NULL with errstr "connect to PostgreSQL for WHAT
 * (host H port P): <cause>". */
PGconn *pgconn_open(const char *conninfo, int replication, const char *what, char *errstr,
                    size_t errstr_size);

/* The error of RES (or, when it has none, of CONN) as one line in OUT; returns OUT. */
const char *pgconn_error(PGconn *conn, const PGresult *res, char *out, size_t size);

/* Runs SQL (no parameters) expecting success; returns 0, or -1 with errstr "WHAT: <cause>". */
int pgconn_exec(PGconn *conn, const char *sql, const char *what, char *errstr, size_t errstr_size);

#endif
