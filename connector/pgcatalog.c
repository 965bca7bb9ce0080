/* Plain SQL session of the connector: preflight, publication, slot state, catalog lookups. */
#include "pgcatalog.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "pgconn.h"
#include "xalloc.h"

struct pgcatalog {
    PGconn *conn;
};

/* Runs SQL with text PARAMS; returns the result (caller frees with PQclear()) or NULL with
 * errstr "WHAT: <server error>". */
static PGresult *query(struct pgcatalog *cat, const char *sql, int nparams,
                       const char *const *params, const char *what, char *errstr,
                       size_t errstr_size)
{
    char msg[512];
    PGresult *res = PQexecParams(cat->conn, sql, nparams, NULL, params, NULL, NULL, 0);
    ExecStatusType st = PQresultStatus(res);
    if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
        return res;
    snprintf(errstr, errstr_size, "%s: %s", what, pgconn_error(cat->conn, res, msg, sizeof msg));
    PQclear(res);
    return NULL;
}

struct pgcatalog *pgcatalog_new(const char *conninfo, char *errstr, size_t errstr_size)
{
    PGconn *conn = pgconn_open(conninfo, 0, "catalog queries", errstr, errstr_size);
    if (!conn)
        return NULL;
    struct pgcatalog *cat = xcalloc(1, sizeof *cat);
    cat->conn = conn;
    return cat;
}

void pgcatalog_destroy(struct pgcatalog *cat)
{
    if (!cat)
        return;
    PQfinish(cat->conn);
    free(cat);
}

int pgcatalog_server_version(const struct pgcatalog *cat)
{
    return PQserverVersion(cat->conn);
}

const char *pgcatalog_dbname(const struct pgcatalog *cat)
{
    return PQdb(cat->conn);
}

int pgcatalog_parse_lsn(const char *text, uint64_t *lsn)
{
    unsigned hi, lo;
    int n = 0;
    if (!text || sscanf(text, "%X/%X%n", &hi, &lo, &n) != 2 || text[n] != '\0')
        return -1;
    *lsn = (uint64_t)hi << 32 | lo;
    return 0;
}

static char *trim_dup(const char *s, size_t n)
{
    while (n > 0 && (*s == ' ' || *s == '\t'))
        s++, n--;
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    char *out = xmalloc(n + 1);
    memcpy(out, s, n);
    out[n] = '\0';
    return out;
}

int pgcatalog_parse_tables(const char *list, struct pgcatalog_table **tables, char *errstr,
                           size_t errstr_size)
{
    int n = 0;
    *tables = NULL;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ",");
        char *item = trim_dup(p, len), *dot = strchr(item, '.');
        p += len + (p[len] == ',');
        if (!*item || (dot && (dot == item || !dot[1] || strchr(dot + 1, '.')))) {
            snprintf(errstr, errstr_size,
                     "option tables: '%s' is not a table name (schema.table or table). Try --help",
                     item);
            free(item);
            pgcatalog_tables_free(*tables, n);
            *tables = NULL;
            return -1;
        }
        *tables = xrealloc(*tables, (size_t)(n + 1) * sizeof **tables);
        if (dot)
            *dot = '\0';
        (*tables)[n].schema = xstrdup(dot ? item : "public");
        (*tables)[n++].name = xstrdup(dot ? dot + 1 : item);
        free(item);
    }
    return n;
}

void pgcatalog_tables_free(struct pgcatalog_table *tables, int n)
{
    for (int i = 0; i < n; i++) {
        free(tables[i].schema);
        free(tables[i].name);
    }
    free(tables);
}

/* The first value of a one-row query, copied into OUT; returns 0, or -1 with errstr. */
static int query_value(struct pgcatalog *cat, const char *sql, const char *what, char *out,
                       size_t size, char *errstr, size_t errstr_size)
{
    PGresult *res = query(cat, sql, 0, NULL, what, errstr, errstr_size);
    if (!res)
        return -1;
    snprintf(out, size, "%s", PQntuples(res) > 0 ? PQgetvalue(res, 0, 0) : "");
    PQclear(res);
    return 0;
}

