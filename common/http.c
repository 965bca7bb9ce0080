/* One HTTP request over libcurl with the answer collected in memory. */
#include "http.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* The request body as libcurl reads it for an upload (PUT). */
struct upload {
    const unsigned char *data;
    size_t len;
    size_t pos;
};

static size_t body_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    strbuf_append(userdata, ptr, size * nmemb);
    return size * nmemb;
}

/* Keeps the header lines of the last response only: a status line ("HTTP/1.1 100 Continue", or
 * a redirect's) starts a new block. */
static size_t header_write(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct strbuf *headers = userdata;
    size_t n = size * nmemb;
    if (n >= 5 && memcmp(ptr, "HTTP/", 5) == 0)
        strbuf_release(headers);
    strbuf_append(headers, ptr, n);
    return n;
}

static size_t upload_read(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct upload *up = userdata;
    size_t n = up->len - up->pos;
    if (n > size * nmemb)
        n = size * nmemb;
    if (n)
        memcpy(ptr, up->data + up->pos, n);
    up->pos += n;
    return n;
}

/* Lets libcurl send the body again when it must rewind (a redirect or an auth retry). */
static int upload_seek(void *userdata, curl_off_t offset, int origin)
{
    struct upload *up = userdata;
    if (origin != SEEK_SET || offset < 0 || (size_t)offset > up->len)
        return CURL_SEEKFUNC_FAIL;
    up->pos = (size_t)offset;
    return CURL_SEEKFUNC_OK;
}

/* Sets the method and the body: PUT streams it as an upload, POST sends it as fields. */
static void set_method(CURL *curl, const struct http_request *req, struct upload *up)
{
    if (strcmp(req->method, "HEAD") == 0) {
        curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
    } else if (strcmp(req->method, "PUT") == 0) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, up);
        curl_easy_setopt(curl, CURLOPT_SEEKFUNCTION, upload_seek);
        curl_easy_setopt(curl, CURLOPT_SEEKDATA, up);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "POST") == 0) {
        curl_easy_setopt(curl, CURLOPT_POST, 1L);
        curl_easy_setopt(curl, CURLOPT_POSTFIELDS, req->body ? req->body : "");
        curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len);
    } else if (strcmp(req->method, "GET") != 0) {
        curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, req->method);
    }
}

int http_perform(CURL *curl, const struct http_request *req, struct http_response *resp,
                 char *errstr, size_t errstr_size)
{
    char curl_err[CURL_ERROR_SIZE] = "";
    struct upload up = {req->body, req->body ? req->body_len : 0, 0};

    http_response_release(resp);
    curl_easy_reset(curl);
    curl_easy_setopt(curl, CURLOPT_URL, req->url);
    curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
    /* Object keys may hold "./" or "../" segments: send (and sign) the path exactly as built. */
    curl_easy_setopt(curl, CURLOPT_PATH_AS_IS, 1L);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curl_err);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, req->headers);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, body_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, &resp->body);
    curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, header_write);
    curl_easy_setopt(curl, CURLOPT_HEADERDATA, &resp->headers);
    if (req->connect_timeout_ms > 0)
        curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, req->connect_timeout_ms);
    if (req->timeout_ms > 0)
        curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, req->timeout_ms);
    if (req->aws_sigv4) {
        curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, req->aws_sigv4);
        curl_easy_setopt(curl, CURLOPT_USERPWD, req->userpwd);
    }
    set_method(curl, req, &up);

    resp->curl_code = curl_easy_perform(curl);
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &resp->status);
    /* The error buffer and the upload live on this stack frame: unhook them. */
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, NULL);
    curl_easy_setopt(curl, CURLOPT_USERPWD, NULL);
    if (resp->curl_code == CURLE_OK)
        return 0;
    resp->status = 0;
    snprintf(errstr, errstr_size, "%s",
             curl_err[0] ? curl_err : curl_easy_strerror(resp->curl_code));
    return -1;
}

/* Returns the start of header NAME's value in the NUL-terminated header block HDRS and its
 * length (trimmed), or NULL. */
static const char *find_header(const char *hdrs, const char *name, size_t *len)
{
    size_t name_len = strlen(name);
    for (const char *line = hdrs; line && *line;) {
        const char *eol = strchr(line, '\n');
        const char *end = eol ? eol : line + strlen(line);
        if ((size_t)(end - line) > name_len && line[name_len] == ':' &&
            strncasecmp(line, name, name_len) == 0) {
            const char *v = line + name_len + 1;
            while (v < end && (*v == ' ' || *v == '\t'))
                v++;
            while (end > v && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
                end--;
            *len = (size_t)(end - v);
            return v;
        }
        line = eol ? eol + 1 : NULL;
    }
    return NULL;
}

int http_response_header(const struct http_response *resp, const char *name, char *out,
                         size_t out_size)
{
    size_t len = 0;
    const char *v = resp->headers.data ? find_header(resp->headers.data, name, &len) : NULL;
    if (out_size == 0)
        return v != NULL;
    if (!v) {
        out[0] = '\0';
        return 0;
    }
    if (len >= out_size)
        len = out_size - 1;
    memcpy(out, v, len);
    out[len] = '\0';
    return 1;
}

void http_response_release(struct http_response *resp)
{
    strbuf_release(&resp->body);
    strbuf_release(&resp->headers);
    resp->status = 0;
    resp->curl_code = CURLE_OK;
}

int http_transport_retryable(CURLcode code)
{
    switch (code) {
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_CONNECT:
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM: return 1;
    default: return 0;
    }
}

int http_transport_not_sent(CURLcode code)
{
    return code == CURLE_COULDNT_RESOLVE_HOST || code == CURLE_COULDNT_CONNECT;
}

long http_backoff_ms(int attempt, long initial_ms, long max_ms, uint32_t random)
{
    long delay = initial_ms > 0 ? initial_ms : 1;
    for (int i = 1; i < attempt && delay < max_ms; i++)
        delay *= 2;
    if (delay > max_ms)
        delay = max_ms > 0 ? max_ms : 1;
    return delay / 2 + (long)(random % (uint32_t)(delay - delay / 2 + 1));
}

uint32_t http_random(uint32_t *state)
{
    uint32_t x = *state;
    if (x == 0) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        x = (uint32_t)now.tv_nsec ^ ((uint32_t)getpid() << 16) ^ (uint32_t)now.tv_sec;
        x = x ? x : 0x9e3779b9u;
    }
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    return x;
}

int http_sleep_ms(long ms, const volatile sig_atomic_t *stop)
{
    while (ms > 0) {
        if (stop && *stop)
            return -1;
        long slice = ms < 100 ? ms : 100;
        nanosleep(&(struct timespec){slice / 1000, (slice % 1000) * 1000000L}, NULL);
        ms -= slice;
    }
    return stop && *stop ? -1 : 0;
}
