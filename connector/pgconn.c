/* libpq connections with the connector's session settings. */
#include "pgconn.h"

#include <stdio.h>
#include <string.h>

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

PGconn *pgconn_open(const char *conninfo, int replication, const char *what, char *errstr,
                    size_t errstr_size)
{
    char msg[512];
    /* dbname is expanded (expand_dbname): it may hold the whole conninfo string or URI, and the
     * keywords after it override what it says */
    const char *keys[] = {"dbname", "application_name", "options",
                          replication ? "replication" : NULL, NULL};
    const char *values[] = {conninfo, "salescdc-connector",
                            "-c DateStyle=ISO -c TimeZone=UTC -c extra_float_digits=3 "
                            "-c IntervalStyle=postgres -c bytea_output=hex",
                            "database", NULL};
    PGconn *conn = PQconnectdbParams(keys, values, 1);
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
