/* Schema registry client over libcurl (common/http.c) and jansson. */
#include "registry_client.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "log.h"
#include "xalloc.h"

struct cached {
    char *subject, *schema;
    int32_t id;
    struct cached *next;
};

struct registry_client {
    struct registry_client_options opt;
    CURL *curl;
    struct curl_slist *headers;
    struct cached *cache;
    uint32_t random;
    long last_status; /* HTTP status of the last request; 0: the registry was not reached */
};

struct registry_client *registry_client_new(const struct registry_client_options *opt)
{
    struct registry_client *rc = xcalloc(1, sizeof *rc);
    rc->opt = *opt;
    rc->curl = curl_easy_init();
    if (!rc->curl) {
        fprintf(stderr, "fatal: curl_easy_init failed (out of memory)\n");
        abort();
    }
    rc->headers = curl_slist_append(NULL, "Content-Type: application/vnd.schemaregistry.v1+json");
    rc->headers = curl_slist_append(rc->headers, "Accept: application/vnd.schemaregistry.v1+json");
    if (opt->user && *opt->user) {
        char *plain = xasprintf("%s:%s", opt->user, opt->password ? opt->password : "");
        size_t n = strlen(plain);
        unsigned char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
        EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)n);
        char *line = xasprintf("Authorization: Basic %s", b64);
        rc->headers = curl_slist_append(rc->headers, line);
        memset(plain, 0, n);
        free(plain);
        free(b64);
        free(line);
    }
    return rc;
}

void registry_client_destroy(struct registry_client *rc)
{
    if (!rc)
        return;
    for (struct cached *c = rc->cache, *next; c; c = next) {
        next = c->next;
        free(c->subject);
        free(c->schema);
        free(c);
    }
    curl_slist_free_all(rc->headers);
    curl_easy_cleanup(rc->curl);
    free(rc);
}

/* Fills ERRSTR from an error answer: {"error_code": N, "message": "..."} or the raw status. */
static void answer_error(const char *subject, const struct http_response *resp, char *errstr,
                         size_t errstr_size)
{
    json_t *j = resp->body.data ? json_loads(resp->body.data, 0, NULL) : NULL;
    json_t *code = json_object_get(j, "error_code"), *msg = json_object_get(j, "message");
    if (json_is_integer(code))
        snprintf(errstr, errstr_size,
                 "register schema under subject %s: registry answered HTTP %ld, error_code %lld: "
                 "%s%s",
                 subject, resp->status, (long long)json_integer_value(code),
                 json_is_string(msg) ? json_string_value(msg) : "(no message)",
                 resp->status == 409 ? " (the new schema is incompatible with the subject's "
                                       "earlier versions)"
                                     : "");
    else
        snprintf(errstr, errstr_size,
                 "register schema under subject %s: registry answered HTTP %ld", subject,
                 resp->status);
    json_decref(j);
}

/* Sends one POST of BODY to URL, retrying transport failures. */
static int post(struct registry_client *rc, const char *url, const char *body,
                struct http_response *resp, char *errstr, size_t errstr_size)
{
    struct http_request req = {
        "POST", url,          rc->headers,
        body,   strlen(body), NULL,
        NULL,   5000,         rc->opt.timeout_ms > 0 ? rc->opt.timeout_ms : 10000};
    for (int attempt = 0;; attempt++) {
        if (http_perform(rc->curl, &req, resp, errstr, errstr_size) == 0)
            return 0;
        if (attempt >= rc->opt.retries || !http_transport_retryable(resp->curl_code))
            return -1;
        long wait = http_backoff_ms(attempt + 1, 200, 5000, http_random(&rc->random));
        log_warn("schema registry unreachable, retrying url=%s attempt=%d wait_ms=%ld error=\"%s\"",
                 rc->opt.url, attempt + 1, wait, errstr);
        http_sleep_ms(wait, NULL);
    }
}

static int cache_lookup(const struct registry_client *rc, const char *subject, const char *schema,
                        int32_t *id)
{
    for (const struct cached *c = rc->cache; c; c = c->next) {
        if (strcmp(c->subject, subject) == 0 && strcmp(c->schema, schema) == 0) {
            *id = c->id;
            return 1;
        }
    }
    return 0;
}

/* The id in a 200 answer {"id": N}; returns 0 or -1 with errstr. */
static int answer_id(const char *subject, const struct http_response *resp, int32_t *id,
                     char *errstr, size_t errstr_size)
{
    json_t *j = resp->body.data ? json_loads(resp->body.data, 0, NULL) : NULL;
    json_t *v = json_object_get(j, "id");
    int rc = json_is_integer(v) && json_integer_value(v) >= 0 ? 0 : -1;
    if (rc == 0)
        *id = (int32_t)json_integer_value(v);
    else
        snprintf(errstr, errstr_size,
                 "register schema under subject %s: the registry's answer has no id: %.100s",
                 subject, resp->body.data ? resp->body.data : "(empty)");
    json_decref(j);
    return rc;
}

int registry_client_register(struct registry_client *rc, const char *subject, const char *schema,
                             int32_t *id, char *errstr, size_t errstr_size)
{
    char err[512];
    struct http_response resp = {0};
    if (cache_lookup(rc, subject, schema, id))
        return 0;
    char *escaped = curl_easy_escape(rc->curl, subject, 0);
    size_t n = strlen(rc->opt.url);
    char *url = xasprintf("%.*s/subjects/%s/versions",
                          (int)(n && rc->opt.url[n - 1] == '/' ? n - 1 : n), rc->opt.url, escaped);
    json_t *req = json_pack("{s:s}", "schema", schema);
    char *body = json_dumps(req, JSON_COMPACT);
    int result = -1;
    int posted = post(rc, url, body, &resp, err, sizeof err);
    rc->last_status = posted < 0 ? 0 : resp.status;
    if (posted < 0)
        snprintf(errstr, errstr_size,
                 "register schema under subject %s: schema registry at %s unreachable: %s", subject,
                 rc->opt.url, err);
    else if (resp.status != 200)
        answer_error(subject, &resp, errstr, errstr_size);
    else
        result = answer_id(subject, &resp, id, errstr, errstr_size);
    if (result == 0) {
        struct cached *c = xcalloc(1, sizeof *c);
        *c = (struct cached){xstrdup(subject), xstrdup(schema), *id, rc->cache};
        rc->cache = c;
        log_info("schema registered subject=%s id=%d", subject, (int)*id);
    }
    http_response_release(&resp);
    free(body);
    json_decref(req);
    free(url);
    curl_free(escaped);
    return result;
}

long registry_client_last_status(const struct registry_client *rc)
{
    return rc->last_status;
}
