/* Idempotent creation and start-up checks of the producer's tables. */
#include "schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "generator.h"
#include "pgconn.h"
#include "xalloc.h"

#define INIT_LOCK_KEY "5915418845" /* advisory lock serialising concurrent --init runs */

/* DDL in order; %1$s is the quoted schema. */
static const char *const ddl[] = {
    "CREATE TABLE IF NOT EXISTS %1$s.products (product_name text PRIMARY KEY,"
    " category text NOT NULL, list_price numeric(10,2) NOT NULL)",
    "INSERT INTO %1$s.products VALUES ('Laptop', 'computers', 1299.00), ('Phone', 'phones', "
    "799.00),"
    " ('Tablet', 'computers', 499.00), ('Headphones', 'audio', 199.00),"
    " ('Charger', 'accessories', 29.00) ON CONFLICT (product_name) DO NOTHING",
    "CREATE TABLE IF NOT EXISTS %1$s.customers (customer_id int PRIMARY KEY, name text NOT NULL,"
    " email text NOT NULL, city text NOT NULL, created_at timestamptz NOT NULL)",
    "INSERT INTO %1$s.customers SELECT i, 'Customer ' || i, 'customer' || i || '@example.com',"
    " (ARRAY['Berlin', 'Lisbon', 'Oslo', 'Madrid', 'Vienna', 'Dublin', 'Prague', 'Turin'])[1 + i "
    "%% 8],"
    " timestamptz '2024-01-01 00:00:00+00' FROM generate_series(1, 1000) AS i"
    " ON CONFLICT (customer_id) DO NOTHING",
    /* fillfactor 80 leaves room on each page for HOT updates: seed mode mostly overwrites. */
    "CREATE TABLE IF NOT EXISTS %1$s.orders (orderid text PRIMARY KEY, product_name text,"
    " quantity int, price numeric(10,2), customer_id int,"
    " status text NOT NULL DEFAULT 'placed' CONSTRAINT orders_status_check CHECK (status IN"
    " ('placed', 'paid', 'shipped', 'delivered', 'cancelled')),"
    " created_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT now())"
    " WITH (fillfactor = 80)",
    "CREATE TABLE IF NOT EXISTS %1$s.salescdc_producer_runs (run_id bigint PRIMARY KEY,"
    " mode text NOT NULL, seed text NOT NULL, batches bigint NOT NULL DEFAULT 0,"
    " started_at timestamptz NOT NULL DEFAULT now(), updated_at timestamptz NOT NULL DEFAULT "
    "now())",
};

/* Runs a one-column, one-row query with up to two text parameters; *OUT is the value (caller
 * frees with free(); NULL for SQL NULL). Returns 0 or -1 with errstr. */
static int query_value(PGconn *conn, const char *sql, const char *p1, const char *p2, char **out,
                       char *errstr, size_t errstr_size)
{
    const char *params[2] = {p1, p2};
    PGresult *res = PQexecParams(conn, sql, p2 ? 2 : p1 ? 1 : 0, NULL, params, NULL, NULL, 0);
    int rc = 0;
    *out = NULL;
    if (PQresultStatus(res) != PGRES_TUPLES_OK) {
        char err[1024];
        snprintf(errstr, errstr_size, "%s", pgconn_error(conn, res, err, sizeof err));
        rc = -1;
    } else if (PQntuples(res) != 1) {
        snprintf(errstr, errstr_size, "expected one row, got %d", PQntuples(res));
        rc = -1;
    } else if (!PQgetisnull(res, 0, 0)) {
        *out = xstrdup(PQgetvalue(res, 0, 0));
    }
    PQclear(res);
    return rc;
}

static int ensure_schema(PGconn *conn, const char *schema, const char *quoted, char *errstr,
                         size_t errstr_size)
{
    char *found = NULL, err[1024];
    if (query_value(conn, "SELECT (SELECT 1 FROM pg_namespace WHERE nspname = $1)", schema, NULL,
                    &found, err, sizeof err) < 0) {
        snprintf(errstr, errstr_size, "look up schema %s: %s", quoted, err);
        return -1;
    }
    int rc = 0;
    if (!found) {
        char *sql = xasprintf("CREATE SCHEMA IF NOT EXISTS %s", quoted);
        char *what = xasprintf("create schema %s", quoted);
        rc = pgconn_exec(conn, sql, what, errstr, errstr_size);
        free(sql);
        free(what);
    }
    free(found);
    return rc;
}

/* ALTER TABLE takes an exclusive lock: only when the replica identity is not FULL yet. */
static int ensure_replica_identity(PGconn *conn, const char *quoted, char *errstr,
                                   size_t errstr_size)
{
    char *orders = xasprintf("%s.orders", quoted), *ident = NULL, err[1024];
    int rc = query_value(conn, "SELECT relreplident FROM pg_class WHERE oid = to_regclass($1)",
                         orders, NULL, &ident, err, sizeof err);
    if (rc < 0)
        snprintf(errstr, errstr_size, "read replica identity of %s: %s", orders, err);
    else if (!ident || strcmp(ident, "f") != 0) {
        char *sql = xasprintf("ALTER TABLE %s REPLICA IDENTITY FULL", orders);
        char *what = xasprintf("set REPLICA IDENTITY FULL on %s", orders);
        rc = pgconn_exec(conn, sql, what, errstr, errstr_size);
        free(sql);
        free(what);
    }
    free(ident);
    free(orders);
    return rc;
}

