/* A client of Trino's HTTP statement protocol (POST /v1/statement, then GET nextUri until there
 * is none) on libcurl: columns and rows as jansson arrays, Trino's errors named, bounded waits,
 * and retries while Trino is starting, restarting or busy. */
#ifndef SALESCDC_TRINO_CLIENT_H
#define SALESCDC_TRINO_CLIENT_H

#include <jansson.h>
#include <signal.h>
#include <stddef.h>

/* Results of trino_execute(); errstr says more. */
enum trino_status {
    TRINO_OK = 0,
    TRINO_ERR_INVALID,     /* bad configuration or argument; nothing was sent */
    TRINO_ERR_QUERY,       /* Trino ran or parsed the statement and failed it (see error_name) */
    TRINO_ERR_UNAVAILABLE, /* Trino unreachable or busy (502/503/504) after every retry, or it
                              lost the statement (restarted while it ran) */
    TRINO_ERR_TIMEOUT,     /* no final answer within the statement timeout (query cancelled) */
    TRINO_ERR_PROTOCOL,    /* an answer we cannot understand (not JSON, unexpected status) */
    TRINO_ERR_STOPPED,     /* the stop flag was raised while waiting */
};

/* Connection settings. Strings are copied by trino_client_new(). */
struct trino_config {
    const char *url;           /* coordinator, e.g. "http://127.0.0.1:58080" */
    const char *user;          /* X-Trino-User (required) */
    const char *source;        /* X-Trino-Source; NULL: "salescdc" */
    const char *catalog;       /* X-Trino-Catalog, or NULL */
    const char *schema;        /* X-Trino-Schema, or NULL */
    long connect_timeout_ms;   /* 0: 5000 */
    long request_timeout_ms;   /* one HTTP request (Trino long-polls ~1 s); 0: 30000 */
    long statement_timeout_ms; /* one statement, all requests and waits together; 0: 300000 */
    int max_attempts;          /* tries of one request while Trino is unreachable/busy; 0: 10 */
    long backoff_initial_ms;   /* wait before the first retry, doubled each time; 0: 100 */
    long backoff_max_ms;       /* cap of one wait; 0: 5000 */
    /* Optional flag (e.g. set by a SIGTERM handler): when non-zero, waiting stops. */
    const volatile sig_atomic_t *stop;
};

/* The outcome of one statement. Zero-initialise before first use; release with
 * trino_result_release(). */
struct trino_result {
    json_t *columns; /* [{"name": "orderid", "type": "varchar"}, …], or NULL (no columns) */
    json_t *rows;    /* [[value, …], …] in Trino's JSON encoding (decimals as strings) */
    char query_id[96];
    char update_type[64];   /* "CREATE TABLE", "INSERT", … or "" for a query */
    long long update_count; /* rows inserted/deleted when Trino says, else -1 */
    char error_name[64];    /* on TRINO_ERR_QUERY: "SYNTAX_ERROR", "TABLE_ALREADY_EXISTS", … */
    char error_type[32];    /* on TRINO_ERR_QUERY: "USER_ERROR", "INTERNAL_ERROR", … */
};

struct trino_client;

/* Validates CFG (url and user required) and creates a client; one client serves one thread at
 * a time and keeps its connection alive (call curl_global_init() once in main() before creating
 * clients on several threads). Session changes (USE, SET SESSION: X-Trino-Set-* answers) are not
 * carried to later statements: qualify names or configure catalog and schema. Returns the client
 * (caller frees with trino_client_destroy()) or NULL with errstr naming the setting. */
struct trino_client *trino_client_new(const struct trino_config *cfg, char *errstr,
                                      size_t errstr_size);

/* Frees the client. NULL is a no-op. */
void trino_client_destroy(struct trino_client *c);

/* Runs one SQL statement to completion and collects its columns and rows into OUT (previous
 * content released). While Trino cannot be reached, answers 502/503/504/429, or says it is still
 * starting (SERVER_STARTING_UP, NO_NODES_AVAILABLE, before anything ran), the request or the
 * statement is retried with backoff, bounded by max_attempts and the statement timeout. A
 * statement lost mid-way (Trino restarted) is not re-run, since it may not be idempotent: the
 * result is TRINO_ERR_UNAVAILABLE and the caller decides. Returns a trino_status; errstr names
 * the statement, and Trino's errorName and message for TRINO_ERR_QUERY. */
int trino_execute(struct trino_client *c, const char *sql, struct trino_result *out, char *errstr,
                  size_t errstr_size);

/* Applies one response document (LEN bytes of JSON at TEXT) to R: query id, columns (from the
 * first page that has them), data rows appended, update type and count. *NEXT_URI receives the
 * nextUri (caller frees with free()) or NULL when the statement is complete. Returns TRINO_OK,
 * TRINO_ERR_QUERY with "<errorName>: <message>" in errstr and R's error fields set, or
 * TRINO_ERR_PROTOCOL when TEXT is not a statement response. */
int trino_page_apply(struct trino_result *r, const char *text, size_t len, char **next_uri,
                     char *errstr, size_t errstr_size);

/* Frees R's arrays and resets it for reuse. */
void trino_result_release(struct trino_result *r);

#endif
