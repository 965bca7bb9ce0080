/* libpq connections with the connector's session settings. */
#include "pgconn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

const char *pgconn_error(PGconn *conn, const PGresult *res, char *out, size_t size)
{
    const char *msg = res ? PQresultErrorMessage(res) : "";
    if (!*msg)
        msg = PQerrorMessage(conn);
    snprintf(out, size, "%s", *msg ? msg : "connection lost");
    for (char *p = out; *p; p++)
        if (*p == '\n' || *p == '\t')
            *p = ' ';
    size_t n = strlen(out);
    while (n > 0 && out[n - 1] == ' ')
        out[--n] = '\0';
    return out;
}

/* The user's own options (e.g. -c logical_decoding_work_mem=...) with ours after them, so the
 * output formats the parsers rely on win while the user's other settings stay. Caller frees. */
static char *merged_options(const char *conninfo, const char *ours)
{
    char *user = NULL;
    PQconninfoOption *opts = PQconninfoParse(conninfo, NULL);
    for (PQconninfoOption *o = opts; o && o->keyword; o++)
        if (strcmp(o->keyword, "options") == 0 && o->val && *o->val)
            user = xasprintf("%s %s", o->val, ours);
    PQconninfoFree(opts);
    return user ? user : xstrdup(ours);
}

PGconn *pgconn_open(const char *conninfo, int replication, const char *what, char *errstr,
                    size_t errstr_size)
{
    char msg[512];
    char *options = merged_options(conninfo, "-c DateStyle=ISO -c TimeZone=UTC "
                                             "-c extra_float_digits=3 -c IntervalStyle=postgres "
                                             "-c bytea_output=hex");
    /* dbname is expanded (expand_dbname): it may hold the whole conninfo string or URI, and the
     * keywords after it override what it says */
    const char *keys[] = {"dbname", "application_name", "options",
                          replication ? "replication" : NULL, NULL};
    const char *values[] = {conninfo, "salescdc-connector", options, "database", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
    free(options);
    if (PQstatus(conn) == CONNECTION_OK)
        return conn;
    snprintf(errstr, errstr_size, "connect to PostgreSQL for %s (host %s port %s): %s%s", what,
             PQhost(conn) ? PQhost(conn) : "?", PQport(conn) ? PQport(conn) : "?",
             pgconn_error(conn, NULL, msg, sizeof msg),
             replication ? " (needs a pg_hba.conf line for replication connections and the "
                           "REPLICATION privilege)"
                         : "");
    PQfinish(conn);
    return NULL;
}

int pgconn_exec(PGconn *conn, const char *sql, const char *what, char *errstr, size_t errstr_size)
{
    char msg[512];
    PGresult *res = PQexec(conn, sql);
    ExecStatusType st = PQresultStatus(res);
    int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 : -1;
    if (rc < 0)
        snprintf(errstr, errstr_size, "%s: %s", what, pgconn_error(conn, res, msg, sizeof msg));
    PQclear(res);
    return rc;
}