static int check_server(struct pgcatalog *cat, char *errstr, size_t errstr_size)
{
    char v[128];
    if (query_value(cat, "SELECT current_setting('wal_level')", "read wal_level", v, sizeof v,
                    errstr, errstr_size) < 0)
        return -1;
    if (strcmp(v, "logical") != 0) {
        snprintf(errstr, errstr_size,
                 "preflight: wal_level is '%s', logical decoding needs 'logical': set "
                 "wal_level = logical in postgresql.conf (or ALTER SYSTEM SET wal_level = "
                 "logical) and restart PostgreSQL",
                 v);
        return -1;
    }
    if (query_value(cat,
                    "SELECT current_user || ' ' || (rolreplication OR rolsuper) FROM pg_roles "
                    "WHERE rolname = current_user",
                    "read the role's privileges", v, sizeof v, errstr, errstr_size) < 0)
        return -1;
    char *sp = strrchr(v, ' ');
    if (sp && strcmp(sp + 1, "false") == 0) {
        *sp = '\0';
        snprintf(errstr, errstr_size,
                 "preflight: role %s lacks the REPLICATION privilege needed for a replication "
                 "slot: run ALTER ROLE %s REPLICATION as a superuser",
                 v, v);
        return -1;
    }
    return 0;
}

/* Checks that table T exists and that UPDATE/DELETE on it can be published. */
static int check_table(struct pgcatalog *cat, const struct pgcatalog_table *t, char *errstr,
                       size_t errstr_size)
{
    const char *params[] = {t->schema, t->name};
    PGresult *res = query(cat,
                          "SELECT c.relreplident, EXISTS (SELECT 1 FROM pg_index i WHERE "
                          "i.indrelid = c.oid AND i.indisprimary) FROM pg_class c JOIN "
                          "pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND "
                          "c.relname = $2 AND c.relkind IN ('r', 'p')",
                          2, params, "look up a captured table", errstr, errstr_size);
    if (!res)
        return -1;
    int rc = 0;
    if (PQntuples(res) == 0) {
        snprintf(errstr, errstr_size,
                 "preflight: table %s.%s does not exist: create it, or remove it from --tables",
                 t->schema, t->name);
        rc = -1;
    } else {
        char ident = PQgetvalue(res, 0, 0)[0];
        int has_pk = PQgetvalue(res, 0, 1)[0] == 't';
        if (ident == 'n' || (ident == 'd' && !has_pk)) {
            snprintf(errstr, errstr_size,
                     "preflight: table %s.%s has %s: once published, UPDATE and DELETE on it "
                     "fail; add a primary key, or run ALTER TABLE %s.%s REPLICA IDENTITY FULL",
                     t->schema, t->name,
                     ident == 'n' ? "REPLICA IDENTITY NOTHING"
                                  : "no primary key and REPLICA IDENTITY DEFAULT",
                     t->schema, t->name);
            rc = -1;
        }
    }
    PQclear(res);
    return rc;
}

static int check_free_slot(struct pgcatalog *cat, char *errstr, size_t errstr_size)
{
    char v[128];
    int used, max;
    if (query_value(cat,
                    "SELECT (SELECT count(*) FROM pg_replication_slots) || ' ' || "
                    "current_setting('max_replication_slots')",
                    "count replication slots", v, sizeof v, errstr, errstr_size) < 0)
        return -1;
    if (sscanf(v, "%d %d", &used, &max) == 2 && used >= max) {
        snprintf(errstr, errstr_size,
                 "preflight: all %d replication slots are in use: raise max_replication_slots "
                 "(restart needed) or drop an unused slot (pg_drop_replication_slot)",
                 max);
        return -1;
    }
    return 0;
}

int pgcatalog_preflight(struct pgcatalog *cat, const struct pgcatalog_table *tables, int ntables,
                        const char *slot, char *errstr, size_t errstr_size)
{
    uint64_t lsn;
    if (check_server(cat, errstr, errstr_size) < 0)
        return -1;
    for (int i = 0; i < ntables; i++)
        if (check_table(cat, &tables[i], errstr, errstr_size) < 0)
            return -1;
    int slot_exists = pgcatalog_slot_state(cat, slot, &lsn, errstr, errstr_size);
    if (slot_exists == -1)
        return -1;
    return slot_exists ? 0 : check_free_slot(cat, errstr, errstr_size); /* busy: seen later */
}

