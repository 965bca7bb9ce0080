/* Integration smoke test of Trino: a JSON Lines object put with common/s3_client is read back as a
 * Hive external table through common/trino_client. */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "s3_client.h"
#include "trino_client.h"

enum {
    REQUEST_TIMEOUT_MS = 30000,    /* one HTTP request; a Trino poll itself waits at most ~1 s */
    STATEMENT_TIMEOUT_MS = 120000, /* one SQL statement, all of its polls together */
    ERRSTR_SIZE = 1024,
};

/* The object written to S3 and the rows Trino must return for it, ordered by orderid. */
static const char OBJECT_BODY[] =
    "{\"orderid\":\"1\",\"product_name\":\"Laptop\",\"quantity\":2,\"price\":\"123.45\"}\n"
    "{\"orderid\":\"2\",\"product_name\":\"Phone\",\"quantity\":1,\"price\":\"10.00\"}\n"
    "{\"orderid\":\"3\",\"product_name\":\"Headphones\",\"quantity\":5,\"price\":\"499.99\"}\n";
static const char EXPECTED_ROWS[] = "[[\"1\",\"Laptop\",2,\"123.45\"],"
                                    "[\"2\",\"Phone\",1,\"10.00\"],"
                                    "[\"3\",\"Headphones\",5,\"499.99\"]]";

static void set_error(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

static struct s3_client *s3(void)
{
    char err[ERRSTR_SIZE];
    struct s3_config cfg = {
        .endpoint = itest_env("SALESCDC_S3_ENDPOINT"),
        .region = itest_env("SALESCDC_S3_REGION"),
        .bucket = itest_env("SALESCDC_S3_BUCKET"),
        .access_key = itest_env("SALESCDC_S3_ACCESS_KEY"),
        .secret_key = itest_env("SALESCDC_S3_SECRET_KEY"),
    };
    struct s3_client *c = s3_client_new(&cfg, err, sizeof err);
    ITEST_CHECK(c != NULL, "%s", err);
    return c;
}

static struct trino_client *trino(void)
{
    char err[ERRSTR_SIZE];
    struct trino_config cfg = {
        .url = itest_env("SALESCDC_TRINO_URL"),
        .user = "salescdc",
        .source = "salescdc-test-trino",
        .request_timeout_ms = REQUEST_TIMEOUT_MS,
        .statement_timeout_ms = STATEMENT_TIMEOUT_MS,
    };
    struct trino_client *c = trino_client_new(&cfg, err, sizeof err);
    ITEST_CHECK(c != NULL, "%s", err);
    return c;
}

/* Compares ROWS with EXPECTED_ROWS. Returns 0, or -1 with both printed into errstr. */
static int check_rows(json_t *rows, char *errstr, size_t errstr_size)
{
    json_t *expected = json_loads(EXPECTED_ROWS, 0, NULL);
    char *got = json_dumps(rows, JSON_COMPACT);
    int rc = json_equal(rows, expected) ? 0 : -1;
    if (rc != 0)
        set_error(errstr, errstr_size, "rows differ: got %s, want %s", got ? got : "null",
                  EXPECTED_ROWS);
    free(got);
    json_decref(expected);
    return rc;
}

/* Creates the external table over PREFIX, reads it back and checks the rows; the table is
 * dropped whatever happened. Returns 0, or -1 with errstr filled. */
static int query_external_table(struct trino_client *c, const char *table, const char *prefix,
                                char *errstr, size_t errstr_size)
{
    char sql[2048], drop_err[ERRSTR_SIZE];
    struct trino_result r = {0};
    int rc = -1;
    snprintf(sql, sizeof sql,
             "CREATE TABLE hive.sales.%s (orderid varchar, product_name varchar, "
             "quantity integer, price decimal(10,2)) "
             "WITH (format = 'JSON', external_location = 's3://%s/%s')",
             table, itest_env("SALESCDC_S3_BUCKET"), prefix);
    if (trino_execute(c, sql, &r, errstr, errstr_size) != TRINO_OK)
        goto done;
    snprintf(sql, sizeof sql,
             "SELECT orderid, product_name, quantity, price FROM hive.sales.%s ORDER BY orderid",
             table);
    if (trino_execute(c, sql, &r, errstr, errstr_size) == TRINO_OK)
        rc = check_rows(r.rows, errstr, errstr_size);
    snprintf(sql, sizeof sql, "DROP TABLE hive.sales.%s", table);
    if (trino_execute(c, sql, &r, drop_err, sizeof drop_err) != TRINO_OK && rc == 0) {
        set_error(errstr, errstr_size, "%s", drop_err);
        rc = -1;
    }
done:
    trino_result_release(&r);
    return rc;
}

/* Fails the test before anything is created when a setting is missing, so that no table or
 * object is left behind by a half-configured run. */
static void require_settings(void)
{
    static const char *const names[] = {"SALESCDC_S3_ENDPOINT",   "SALESCDC_S3_ACCESS_KEY",
                                        "SALESCDC_S3_SECRET_KEY", "SALESCDC_S3_BUCKET",
                                        "SALESCDC_S3_REGION",     "SALESCDC_TRINO_URL"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        itest_env(names[i]);
}

int main(void)
{
    char table[64], prefix[128], key[192], errstr[ERRSTR_SIZE], cleanup_err[ERRSTR_SIZE];
    long id = (long)getpid(), now = (long)time(NULL);
    int rc;
    require_settings();
    ITEST_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "curl_global_init failed");
    struct s3_client *objects = s3();
    struct trino_client *sql = trino();
    snprintf(table, sizeof table, "itest_trino_%ld_%ld", now, id);
    snprintf(prefix, sizeof prefix, "itest/%s/", table);
    snprintf(key, sizeof key, "%sorders.json", prefix);

    rc = s3_put_object(objects, key, OBJECT_BODY, strlen(OBJECT_BODY), "application/x-ndjson", NULL,
                       errstr, sizeof errstr);
    ITEST_CHECK(rc == S3_OK, "upload of the test object: %s", errstr);
    rc = query_external_table(sql, table, prefix, errstr, sizeof errstr);
    if (s3_delete_object(objects, key, cleanup_err, sizeof cleanup_err) != S3_OK)
        fprintf(stderr, "warning: could not delete the test object: %s\n", cleanup_err);
    ITEST_CHECK(rc == 0, "Hive external table hive.sales.%s over s3://%s/%s: %s", table,
                itest_env("SALESCDC_S3_BUCKET"), prefix, errstr);

    trino_client_destroy(sql);
    s3_client_destroy(objects);
    curl_global_cleanup();
    printf("test_trino: ok (3 rows read back through hive.sales.%s)\n", table);
    return 0;
}
