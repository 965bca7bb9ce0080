/* The S3 client: configuration, signed requests with retries, and single-object operations. */
#include "s3_client.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "s3_internal.h"
#include "xalloc.h"

enum {
    DEFAULT_CONNECT_TIMEOUT_MS = 5000,
    DEFAULT_REQUEST_TIMEOUT_MS = 120000,
    DEFAULT_MAX_ATTEMPTS = 5,
    DEFAULT_BACKOFF_INITIAL_MS = 200,
    DEFAULT_BACKOFF_MAX_MS = 10000,
    MAX_EXTRA_HEADERS = 8,
    CAUSE_SIZE = 512,
};

static const char *first_set(const char *a, const char *b)
{
    return a && *a ? a : b;
}

void s3_config_from_env(struct s3_config *cfg, char *endpoint_buf, size_t endpoint_size)
{
    if (!cfg->access_key || !*cfg->access_key)
        cfg->access_key = getenv("AWS_ACCESS_KEY_ID");
    if (!cfg->secret_key || !*cfg->secret_key)
        cfg->secret_key = getenv("AWS_SECRET_ACCESS_KEY");
    if (!cfg->session_token || !*cfg->session_token)
        cfg->session_token = getenv("AWS_SESSION_TOKEN");
    if (!cfg->region || !*cfg->region)
        cfg->region = first_set(getenv("AWS_REGION"), getenv("AWS_DEFAULT_REGION"));
    if (!cfg->region || !*cfg->region)
        cfg->region = "us-east-1";
    if (!cfg->endpoint || !*cfg->endpoint)
        cfg->endpoint = first_set(getenv("AWS_ENDPOINT_URL_S3"), getenv("AWS_ENDPOINT_URL"));
    if ((!cfg->endpoint || !*cfg->endpoint) && endpoint_size > 0) {
        snprintf(endpoint_buf, endpoint_size, "https://s3.%s.amazonaws.com", cfg->region);
        cfg->endpoint = endpoint_buf;
    }
}

/* Names the first required setting that is missing or malformed, or returns NULL. */
static const char *config_problem(const struct s3_config *cfg)
{
    if (!cfg->endpoint ||
        (strncmp(cfg->endpoint, "http://", 7) != 0 && strncmp(cfg->endpoint, "https://", 8) != 0))
        return "endpoint (an http:// or https:// URL)";
    if (!cfg->region || !*cfg->region)
        return "region";
    if (!cfg->bucket || !*cfg->bucket || strchr(cfg->bucket, '/'))
        return "bucket (a bucket name without '/')";
    if (!cfg->access_key || !*cfg->access_key || strchr(cfg->access_key, ':'))
        return "access key (non-empty, without ':')";
    if (!cfg->secret_key || !*cfg->secret_key)
        return "secret key";
    return NULL;
}

static long or_default(long v, long def)
{
    return v > 0 ? v : def;
}