/* "schema"."table" quoted for SQL; caller frees with free(). */
static char *quoted_table(PGconn *conn, const struct pgcatalog_table *t)
{
    char *s = PQescapeIdentifier(conn, t->schema, strlen(t->schema));
    char *n = PQescapeIdentifier(conn, t->name, strlen(t->name));
    char *out = xasprintf("%s.%s", s, n);
    PQfreemem(s);
    PQfreemem(n);
    return out;
}

/* Runs "<PREFIX> t1, t2, ..." over the tables for which NEED[i] is set (NULL: all). */
static int exec_table_list(struct pgcatalog *cat, const char *prefix,
                           const struct pgcatalog_table *tables, int ntables, const int *need,
                           char *errstr, size_t errstr_size)
{
    char *sql = xstrdup(prefix), *what;
    int count = 0;
    for (int i = 0; i < ntables; i++) {
        if (need && !need[i])
            continue;
        char *q = quoted_table(cat->conn, &tables[i]), *next;
        next = xasprintf("%s%s %s", sql, count++ ? "," : "", q);
        free(q);
        free(sql);
        sql = next;
    }
    what = xasprintf("%s (as the tables' owner, with CREATE on the database)", sql);
    PGresult *res = count ? query(cat, sql, 0, NULL, what, errstr, errstr_size) : NULL;
    int rc = count && !res ? -1 : 0;
    if (rc == 0 && count)
        log_info("publication updated sql=\"%s\"", sql);
    PQclear(res);
    free(what);
    free(sql);
    return rc;
}

/* Sets NEED[i] for each table missing from existing publication PUB. */
static int missing_tables(struct pgcatalog *cat, const char *pub,
                          const struct pgcatalog_table *tables, int ntables, int *need,
                          char *errstr, size_t errstr_size)
{
    for (int i = 0; i < ntables; i++) {
        const char *params[] = {pub, tables[i].schema, tables[i].name};
        PGresult *res = query(cat,
                              "SELECT 1 FROM pg_publication_tables WHERE pubname = $1 AND "
                              "schemaname = $2 AND tablename = $3",
                              3, params, "read the publication's tables", errstr, errstr_size);
        if (!res)
            return -1;
        need[i] = PQntuples(res) == 0;
        PQclear(res);
    }
    return 0;
}

int pgcatalog_ensure_publication(struct pgcatalog *cat, const char *pub,
                                 const struct pgcatalog_table *tables, int ntables, int all_tables,
                                 char *errstr, size_t errstr_size)
{
    const char *params[] = {pub};
    PGresult *res = query(cat, "SELECT puballtables FROM pg_publication WHERE pubname = $1", 1,
                          params, "look up the publication", errstr, errstr_size);
    if (!res)
        return -1;
    int exists = PQntuples(res) > 0, is_all = exists && PQgetvalue(res, 0, 0)[0] == 't';
    PQclear(res);
    char *qpub = PQescapeIdentifier(cat->conn, pub, strlen(pub));
    char *prefix = NULL;
    int rc = 0, *need = xcalloc((size_t)ntables + 1, sizeof *need);
    if (!exists && all_tables) {
        prefix = xasprintf("CREATE PUBLICATION %s FOR ALL TABLES", qpub);
        res = query(cat, prefix, 0, NULL, "create the publication (as a superuser)", errstr,
                    errstr_size);
        rc = res ? 0 : -1;
        PQclear(res);
    } else if (!exists) {
        prefix = xasprintf("CREATE PUBLICATION %s FOR TABLE", qpub);
        rc = exec_table_list(cat, prefix, tables, ntables, NULL, errstr, errstr_size);
    } else if (!is_all) {
        prefix = xasprintf("ALTER PUBLICATION %s ADD TABLE", qpub);
        rc = missing_tables(cat, pub, tables, ntables, need, errstr, errstr_size);
        if (rc == 0)
            rc = exec_table_list(cat, prefix, tables, ntables, need, errstr, errstr_size);
    }
    if (rc == 0 && !exists)
        log_info("publication created publication=%s all_tables=%d", pub, all_tables);
    free(need);
    free(prefix);
    PQfreemem(qpub);
    return rc;
}

