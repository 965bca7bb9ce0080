/* libpq helpers of the producer: connecting with keepalives and an application name, one-line
 * error texts, and telling a lost connection (retry elsewhere) from an error of the statement. */
#ifndef SALESCDC_PRODUCER_PGCONN_H
#define SALESCDC_PRODUCER_PGCONN_H

#include <libpq-fe.h>
#include <stddef.h>

/* Connects with CONNINFO (a conninfo string or URI; empty: libpq defaults and PG* environment),
 * adding connect_timeout, TCP keepalives and application_name salescdc-producer unless CONNINFO
 * sets them. Returns the connection (caller frees with PQfinish()), or NULL with errstr naming
 * the server (never the password) and the cause. */
PGconn *pgconn_open(const char *conninfo, char *errstr, size_t errstr_size);

/* Writes CONN's last error (or RES's, when not NULL) as one line: newlines and tabs folded,
 * trailing space dropped, the SQLSTATE appended when known. Returns OUT. */
char *pgconn_error(PGconn *conn, const PGresult *res, char *out, size_t size);

/* True if the failure of RES (NULL: no result came) means the session is gone or unusable: the
 * connection is bad, or the server is shutting down / restarting (SQLSTATE class 08, 57P01-03). */
int pgconn_lost(PGconn *conn, const PGresult *res);

/* True if RES failed with a transient conflict worth retrying (serialization failure 40001,
 * deadlock 40P01). */
int pgconn_transient(const PGresult *res);

/* Runs SQL (no parameters); returns 0 if it succeeded, else -1 with errstr "WHAT: <error>". */
int pgconn_exec(PGconn *conn, const char *sql, const char *what, char *errstr, size_t errstr_size);

/* Returns IDENT double-quoted with embedded quotes doubled; caller frees with free(). */
char *pgconn_quote_ident(const char *ident);

#endif
