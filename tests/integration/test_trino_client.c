/* Integration tests of common/trino_client against the stack's Trino: schema and table DDL,
 * INSERT with its update count, SELECT with columns and typed values, errors by name. */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "trino_client.h"

enum { ERRSTR_SIZE = 1024 };

/* The schema under test, dropped at exit whatever happened (tables first). */
static char test_schema[64];

static struct trino_client *client(const char *schema)
{
    char err[ERRSTR_SIZE];
    struct trino_config cfg = {.url = itest_env("SALESCDC_TRINO_URL"),
                               .user = "salescdc",
                               .source = "salescdc-test-trino-client",
                               .catalog = "hive",
                               .schema = schema,
                               .statement_timeout_ms = 120000};
    struct trino_client *c = trino_client_new(&cfg, err, sizeof err);
    ITEST_CHECK(c != NULL, "%s", err);
    return c;
}

/* Runs SQL and fails the test unless it succeeds; the result stays in R. */
static void run(struct trino_client *c, const char *sql, struct trino_result *r)
{
    char err[ERRSTR_SIZE];
    int rc = trino_execute(c, sql, r, err, sizeof err);
    ITEST_CHECK(rc == TRINO_OK, "%s", err);
}

static void check_json(json_t *got, const char *want_text, const char *what)
{
    json_t *want = json_loads(want_text, 0, NULL);
    char *text = json_dumps(got, JSON_COMPACT);
    ITEST_CHECK(want && json_equal(got, want), "%s: got %s, want %s", what, text ? text : "null",
                want_text);
    free(text);
    json_decref(want);
}

/* CREATE TABLE, INSERT (3 rows counted), SELECT in order with the columns' names and types. */
static void check_table_round_trip(struct trino_client *c, const char *schema)
{
    char sql[512];
    struct trino_result r = {0};
    snprintf(sql, sizeof sql,
             "CREATE TABLE hive.%s.orders (orderid varchar, product_name varchar, "
             "quantity integer, price decimal(10,2))",
             schema);
    run(c, sql, &r);
    ITEST_CHECK(strcmp(r.update_type, "CREATE TABLE") == 0, "update type %s", r.update_type);
    /* Unqualified: the client's catalog and schema headers apply. */
    run(c,
        "INSERT INTO orders VALUES ('2', 'Phone', 1, 10.00), ('1', 'Laptop', 2, 123.45), "
        "('3', 'Headphones', 5, 499.99)",
        &r);
    ITEST_CHECK(strcmp(r.update_type, "INSERT") == 0 && r.update_count == 3,
                "INSERT: update type %s, count %lld", r.update_type, r.update_count);
    run(c, "SELECT orderid, product_name, quantity, price FROM orders ORDER BY orderid", &r);
    check_json(r.columns,
               "[{\"name\":\"orderid\",\"type\":\"varchar\"},{\"name\":\"product_name\","
               "\"type\":\"varchar\"},{\"name\":\"quantity\",\"type\":\"integer\"},"
               "{\"name\":\"price\",\"type\":\"decimal(10, 2)\"}]",
               "columns");
    check_json(r.rows,
               "[[\"1\",\"Laptop\",2,\"123.45\"],[\"2\",\"Phone\",1,\"10.00\"],"
               "[\"3\",\"Headphones\",5,\"499.99\"]]",
               "rows");
    run(c, "SELECT product_name, sum(quantity * price) FROM orders GROUP BY 1 ORDER BY 2 DESC", &r);
    check_json(r.rows,
               "[[\"Headphones\",\"2499.95\"],[\"Laptop\",\"246.90\"],[\"Phone\",\"10.00\"]]",
               "aggregate");
    trino_result_release(&r);
}

/* Errors come back by name: bad SQL, an existing table, a missing one. */
static void check_errors(struct trino_client *c)
{
    char err[ERRSTR_SIZE];
    struct trino_result r = {0};
    int rc = trino_execute(c, "SELEC 1", &r, err, sizeof err);
    ITEST_CHECK(rc == TRINO_ERR_QUERY && strcmp(r.error_name, "SYNTAX_ERROR") == 0 &&
                    strstr(err, "Trino statement \"SELEC 1\": SYNTAX_ERROR: line 1:1: ") != NULL,
                "bad SQL: %d %s", rc, err);
    rc = trino_execute(c, "CREATE TABLE orders (x integer)", &r, err, sizeof err);
    ITEST_CHECK(rc == TRINO_ERR_QUERY && strcmp(r.error_name, "TABLE_ALREADY_EXISTS") == 0,
                "existing table: %d %s (%s)", rc, err, r.error_name);
    rc = trino_execute(c, "SELECT * FROM no_such_table", &r, err, sizeof err);
    ITEST_CHECK(rc == TRINO_ERR_QUERY && strcmp(r.error_name, "TABLE_NOT_FOUND") == 0 &&
                    strstr(err, "no_such_table") != NULL,
                "missing table: %d %s", rc, err);
    trino_result_release(&r);
}

static void drop_test_schema(void)
{
    char sql[256], err[ERRSTR_SIZE];
    struct trino_result r = {0};
    struct trino_client *c = client(test_schema);
    snprintf(sql, sizeof sql, "DROP TABLE IF EXISTS hive.%s.orders", test_schema);
    if (trino_execute(c, sql, &r, err, sizeof err) != TRINO_OK)
        fprintf(stderr, "warning: cleanup: %s\n", err);
    snprintf(sql, sizeof sql, "DROP SCHEMA IF EXISTS hive.%s", test_schema);
    if (trino_execute(c, sql, &r, err, sizeof err) != TRINO_OK)
        fprintf(stderr, "warning: cleanup: %s\n", err);
    trino_result_release(&r);
    trino_client_destroy(c);
}

int main(void)
{
    char sql[256];
    struct trino_result r = {0};
    ITEST_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "curl_global_init failed");
    snprintf(test_schema, sizeof test_schema, "itest_trino_client_%ld_%ld", (long)time(NULL),
             (long)getpid());
    struct trino_client *c = client(test_schema);

    snprintf(sql, sizeof sql, "CREATE SCHEMA hive.%s", test_schema);
    run(c, sql, &r);
    atexit(drop_test_schema);
    check_table_round_trip(c, test_schema);
    check_errors(c);
    snprintf(sql, sizeof sql, "DROP TABLE hive.%s.orders", test_schema);
    run(c, sql, &r);
    snprintf(sql, sizeof sql, "DROP SCHEMA hive.%s", test_schema);
    run(c, sql, &r);

    trino_result_release(&r);
    trino_client_destroy(c);
    printf("test_trino_client: DDL, INSERT, SELECT and named errors passed in hive.%s\n",
           test_schema);
    return 0;
}