int pgcatalog_slot_state(struct pgcatalog *cat, const char *slot, uint64_t *confirmed, char *errstr,
                         size_t errstr_size)
{
    const char *params[] = {slot};
    PGresult *res = query(cat,
                          "SELECT s.plugin, s.database = current_database(), s.active_pid, "
                          "s.confirmed_flush_lsn, r.application_name, r.client_addr, s.database "
                          "FROM pg_replication_slots s LEFT JOIN pg_stat_replication r ON "
                          "r.pid = s.active_pid WHERE s.slot_name = $1",
                          1, params, "look up the replication slot", errstr, errstr_size);
    if (!res)
        return -1;
    int rc = PQntuples(res) > 0;
    if (rc && strcmp(PQgetvalue(res, 0, 0), "pgoutput") != 0) {
        snprintf(errstr, errstr_size,
                 "replication slot %s uses plugin '%s', not pgoutput: drop it "
                 "(SELECT pg_drop_replication_slot('%s')) or choose another --slot",
                 slot, PQgetvalue(res, 0, 0), slot);
        rc = -1;
    } else if (rc && PQgetvalue(res, 0, 1)[0] != 't') {
        snprintf(errstr, errstr_size,
                 "replication slot %s belongs to database '%s': choose another --slot", slot,
                 PQgetvalue(res, 0, 6));
        rc = -1;
    } else if (rc && !PQgetisnull(res, 0, 2)) {
        snprintf(errstr, errstr_size,
                 "replication slot %s is active for PID %s (application_name '%s', client "
                 "address %s): another connector is running on it; stop it or choose another "
                 "--slot",
                 slot, PQgetvalue(res, 0, 2), PQgetvalue(res, 0, 4),
                 PQgetisnull(res, 0, 5) ? "local" : PQgetvalue(res, 0, 5));
        rc = PGCATALOG_SLOT_BUSY;
    } else if (rc && pgcatalog_parse_lsn(PQgetvalue(res, 0, 3), confirmed) < 0) {
        *confirmed = 0;
    }
    PQclear(res);
    return rc;
}

int pgcatalog_describe(struct pgcatalog *cat, struct relcache_rel *rel, char *errstr,
                       size_t errstr_size)
{
    char relid[16];
    snprintf(relid, sizeof relid, "%" PRIu32, rel->relid);
    const char *params[] = {relid};
    PGresult *res = query(cat,
                          "SELECT a.attname, a.attnotnull, COALESCE(a.attnum = ANY (i.indkey), "
                          "false), i.indrelid IS NOT NULL FROM pg_attribute a LEFT JOIN pg_index "
                          "i ON i.indrelid = a.attrelid AND i.indisprimary WHERE a.attrelid = $1 "
                          "AND a.attnum > 0 AND NOT a.attisdropped",
                          1, params, "describe a captured table", errstr, errstr_size);
    if (!res)
        return -1;
    for (int row = 0; row < PQntuples(res); row++) {
        for (int i = 0; i < rel->ncols; i++) {
            struct relcache_column *c = &rel->cols[i];
            if (strcmp(c->name, PQgetvalue(res, row, 0)) != 0)
                continue;
            int has_pk = PQgetvalue(res, row, 3)[0] == 't';
            c->key = has_pk ? PQgetvalue(res, row, 2)[0] == 't' : c->replica_ident;
            c->not_null = PQgetvalue(res, row, 1)[0] == 't' || c->key;
        }
    }
    PQclear(res);
    return 0;
}

int pgcatalog_current_wal_lsn(struct pgcatalog *cat, uint64_t *lsn, char *errstr,
                              size_t errstr_size)
{
    char v[64];
    if (query_value(cat, "SELECT pg_current_wal_lsn()", "read the server's WAL position", v,
                    sizeof v, errstr, errstr_size) < 0)
        return -1;
    if (pgcatalog_parse_lsn(v, lsn) < 0) {
        snprintf(errstr, errstr_size, "read the server's WAL position: '%s' is not an LSN", v);
        return -1;
    }
    return 0;
}

int pgcatalog_exec(struct pgcatalog *cat, const char *sql, const char *what, char *errstr,
                   size_t errstr_size)
{
    return pgconn_exec(cat->conn, sql, what, errstr, errstr_size);
}

int pgcatalog_connected(const struct pgcatalog *cat)
{
    return cat && PQstatus(cat->conn) == CONNECTION_OK;
}