struct s3_client *s3_client_new(const struct s3_config *cfg, char *errstr, size_t errstr_size)
{
    const char *problem = config_problem(cfg);
    if (problem) {
        snprintf(errstr, errstr_size, "S3 client configuration: %s is missing or invalid", problem);
        return NULL;
    }
    CURL *curl = curl_easy_init();
    if (!curl) {
        snprintf(errstr, errstr_size, "S3 client for %s: curl_easy_init failed", cfg->endpoint);
        return NULL;
    }
    struct s3_client *c = xcalloc(1, sizeof *c);
    c->curl = curl;
    c->endpoint = xstrdup(cfg->endpoint);
    c->bucket = xstrdup(cfg->bucket);
    c->userpwd = xasprintf("%s:%s", cfg->access_key, cfg->secret_key);
    c->secret_key = xstrdup(cfg->secret_key);
    if (cfg->session_token && *cfg->session_token)
        c->token_header = xasprintf("x-amz-security-token: %s", cfg->session_token);
    c->sigv4 = xasprintf("aws:amz:%s:s3", cfg->region);
    c->virtual_host = cfg->virtual_host;
    c->connect_timeout_ms = or_default(cfg->connect_timeout_ms, DEFAULT_CONNECT_TIMEOUT_MS);
    c->request_timeout_ms = or_default(cfg->request_timeout_ms, DEFAULT_REQUEST_TIMEOUT_MS);
    c->max_attempts = (int)or_default(cfg->max_attempts, DEFAULT_MAX_ATTEMPTS);
    c->backoff_initial_ms = or_default(cfg->backoff_initial_ms, DEFAULT_BACKOFF_INITIAL_MS);
    c->backoff_max_ms = or_default(cfg->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
    c->skip_etag_check = cfg->skip_etag_check;
    c->stop = cfg->stop;
    return c;
}

static void free_secret(char *s)
{
    if (s) {
        explicit_bzero(s, strlen(s));
        free(s);
    }
}

void s3_client_destroy(struct s3_client *c)
{
    if (!c)
        return;
    curl_easy_cleanup(c->curl);
    free(c->endpoint);
    free(c->bucket);
    free_secret(c->userpwd);
    free_secret(c->secret_key);
    free_secret(c->token_header);
    free(c->sigv4);
    free(c);
}

const char *s3_client_bucket(const struct s3_client *c)
{
    return c->bucket;
}

/* Overwrites every occurrence of SECRET in S with '*' (defence in depth: a server or libcurl
 * could echo a credential into text we put in an error). */
static void scrub(char *s, const char *secret)
{
    size_t n = secret ? strlen(secret) : 0;
    if (n < 4)
        return;
    for (char *p = strstr(s, secret); p; p = strstr(p + n, secret))
        memset(p, '*', n);
}

static void scrub_secrets(const struct s3_client *c, char *text)
{
    scrub(text, c->secret_key);
    scrub(text, c->token_header ? strchr(c->token_header, ' ') + 1 : NULL);
}

int s3_fail(const struct s3_client *c, int result, const char *op, const char *key, char *errstr,
            size_t errstr_size, const char *fmt, ...)
{
    if (errstr_size == 0)
        return result;
    int n = snprintf(errstr, errstr_size, "%s s3://%s/%s: ", op, c->bucket, key ? key : "");
    if (n >= 0 && (size_t)n < errstr_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errstr + n, errstr_size - (size_t)n, fmt, ap);
        va_end(ap);
    }
    scrub_secrets(c, errstr);
    return result;
}

/* A short name for an error status that came without an S3 error document (HEAD answers). */
static const char *status_name(long status)
{
    switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return "HTTPError";
    }
}

static int result_for_status(long status)
{
    if (status == 404)
        return S3_ERR_NOT_FOUND;
    if (status == 401 || status == 403)
        return S3_ERR_DENIED;
    return S3_ERR_HTTP;
}

/* Builds the header list of CALL: payload hash, session token, then the call's own headers. */
static struct curl_slist *call_headers(const struct s3_client *c, const struct s3_call *call)
{
    char sha[S3_SHA256_HEX_SIZE], line[32 + S3_SHA256_HEX_SIZE];
    struct curl_slist *list = NULL;
    s3_sha256_hex(call->body, call->body ? call->body_len : 0, sha);
    snprintf(line, sizeof line, "x-amz-content-sha256: %s", sha);
    list = curl_slist_append(list, line);
    if (c->token_header)
        list = curl_slist_append(list, c->token_header);
    for (int i = 0; call->headers && call->headers[i] && i < MAX_EXTRA_HEADERS; i++)
        list = curl_slist_append(list, call->headers[i]);
    if (!list) {
        fprintf(stderr, "fatal: out of memory building S3 request headers\n");
        abort();
    }
    return list;
}

/* Judges one attempt: returns 1 when it succeeded; else 0 with CALL->err and CAUSE describing
 * the failure and *RETRY the verdict. PERFORM_RC is http_perform()'s result. */
static int judge_attempt(struct s3_call *call, const struct http_response *resp, int perform_rc,
                         char *cause, size_t cause_size, enum s3_retry *retry)
{
    struct s3_error_detail *err = &call->err;
    if (perform_rc != 0) {
        err->code[0] = err->message[0] = '\0';
        *retry = s3_retry_decide(http_transport_retryable(resp->curl_code), 0, "");
        return 0;
    }
    int has_error = s3_error_parse(resp->body.data, resp->body.len, err);
    if (resp->status >= 200 && resp->status < 300 && !(call->error_in_200 && has_error))
        return 1;
    if (!err->code[0] &&
        !http_response_header(resp, "x-minio-error-code", err->code, sizeof err->code))
        snprintf(err->code, sizeof err->code, "%s", status_name(resp->status));
    snprintf(cause, cause_size, "%ld %s%s%s", resp->status, err->code, err->message[0] ? ": " : "",
             err->message);
    *retry = s3_retry_decide(0, resp->status, err->code);
    return 0;
}

