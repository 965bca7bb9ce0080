/* Integration smoke test of Trino: a JSON Lines object in S3 is read back as a Hive table. */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <jansson.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

enum {
    REQUEST_TIMEOUT_S = 30,    /* one HTTP request; a Trino poll itself waits at most ~1 s */
    STATEMENT_TIMEOUT_S = 120, /* one SQL statement, all of its polls together */
    ERRSTR_SIZE = 512,
};

/* The object written to S3 and the rows Trino must return for it, ordered by orderid. */
static const char OBJECT_BODY[] =
    "{\"orderid\":\"1\",\"product_name\":\"Laptop\",\"quantity\":2,\"price\":\"123.45\"}\n"
    "{\"orderid\":\"2\",\"product_name\":\"Phone\",\"quantity\":1,\"price\":\"10.00\"}\n"
    "{\"orderid\":\"3\",\"product_name\":\"Headphones\",\"quantity\":5,\"price\":\"499.99\"}\n";
static const char EXPECTED_ROWS[] = "[[\"1\",\"Laptop\",2,\"123.45\"],"
                                    "[\"2\",\"Phone\",1,\"10.00\"],"
                                    "[\"3\",\"Headphones\",5,\"499.99\"]]";

/* A growable byte buffer receiving a response body (always NUL-terminated). */
struct buffer {
    char *data;
    size_t len;
};

/* One HTTP request; every pointer is borrowed. body NULL means no body; sigv4/userpwd NULL
 * means unsigned. */
struct http_request {
    const char *method;
    const char *url;
    const char *body;
    struct curl_slist *headers;
    const char *sigv4;
    const char *userpwd;
};

static void *xrealloc(void *p, size_t size)
{
    void *q = realloc(p, size);
    if (!q) {
        fprintf(stderr, "out of memory (%zu bytes)\n", size);
        abort();
    }
    return q;
}

static void set_error(char *errstr, size_t errstr_size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errstr, errstr_size, fmt, ap);
    va_end(ap);
}

static size_t buffer_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct buffer *buf = userdata;
    size_t n = size * nmemb;
    buf->data = xrealloc(buf->data, buf->len + n + 1);
    memcpy(buf->data + buf->len, ptr, n);
    buf->len += n;
    buf->data[buf->len] = '\0';
    return n;
}

static void buffer_clear(struct buffer *buf)
{
    free(buf->data);
    buf->data = NULL;
    buf->len = 0;
}

/* Performs REQ; the response body goes to RESP (cleared first), the HTTP status to *STATUS.
 * Returns 0, or -1 with errstr filled when no response was received. */
static int http_perform(const struct http_request *req, struct buffer *resp, long *status,
                        char *errstr, size_t errstr_size)
{
    CURL *curl = curl_easy_init();
    CURLcode rc = CURLE_FAILED_INIT;
    buffer_clear(resp);
    if (curl) {
        curl_easy_setopt(curl, CURLOPT_URL, req->url);
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
        curl_easy_setopt(curl, CURLOPT_HTTPHEADER, req->headers);
        curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
        curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buffer_write);
        curl_easy_setopt(curl, CURLOPT_WRITEDATA, resp);
        if (req->body) {
            curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body);
            curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(req->body));
        }
        if (req->sigv4) {
            curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, req->sigv4);
            curl_easy_setopt(curl, CURLOPT_USERPWD, req->userpwd);
        }
        rc = curl_easy_perform(curl);
        curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, status);
    }
    curl_easy_cleanup(curl);
    if (rc != CURLE_OK) {
        set_error(errstr, errstr_size, "%s %s: %s", req->method, req->url, curl_easy_strerror(rc));
        return -1;
    }
    return 0;
}

/* Sends METHOD for object KEY of the test bucket, signed with SigV4 like the S3 sink does; BODY
 * may be NULL. Returns 0 when S3 answered WANT_STATUS, else -1 with errstr filled. */
