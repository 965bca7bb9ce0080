/* libpq helpers: connect, one-line errors, failure classification. */
#include "pgconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Settings put before the user's conninfo, so that the conninfo (expanded from "dbname") wins. */
static const char *const default_keys[] = {"connect_timeout",  "keepalives",
                                           "keepalives_idle",  "keepalives_interval",
                                           "keepalives_count", "fallback_application_name"};
static const char *const default_values[] = {"10", "1", "10", "5", "3", "salescdc-producer"};
#define N_DEFAULTS (sizeof default_keys / sizeof default_keys[0])

/* Writes MSG into OUT from offset *J on, newlines and tabs folded into single spaces. */
static void fold(char *out, size_t size, size_t *j, const char *msg)
{
    for (const char *p = msg; *p && *j + 1 < size; p++) {
        char c = (*p == '\n' || *p == '\t') ? ' ' : *p;
        if (c == ' ' && (*j == 0 || out[*j - 1] == ' '))
            continue;
        out[(*j)++] = c;
    }
    while (*j > 0 && out[*j - 1] == ' ')
        (*j)--;
    out[*j] = '\0';
}

char *pgconn_error(PGconn *conn, const PGresult *res, char *out, size_t size)
{
    const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
    const char *hint = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_HINT) : NULL;
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    const char *msg = primary ? primary : conn ? PQerrorMessage(conn) : "out of memory";
    char *raw = hint ? xasprintf("%s (hint: %s)", msg, hint) : xstrdup(*msg ? msg : "no result");
    size_t j = 0;
    fold(out, size, &j, raw);
    free(raw);
    if (state && j + 20 < size)
        snprintf(out + j, size - j, " (SQLSTATE %s)", state);
    return out;
}

PGconn *pgconn_open(const char *conninfo, char *errstr, size_t errstr_size)
{
    const char *keys[N_DEFAULTS + 2], *values[N_DEFAULTS + 2];
    for (size_t i = 0; i < N_DEFAULTS; i++) {
        keys[i] = default_keys[i];
        values[i] = default_values[i];
    }
    keys[N_DEFAULTS] = "dbname";
    values[N_DEFAULTS] = conninfo ? conninfo : "";
    keys[N_DEFAULTS + 1] = values[N_DEFAULTS + 1] = NULL;
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    if (conn && PQstatus(conn) == CONNECTION_OK)
        return conn;
    char err[1024];
    pgconn_error(conn, NULL, err, sizeof err);
    if (conn && PQhost(conn))
        snprintf(errstr, errstr_size, "connect to PostgreSQL (host %s port %s database %s): %s",
                 PQhost(conn), PQport(conn), PQdb(conn) ? PQdb(conn) : "?", err);
    else
        snprintf(errstr, errstr_size, "connect to PostgreSQL: %s", err);
    PQfinish(conn);
    return NULL;
}

int pgconn_lost(PGconn *conn, const PGresult *res)
{
    if (!conn || PQstatus(conn) != CONNECTION_OK || !res)
        return 1;
    const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    if (!state)
        return PQresultStatus(res) == PGRES_FATAL_ERROR && !PQresultErrorMessage(res)[0];
    return strncmp(state, "08", 2) == 0 || strcmp(state, "57P01") == 0 ||
           strcmp(state, "57P02") == 0 || strcmp(state, "57P03") == 0;
}

int pgconn_transient(const PGresult *res)
{
    const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    return state && (strcmp(state, "40001") == 0 || strcmp(state, "40P01") == 0);
}

int pgconn_exec(PGconn *conn, const char *sql, const char *what, char *errstr, size_t errstr_size)
{
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = 0;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
        char err[1024];
        snprintf(errstr, errstr_size, "%s: %s", what, pgconn_error(conn, res, err, sizeof err));
        rc = -1;
    }
    PQclear(res);
    return rc;
}

char *pgconn_quote_ident(const char *ident)
{
    size_t n = strlen(ident), j = 0;
    char *out = xmalloc(n * 2 + 3);
    out[j++] = '"';
    for (size_t i = 0; i < n; i++) {
        if (ident[i] == '"')
            out[j++] = '"';
        out[j++] = ident[i];
    }
    out[j++] = '"';
    out[j] = '\0';
    return out;
}