/* Turns the last failed attempt into the result and errstr. */
static int call_failed(const struct s3_client *c, const struct s3_call *call,
                       const struct http_response *resp, const char *cause, char *errstr,
                       size_t errstr_size)
{
    char tries[48] = "";
    if (call->attempts > 1)
        snprintf(tries, sizeof tries, " (after %d attempts)", call->attempts);
    if (resp->status == 0)
        return s3_fail(c, S3_ERR_TRANSPORT, call->op, call->shown_key, errstr, errstr_size,
                       "no answer from %s%s: %s", c->endpoint, tries, cause);
    int result =
        resp->status >= 200 && resp->status < 300 ? S3_ERR_HTTP : result_for_status(resp->status);
    return s3_fail(c, result, call->op, call->shown_key, errstr, errstr_size, "%s%s", cause, tries);
}

int s3_call_perform(struct s3_client *c, struct s3_call *call, struct http_response *resp,
                    char *errstr, size_t errstr_size)
{
    struct strbuf url = STRBUF_INIT;
    struct curl_slist *headers = call_headers(c, call);
    char cause[CAUSE_SIZE] = "";
    int rc = S3_OK;

    call->op = call->op ? call->op : call->method;
    call->shown_key = call->shown_key ? call->shown_key : call->key;
    s3_url_build(&url, c->endpoint, c->bucket, c->virtual_host, call->key, call->query);
    struct http_request req = {.method = call->method,
                               .url = url.data,
                               .headers = headers,
                               .body = call->body,
                               .body_len = call->body_len,
                               .aws_sigv4 = c->sigv4,
                               .userpwd = c->userpwd,
                               .connect_timeout_ms = c->connect_timeout_ms,
                               .timeout_ms = c->request_timeout_ms};
    for (call->attempts = 1;; call->attempts++) {
        enum s3_retry retry = S3_RETRY_NO;
        int perform_rc = http_perform(c->curl, &req, resp, cause, sizeof cause);
        if (judge_attempt(call, resp, perform_rc, cause, sizeof cause, &retry))
            break;
        if (retry == S3_RETRY_NO || call->attempts >= c->max_attempts) {
            rc = call_failed(c, call, resp, cause, errstr, errstr_size);
            break;
        }
        scrub_secrets(c, cause);
        long delay = http_backoff_ms(call->attempts, c->backoff_initial_ms, c->backoff_max_ms,
                                     http_random(&c->rng));
        log_warn("s3: %s s3://%s/%s: attempt %d of %d failed (%s); retrying in %ld ms", call->op,
                 c->bucket, call->shown_key ? call->shown_key : "", call->attempts, c->max_attempts,
                 cause, delay);
        if (http_sleep_ms(delay, c->stop) != 0) {
            rc = s3_fail(c, S3_ERR_STOPPED, call->op, call->shown_key, errstr, errstr_size,
                         "stopped while waiting to retry after: %s", cause);
            break;
        }
    }
    curl_slist_free_all(headers);
    strbuf_release(&url);
    return rc;
}

void s3_info_from_headers(const struct http_response *resp, struct s3_object_info *info)
{
    char value[S3_ETAG_SIZE + 8];
    memset(info, 0, sizeof *info);
    if (http_response_header(resp, "Content-Length", value, sizeof value))
        info->size = strtoull(value, NULL, 10);
    if (http_response_header(resp, "ETag", value, sizeof value))
        s3_etag_normalize(value, info->etag);
    http_response_header(resp, "Last-Modified", info->last_modified, sizeof info->last_modified);
    http_response_header(resp, "Content-Type", info->content_type, sizeof info->content_type);
}

