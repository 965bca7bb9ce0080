/* A client of Trino's HTTP statement protocol on libcurl. */
#include "trino_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"
#include "xalloc.h"

enum {
    DEFAULT_CONNECT_TIMEOUT_MS = 5000,
    DEFAULT_REQUEST_TIMEOUT_MS = 30000,
    DEFAULT_STATEMENT_TIMEOUT_MS = 300000,
    DEFAULT_MAX_ATTEMPTS = 10,
    DEFAULT_BACKOFF_INITIAL_MS = 100,
    DEFAULT_BACKOFF_MAX_MS = 5000,
    CAUSE_SIZE = 512,
    SQL_SHOWN = 120, /* characters of a statement quoted in errors */
};

struct trino_client {
    char *statement_url; /* <url>/v1/statement */
    struct curl_slist *headers;
    long connect_timeout_ms;
    long request_timeout_ms;
    long statement_timeout_ms;
    int max_attempts;
    long backoff_initial_ms;
    long backoff_max_ms;
    const volatile sig_atomic_t *stop;
    CURL *curl;
    uint32_t rng;
};

/* One statement under way. */
struct statement {
    const char *sql;
    double deadline; /* monotonic seconds */
    int attempt;     /* of the whole statement (SERVER_STARTING_UP) */
};

static long or_default(long v, long def)
{
    return v > 0 ? v : def;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value)
{
    char *line = xasprintf("%s: %s", name, value);
    struct curl_slist *next = curl_slist_append(list, line);
    free(line);
    if (!next) {
        fprintf(stderr, "fatal: out of memory building Trino request headers\n");
        abort();
    }
    return next;
}