static int s3_request(const char *method, const char *key, const char *body, long want_status,
                      char *errstr, size_t errstr_size)
{
    char url[1024], sigv4[128], userpwd[512];
    struct buffer resp = {0};
    struct curl_slist *headers = NULL;
    long status = 0;
    int rc;
    snprintf(url, sizeof url, "%s/%s/%s", itest_env("SALESCDC_S3_ENDPOINT"),
             itest_env("SALESCDC_S3_BUCKET"), key);
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", itest_env("SALESCDC_S3_REGION"));
    snprintf(userpwd, sizeof userpwd, "%s:%s", itest_env("SALESCDC_S3_ACCESS_KEY"),
             itest_env("SALESCDC_S3_SECRET_KEY"));
    headers = curl_slist_append(headers, "x-amz-content-sha256: UNSIGNED-PAYLOAD");
    headers = curl_slist_append(headers, "Content-Type: application/x-ndjson");
    struct http_request req = {method, url, body, headers, sigv4, userpwd};
    rc = http_perform(&req, &resp, &status, errstr, errstr_size);
    if (rc == 0 && status != want_status) {
        set_error(errstr, errstr_size, "S3 %s %s: HTTP %ld (want %ld): %.300s", method, url, status,
                  want_status, resp.data ? resp.data : "");
        rc = -1;
    }
    buffer_clear(&resp);
    curl_slist_free_all(headers);
    return rc;
}

/* Appends the "data" rows of one Trino response PAGE to ROWS and sets *NEXT_URI (borrowed from
 * PAGE, NULL when the statement is complete). Returns -1 with Trino's error message on failure. */
static int trino_handle_page(json_t *page, json_t *rows, const char **next_uri, char *errstr,
                             size_t errstr_size)
{
    json_t *error = json_object_get(page, "error");
    json_t *data = json_object_get(page, "data");
    if (error) {
        set_error(errstr, errstr_size, "Trino: %s (%s)",
                  json_string_value(json_object_get(error, "message")),
                  json_string_value(json_object_get(error, "errorName")));
        return -1;
    }
    if (json_is_array(data))
        json_array_extend(rows, data);
    *next_uri = json_string_value(json_object_get(page, "nextUri"));
    return 0;
}

/* Fetches one page: POST of SQL when URL is the statement endpoint, else GET of a nextUri.
 * Retries 502/503/504 (Trino is busy) until DEADLINE. Returns the parsed page (caller frees
 * with json_decref()) or NULL with errstr filled. */
static json_t *trino_fetch(const char *url, const char *sql, time_t deadline, char *errstr,
                           size_t errstr_size)
{
    struct curl_slist *headers = NULL;
    struct buffer resp = {0};
    json_t *page = NULL;
    json_error_t jerr;
    long status = 0;
    headers = curl_slist_append(headers, "X-Trino-User: salescdc");
    headers = curl_slist_append(headers, "X-Trino-Source: salescdc-test-trino");
    headers = curl_slist_append(headers, "Content-Type: text/plain; charset=utf-8");
    struct http_request req = {sql ? "POST" : "GET", url, sql, headers, NULL, NULL};
    for (;;) {
        if (http_perform(&req, &resp, &status, errstr, errstr_size) != 0)
            goto cleanup;
        if ((status != 502 && status != 503 && status != 504) || time(NULL) >= deadline)
            break;
        nanosleep(&(struct timespec){.tv_nsec = 100 * 1000 * 1000}, NULL);
    }
    if (status != 200) {
        set_error(errstr, errstr_size, "Trino %s %s: HTTP %ld: %.300s", req.method, url, status,
                  resp.data ? resp.data : "");
        goto cleanup;
    }
    page = json_loadb(resp.data, resp.len, 0, &jerr);
    if (!page)
        set_error(errstr, errstr_size, "Trino %s %s: bad JSON: %s", req.method, url, jerr.text);
cleanup:
    buffer_clear(&resp);
    curl_slist_free_all(headers);
    return page;
}

/* Runs SQL through Trino's client protocol: POST /v1/statement, then GET nextUri until there is
 * none. Returns all rows (caller frees with json_decref()) or NULL with errstr filled. */