static int create_tables(PGconn *conn, const char *schema, const char *quoted, char *errstr,
                         size_t errstr_size)
{
    if (ensure_schema(conn, schema, quoted, errstr, errstr_size) < 0)
        return -1;
    for (size_t i = 0; i < sizeof ddl / sizeof ddl[0]; i++) {
        char *sql = xasprintf(ddl[i], quoted);
        char *what = xasprintf("initialise schema %s (statement %zu)", quoted, i + 1);
        int rc = pgconn_exec(conn, sql, what, errstr, errstr_size);
        free(sql);
        free(what);
        if (rc < 0)
            return -1;
    }
    return ensure_replica_identity(conn, quoted, errstr, errstr_size);
}

int schema_init(PGconn *conn, const char *schema, char *errstr, size_t errstr_size)
{
    char *quoted = pgconn_quote_ident(schema);
    int rc = pgconn_exec(conn, "BEGIN", "begin --init transaction", errstr, errstr_size);
    if (rc == 0)
        rc = pgconn_exec(conn, "SELECT pg_advisory_xact_lock(" INIT_LOCK_KEY ")",
                         "take the --init advisory lock", errstr, errstr_size);
    if (rc == 0)
        rc = create_tables(conn, schema, quoted, errstr, errstr_size);
    if (rc == 0)
        rc = pgconn_exec(conn, "COMMIT", "commit --init transaction", errstr, errstr_size);
    if (rc < 0) {
        PGresult *res = PQexec(conn, "ROLLBACK");
        PQclear(res);
    }
    free(quoted);
    return rc;
}

/* One row: orders exists, runs exists, orders writable, runs writable, missing orders columns,
 * current user. Privileges are tested one by one: has_table_privilege() with a list is true
 * when ANY of them is held. */
static const char check_sql[] =
    "WITH t AS (SELECT to_regclass($1) AS orders, to_regclass($2) AS runs)"
    " SELECT orders IS NOT NULL, runs IS NOT NULL,"
    " orders IS NULL OR (has_table_privilege(orders, 'SELECT') AND"
    "  has_table_privilege(orders, 'INSERT') AND has_table_privilege(orders, 'UPDATE') AND"
    "  has_table_privilege(orders, 'DELETE')),"
    " runs IS NULL OR (has_table_privilege(runs, 'SELECT') AND has_table_privilege(runs, 'INSERT')"
    "  AND has_table_privilege(runs, 'UPDATE')),"
    " (SELECT string_agg(c, ', ') FROM unnest(ARRAY['orderid', 'product_name', 'quantity',"
    "  'price', 'customer_id', 'status', 'created_at', 'updated_at']) AS c WHERE NOT EXISTS"
    "  (SELECT 1 FROM pg_attribute a WHERE a.attrelid = orders AND a.attname = c"
    "   AND NOT a.attisdropped)),"
    " current_user FROM t";

static int check_row(const PGresult *res, const char *orders, const char *runs, char *errstr,
                     size_t errstr_size)
{
    const char *user = PQgetvalue(res, 0, 5);
    if (strcmp(PQgetvalue(res, 0, 0), "t") != 0 || strcmp(PQgetvalue(res, 0, 1), "t") != 0)
        snprintf(errstr, errstr_size, "table %s does not exist; create it with --init",
                 strcmp(PQgetvalue(res, 0, 0), "t") != 0 ? orders : runs);
    else if (strcmp(PQgetvalue(res, 0, 2), "t") != 0)
        snprintf(errstr, errstr_size,
                 "role %s lacks SELECT, INSERT, UPDATE or DELETE on table %s; grant them", user,
                 orders);
    else if (strcmp(PQgetvalue(res, 0, 3), "t") != 0)
        snprintf(errstr, errstr_size,
                 "role %s lacks SELECT, INSERT or UPDATE on table %s; grant them", user, runs);
    else if (!PQgetisnull(res, 0, 4))
        snprintf(errstr, errstr_size,
                 "table %s lacks the columns %s; drop it or add them (--init creates it only "
                 "when missing)",
                 orders, PQgetvalue(res, 0, 4));
    else
        return 0;
    return -1;
}

int schema_check(PGconn *conn, const char *schema, char *errstr, size_t errstr_size)
{
    char *quoted = pgconn_quote_ident(schema);
    char *orders = xasprintf("%s.orders", quoted);
    char *runs = xasprintf("%s.salescdc_producer_runs", quoted);
    const char *params[2] = {orders, runs};
    PGresult *res = PQexecParams(conn, check_sql, 2, NULL, params, NULL, NULL, 0);
    int rc;
    if (PQresultStatus(res) != PGRES_TUPLES_OK || PQntuples(res) != 1) {
        char err[1024];
        snprintf(errstr, errstr_size, "check tables in schema %s: %s", quoted,
                 pgconn_error(conn, res, err, sizeof err));
        rc = -1;
    } else {
        rc = check_row(res, orders, runs, errstr, errstr_size);
    }
    PQclear(res);
    free(runs);
    free(orders);
    free(quoted);
    return rc;
}