struct trino_client *trino_client_new(const struct trino_config *cfg, char *errstr,
                                      size_t errstr_size)
{
    if (!cfg->url || (strncmp(cfg->url, "http://", 7) != 0 && strncmp(cfg->url, "https://", 8))) {
        snprintf(errstr, errstr_size,
                 "Trino client configuration: url (an http:// or https:// "
                 "URL) is missing or invalid");
        return NULL;
    }
    if (!cfg->user || !*cfg->user) {
        snprintf(errstr, errstr_size, "Trino client configuration: user is missing");
        return NULL;
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(errstr, errstr_size, "Trino client for %s: curl_easy_init failed", cfg->url);
        return NULL;
    }
    struct trino_client *c = xcalloc(1, sizeof *c);
    size_t n = strlen(cfg->url);
    while (n > 0 && cfg->url[n - 1] == '/')
        n--;
    c->statement_url = xasprintf("%.*s/v1/statement", (int)n, cfg->url);
    c->headers = add_header(NULL, "X-Trino-User", cfg->user);
    c->headers = add_header(c->headers, "X-Trino-Source", cfg->source ? cfg->source : "salescdc");
    if (cfg->catalog && *cfg->catalog)
        c->headers = add_header(c->headers, "X-Trino-Catalog", cfg->catalog);
    if (cfg->schema && *cfg->schema)
        c->headers = add_header(c->headers, "X-Trino-Schema", cfg->schema);
    c->headers = add_header(c->headers, "Content-Type", "text/plain; charset=utf-8");
    c->connect_timeout_ms = or_default(cfg->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
    c->request_timeout_ms = or_default(cfg->request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS);
    c->statement_timeout_ms = or_default(cfg->statement_timeout_ms, DEFAULT_STATEMENT_TIMEOUT_MS);
    c->max_attempts = (int)or_default(cfg->max_attempts, DEFAULT_MAX_ATTEMPTS);
    c->backoff_initial_ms = or_default(cfg->backoff_initial_ms, DEFAULT_BACKOFF_INITIAL_MS);
    c->backoff_max_ms = or_default(cfg->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
    c->stop = cfg->stop;
    c->curl = curl;
    return c;
}

void trino_client_destroy(struct trino_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    curl_slist_free_all(c->headers);
    free(c->statement_url);
    free(c);
}

void trino_result_release(struct trino_result *r)
{
    json_decref(r->columns);
    json_decref(r->rows);
    memset(r, 0, sizeof *r);
    r->update_count = -1;
}

static void copy_string(json_t *obj, const char *key, char *out, size_t out_size)
{
    const char *v = json_string_value(json_object_get(obj, key));
    if (v)
        snprintf(out, out_size, "%s", v);
}

/* Keeps name and type of each entry of COLUMNS (Trino also sends typeSignature). */
static json_t *column_list(json_t *columns)
{
    json_t *out = json_array(), *col;
    size_t i;
    json_array_foreach(columns, i, col)
    {
        json_t *name = json_object_get(col, "name"), *type = json_object_get(col, "type");
        json_array_append_new(out, json_pack("{s:O?,s:O?}", "name", name, "type", type));
    }
    return out;
}

/* Fills R's error fields and errstr from Trino's "error" object. */
static int query_error(struct trino_result *r, json_t *error, char *errstr, size_t errstr_size)
{
    const char *message = json_string_value(json_object_get(error, "message"));
    copy_string(error, "errorName", r->error_name, sizeof r->error_name);
    copy_string(error, "errorType", r->error_type, sizeof r->error_type);
    snprintf(errstr, errstr_size, "%s: %s", r->error_name[0] ? r->error_name : "UNKNOWN_ERROR",
             message ? message : "(no message)");
    return TRINO_ERR_QUERY;
}

int trino_page_apply(struct trino_result *r, const char *text, size_t len, char **next_uri,
                     char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *page = json_loadb(text ? text : "", len, 0, &jerr);
    int rc = TRINO_OK;
    *next_uri = NULL;
    if (!json_is_object(page) || !json_is_string(json_object_get(page, "id"))) {
        snprintf(errstr, errstr_size, "not a statement response (%s): %.200s",
                 page ? "no query id" : jerr.text, text ? text : "");
        json_decref(page);
        return TRINO_ERR_PROTOCOL;
    }
    copy_string(page, "id", r->query_id, sizeof r->query_id);
    copy_string(page, "updateType", r->update_type, sizeof r->update_type);
    if (json_is_integer(json_object_get(page, "updateCount")))
        r->update_count = json_integer_value(json_object_get(page, "updateCount"));
    if (!r->columns && json_is_array(json_object_get(page, "columns")))
        r->columns = column_list(json_object_get(page, "columns"));
    if (!r->rows)
        r->rows = json_array();
    if (json_is_array(json_object_get(page, "data")))
        json_array_extend(r->rows, json_object_get(page, "data"));
    if (json_is_object(json_object_get(page, "error")))
        rc = query_error(r, json_object_get(page, "error"), errstr, errstr_size);
    else if (json_is_string(json_object_get(page, "nextUri")))
        *next_uri = xstrdup(json_string_value(json_object_get(page, "nextUri")));
    json_decref(page);
    return rc;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Whether a failed attempt of a request may be repeated. A POST is repeated only when Trino
 * certainly did not take the statement (no connection, or 502/503/504/429 answered); a GET of a
 * nextUri may always be repeated, as the protocol makes it idempotent. */
static int retryable(int is_post, int perform_rc, const struct http_response *resp)
{
    if (perform_rc != 0)
        return is_post ? http_transport_not_sent(resp->curl_code)
                       : http_transport_retryable(resp->curl_code);
    return resp->status == 502 || resp->status == 503 || resp->status == 504 || resp->status == 429;
}

/* Waits before retry ATTEMPT unless the deadline would pass. Returns 0, or TRINO_ERR_TIMEOUT /
 * TRINO_ERR_STOPPED. */
static int backoff(struct trino_client *c, const struct statement *st, int attempt)
{
    long delay =
        http_backoff_ms(attempt, c->backoff_initial_ms, c->backoff_max_ms, http_random(&c->rng));
    if (now_s() + (double)delay / 1000.0 >= st->deadline)
        return TRINO_ERR_TIMEOUT;
    return http_sleep_ms(delay, c->stop) == 0 ? TRINO_OK : TRINO_ERR_STOPPED;
}

/* Describes why a request's last attempt failed and returns the matching status. */
static int request_failed(const struct http_request *req, int perform_rc,
                          const struct http_response *resp, const char *cause, int attempts,
                          char *errstr, size_t errstr_size)
{
    char tries[48] = "";
    if (attempts > 1)
        snprintf(tries, sizeof tries, " (after %d attempts)", attempts);
    snprintf(errstr, errstr_size, "%s %.150s: %.300s%s", req->method, req->url, cause, tries);
    if (perform_rc != 0 || retryable(0, 0, resp))
        return TRINO_ERR_UNAVAILABLE;
    /* A nextUri Trino no longer knows: it restarted (or expired the query) mid-statement. */
    if (strcmp(req->method, "GET") == 0 && (resp->status == 404 || resp->status == 410)) {
        snprintf(errstr, errstr_size, "%s %.150s: HTTP %ld: Trino lost the statement (restarted?)",
                 req->method, req->url, resp->status);
        return TRINO_ERR_UNAVAILABLE;
    }
    return TRINO_ERR_PROTOCOL;
}

/* Sends one request of ST: the POST of its SQL when NEXT_URI is NULL, else a GET of NEXT_URI,
 * repeated while retryable() allows. Returns TRINO_OK with a 200 answer in RESP, or a status with
 * the cause in errstr. */
static int fetch(struct trino_client *c, const struct statement *st, const char *next_uri,
                 struct http_response *resp, char *errstr, size_t errstr_size)
{
    int is_post = next_uri == NULL;
    char cause[CAUSE_SIZE];
    struct http_request req = {.method = is_post ? "POST" : "GET",
                               .url = is_post ? c->statement_url : next_uri,
                               .headers = c->headers,
                               .body = is_post ? st->sql : NULL,
                               .body_len = is_post ? strlen(st->sql) : 0,
                               .connect_timeout_ms = c->connect_timeout_ms};
    for (int attempt = 1;; attempt++) {
        long left_ms = (long)((st->deadline - now_s()) * 1000.0);
        req.timeout_ms = left_ms < c->request_timeout_ms ? left_ms : c->request_timeout_ms;
        req.timeout_ms = req.timeout_ms < 1000 ? 1000 : req.timeout_ms;
        int perform_rc = http_perform(c->curl, &req, resp, cause, sizeof cause);
        if (perform_rc == 0 && resp->status == 200)
            return TRINO_OK;
        if (perform_rc == 0)
            snprintf(cause, sizeof cause, "HTTP %ld: %.300s", resp->status,
                     resp->body.data ? resp->body.data : "");
        if (!retryable(is_post, perform_rc, resp) || attempt >= c->max_attempts)
            return request_failed(&req, perform_rc, resp, cause, attempt, errstr, errstr_size);
        log_warn("trino: %s %s: attempt %d of %d failed (%s); retrying", req.method, req.url,
                 attempt, c->max_attempts, cause);
        int rc = backoff(c, st, attempt);
        if (rc != TRINO_OK) {
            snprintf(errstr, errstr_size, "%s %.150s: %s while retrying after: %.250s", req.method,
                     req.url, rc == TRINO_ERR_STOPPED ? "stopped" : "statement timeout reached",
                     cause);
            return rc;
        }
    }
}

/* Asks Trino to cancel the query behind NEXT_URI (best effort: the answer is not awaited long). */
static void cancel(struct trino_client *c, const char *next_uri)
{
    char cause[CAUSE_SIZE];
    struct http_response resp = {0};
    struct http_request req = {.method = "DELETE",
                               .url = next_uri,
                               .headers = c->headers,
                               .connect_timeout_ms = 2000,
                               .timeout_ms = 5000};
    if (http_perform(c->curl, &req, &resp, cause, sizeof cause) != 0)
        log_warn("trino: could not cancel %s: %s", next_uri, cause);
    http_response_release(&resp);
}

/* Follows ST from its POST through every nextUri, collecting into OUT. */
static int run_once(struct trino_client *c, const struct statement *st, struct trino_result *out,
                    char *errstr, size_t errstr_size)
{
    struct http_response resp = {0};
    char *next = NULL;
    int rc = fetch(c, st, NULL, &resp, errstr, errstr_size);
    while (rc == TRINO_OK) {
        free(next);
        rc = trino_page_apply(out, resp.body.data, resp.body.len, &next, errstr, errstr_size);
        if (rc != TRINO_OK || !next)
            break;
        if (now_s() >= st->deadline || (c->stop && *c->stop)) {
            rc = now_s() >= st->deadline ? TRINO_ERR_TIMEOUT : TRINO_ERR_STOPPED;
            snprintf(errstr, errstr_size, "%s before query %s finished; cancelled",
                     rc == TRINO_ERR_TIMEOUT ? "statement timeout reached" : "stopped",
                     out->query_id);
            break;
        }
        rc = fetch(c, st, next, &resp, errstr, errstr_size);
    }
    /* Abandoned queries are cancelled; one Trino failed or lost needs no cancelling. */
    if (next && (rc == TRINO_ERR_TIMEOUT || rc == TRINO_ERR_STOPPED || rc == TRINO_ERR_PROTOCOL))
        cancel(c, next);
    free(next);
    http_response_release(&resp);
    return rc;
}

/* Errors Trino gives before it has run anything, while it is still starting. */
static int starting_up(const struct trino_result *r)
{
    return strcmp(r->error_name, "SERVER_STARTING_UP") == 0 ||
           strcmp(r->error_name, "NO_NODES_AVAILABLE") == 0;
}

int trino_execute(struct trino_client *c, const char *sql, struct trino_result *out, char *errstr,
                  size_t errstr_size)
{
    char cause[CAUSE_SIZE] = "";
    struct statement st = {sql, now_s() + (double)c->statement_timeout_ms / 1000.0, 0};
    int rc;
    if (!sql || !*sql) {
        snprintf(errstr, errstr_size, "Trino statement: empty SQL");
        return TRINO_ERR_INVALID;
    }
    for (st.attempt = 1;; st.attempt++) {
        trino_result_release(out);
        rc = run_once(c, &st, out, cause, sizeof cause);
        if (rc != TRINO_ERR_QUERY || !starting_up(out) || st.attempt >= c->max_attempts)
            break;
        log_warn("trino: statement attempt %d of %d failed (%s); retrying", st.attempt,
                 c->max_attempts, cause);
        int wait_rc = backoff(c, &st, st.attempt);
        if (wait_rc != TRINO_OK) {
            rc = wait_rc;
            break;
        }
    }
    if (rc != TRINO_OK)
        snprintf(errstr, errstr_size, "Trino statement \"%.*s%s\": %s", SQL_SHOWN, sql,
                 strlen(sql) > SQL_SHOWN ? "…" : "", cause);
    return rc;
}