static json_t *trino_execute(const char *sql, char *errstr, size_t errstr_size)
{
    char url[1024];
    const char *next_uri = url;
    time_t deadline = time(NULL) + STATEMENT_TIMEOUT_S;
    json_t *rows = json_array();
    json_t *page = NULL;
    snprintf(url, sizeof url, "%s/v1/statement", itest_env("SALESCDC_TRINO_URL"));
    page = trino_fetch(url, sql, deadline, errstr, errstr_size);
    while (page) {
        if (trino_handle_page(page, rows, &next_uri, errstr, errstr_size) != 0)
            break;
        if (!next_uri)
            goto done;
        if (time(NULL) >= deadline) {
            set_error(errstr, errstr_size, "Trino: no result within %d s for: %.200s",
                      STATEMENT_TIMEOUT_S, sql);
            break;
        }
        json_t *next = trino_fetch(next_uri, NULL, deadline, errstr, errstr_size);
        json_decref(page);
        page = next;
    }
    json_decref(rows);
    rows = NULL;
done:
    json_decref(page);
    return rows;
}

/* Compares ROWS with EXPECTED_ROWS. Returns 0, or -1 with both printed into errstr. */
static int check_rows(json_t *rows, char *errstr, size_t errstr_size)
{
    json_t *expected = json_loads(EXPECTED_ROWS, 0, NULL);
    char *got = json_dumps(rows, JSON_COMPACT);
    int rc = json_equal(rows, expected) ? 0 : -1;
    if (rc != 0)
        set_error(errstr, errstr_size, "rows differ: got %s, want %s", got, EXPECTED_ROWS);
    free(got);
    json_decref(expected);
    return rc;
}

/* Creates the external table over PREFIX, reads it back and checks the rows; the table is
 * dropped whatever happened. Returns 0, or -1 with errstr filled. */
static int query_external_table(const char *table, const char *prefix, char *errstr,
                                size_t errstr_size)
{
    char sql[2048], drop_err[ERRSTR_SIZE];
    json_t *rows;
    int rc = -1;
    snprintf(sql, sizeof sql,
             "CREATE TABLE hive.sales.%s (orderid varchar, product_name varchar, "
             "quantity integer, price decimal(10,2)) "
             "WITH (format = 'JSON', external_location = 's3://%s/%s')",
             table, itest_env("SALESCDC_S3_BUCKET"), prefix);
    rows = trino_execute(sql, errstr, errstr_size);
    if (!rows)
        return -1;
    json_decref(rows);
    snprintf(sql, sizeof sql,
             "SELECT orderid, product_name, quantity, price FROM hive.sales.%s ORDER BY orderid",
             table);
    rows = trino_execute(sql, errstr, errstr_size);
    if (rows)
        rc = check_rows(rows, errstr, errstr_size);
    json_decref(rows);
    snprintf(sql, sizeof sql, "DROP TABLE hive.sales.%s", table);
    rows = trino_execute(sql, drop_err, sizeof drop_err);
    if (!rows && rc == 0) {
        set_error(errstr, errstr_size, "%s", drop_err);
        rc = -1;
    }
    json_decref(rows);
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
    snprintf(table, sizeof table, "itest_trino_%ld_%ld", now, id);
    snprintf(prefix, sizeof prefix, "itest/%s/", table);
    snprintf(key, sizeof key, "%sorders.json", prefix);

    rc = s3_request("PUT", key, OBJECT_BODY, 200, errstr, sizeof errstr);
    ITEST_CHECK(rc == 0, "upload of the test object: %s", errstr);
    rc = query_external_table(table, prefix, errstr, sizeof errstr);
    if (s3_request("DELETE", key, NULL, 204, cleanup_err, sizeof cleanup_err) != 0)
        fprintf(stderr, "warning: could not delete the test object: %s\n", cleanup_err);
    ITEST_CHECK(rc == 0, "Hive external table hive.sales.%s over s3://%s/%s: %s", table,
                itest_env("SALESCDC_S3_BUCKET"), prefix, errstr);

    curl_global_cleanup();
    printf("test_trino: ok (3 rows read back through hive.sales.%s)\n", table);
    return 0;
}