int s3_put_object(struct s3_client *c, const char *key, const void *data, size_t len,
                  const char *content_type, struct s3_object_info *info, char *errstr,
                  size_t errstr_size)
{
    unsigned char md5[S3_MD5_SIZE];
    char md5_b64[S3_MD5_BASE64_SIZE], md5_hex[2 * S3_MD5_SIZE + 1], md5_header[64],
        etag[S3_ETAG_SIZE];
    struct http_response resp = {0};

    if (!key || !*key)
        return s3_fail(c, S3_ERR_INVALID, "PUT", key, errstr, errstr_size, "empty object key");
    s3_md5(data, len, md5);
    s3_md5_base64(md5, md5_b64);
    s3_hex(md5, sizeof md5, md5_hex);
    snprintf(md5_header, sizeof md5_header, "Content-MD5: %s", md5_b64);
    char *type_header =
        xasprintf("Content-Type: %s", content_type ? content_type : "application/octet-stream");
    const char *headers[] = {type_header, md5_header, NULL};
    struct s3_call call = {
        .method = "PUT", .key = key, .body = data, .body_len = len, .headers = headers};
    int rc = s3_call_perform(c, &call, &resp, errstr, errstr_size);
    if (rc == S3_OK) {
        http_response_header(&resp, "ETag", etag, sizeof etag);
        s3_etag_normalize(etag, etag);
        if (!c->skip_etag_check && strcmp(etag, md5_hex) != 0)
            rc = s3_fail(c, S3_ERR_INTEGRITY, "PUT", key, errstr, errstr_size,
                         "stored object's ETag \"%s\" is not the MD5 %s of the %zu bytes sent",
                         etag, md5_hex, len);
        if (info) {
            memset(info, 0, sizeof *info);
            info->size = len;
            snprintf(info->etag, sizeof info->etag, "%s", etag);
        }
    }
    free(type_header);
    http_response_release(&resp);
    return rc;
}

/* Keeps only RANGE of OUT when a server ignored the Range header and sent the whole object. */
static void apply_ignored_range(struct strbuf *out, const struct s3_range *range)
{
    uint64_t start = range->offset < out->len ? range->offset : out->len;
    uint64_t n = out->len - start;
    if (range->length && range->length < n)
        n = range->length;
    memmove(out->data, out->data + start, (size_t)n);
    out->len = (size_t)n;
    if (out->data)
        out->data[n] = '\0';
}

int s3_get_object(struct s3_client *c, const char *key, const struct s3_range *range,
                  struct strbuf *out, struct s3_object_info *info, char *errstr, size_t errstr_size)
{
    char range_header[80];
    const char *headers[] = {range_header, NULL};
    struct http_response resp = {0};

    if (range && range->length)
        snprintf(range_header, sizeof range_header, "Range: bytes=%" PRIu64 "-%" PRIu64,
                 range->offset, range->offset + range->length - 1);
    else if (range)
        snprintf(range_header, sizeof range_header, "Range: bytes=%" PRIu64 "-", range->offset);
    struct s3_call call = {.method = "GET", .key = key, .headers = range ? headers : NULL};
    int rc = s3_call_perform(c, &call, &resp, errstr, errstr_size);
    if (rc == S3_OK) {
        if (info)
            s3_info_from_headers(&resp, info);
        strbuf_release(out);
        *out = resp.body;
        resp.body = (struct strbuf)STRBUF_INIT;
        if (range && resp.status == 200)
            apply_ignored_range(out, range);
        if (info)
            info->size = out->len;
    }
    http_response_release(&resp);
    return rc;
}

int s3_head_object(struct s3_client *c, const char *key, struct s3_object_info *info, char *errstr,
                   size_t errstr_size)
{
    struct http_response resp = {0};
    struct s3_call call = {.method = "HEAD", .key = key};
    int rc = s3_call_perform(c, &call, &resp, errstr, errstr_size);
    if (rc == S3_OK)
        s3_info_from_headers(&resp, info);
    http_response_release(&resp);
    return rc;
}

int s3_delete_object(struct s3_client *c, const char *key, char *errstr, size_t errstr_size)
{
    struct http_response resp = {0};
    if (!key || !*key)
        return s3_fail(c, S3_ERR_INVALID, "DELETE", key, errstr, errstr_size, "empty object key");
    struct s3_call call = {.method = "DELETE", .key = key};
    int rc = s3_call_perform(c, &call, &resp, errstr, errstr_size);
    http_response_release(&resp);
    return rc;
}
