/* One HTTP request over libcurl with the answer collected in memory, shared by the S3 and Trino
 * clients: a reused easy handle (keep-alive), optional SigV4 signing, timeouts, headers kept. */
#ifndef SALESCDC_HTTP_H
#define SALESCDC_HTTP_H

#include <curl/curl.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* What to send; every pointer is borrowed for the duration of http_perform(). */
struct http_request {
    const char *method;               /* "GET", "HEAD", "PUT", "POST" or "DELETE" */
    const char *url;                  /* path and query already percent-encoded */
    const struct curl_slist *headers; /* extra "Name: value" lines, may be NULL */
    const void *body;                 /* PUT and POST only; NULL means an empty body */
    size_t body_len;
    const char *aws_sigv4;   /* "aws:amz:<region>:s3" to sign with SigV4, or NULL */
    const char *userpwd;     /* "access:secret" for SigV4 (secret: never logged), or NULL */
    long connect_timeout_ms; /* 0: libcurl's default */
    long timeout_ms;         /* the whole request; 0: none */
};

/* What came back. BODY and HEADERS belong to the response: free with http_response_release(). */
struct http_response {
    long status;           /* HTTP status, 0 when no answer came */
    CURLcode curl_code;    /* CURLE_OK when an HTTP answer came */
    struct strbuf body;    /* the response body (binary safe; NUL-terminated when not empty) */
    struct strbuf headers; /* header lines of the final answer (after any 100 Continue) */
};

/* Sends REQ on CURL (an easy handle the caller owns and reuses; its options are reset first, its
 * connections kept) and fills RESP, whose previous content is discarded. Returns 0 when an HTTP
 * answer of any status came, or -1 with the transport error (libcurl's description, never the
 * credentials) in errstr and RESP->curl_code set; the caller adds the operation and object. */
int http_perform(CURL *curl, const struct http_request *req, struct http_response *resp,
                 char *errstr, size_t errstr_size);

/* Copies the value of response header NAME (case-insensitive, surrounding blanks trimmed) into OUT,
 * truncated to OUT_SIZE. Returns 1 when the header is present, 0 (OUT = "") when not. */
int http_response_header(const struct http_response *resp, const char *name, char *out,
                         size_t out_size);

/* Frees the body and headers and zeroes RESP. */
void http_response_release(struct http_response *resp);

/* True for libcurl results meaning that the server could not be reached or the exchange broke
 * off (connect refused, DNS, timeout, reset, empty reply): the cases worth retrying. */
int http_transport_retryable(CURLcode code);

/* True when CODE means the request never reached a server (so it certainly had no effect). */
int http_transport_not_sent(CURLcode code);

/* The wait before retry number ATTEMPT (1 = the first retry): INITIAL_MS doubled per attempt,
 * capped at MAX_MS, then jittered into [delay/2, delay] by RANDOM. */
long http_backoff_ms(int attempt, long initial_ms, long max_ms, uint32_t random);

/* Next value of a xorshift32 generator for backoff jitter; a zero *STATE is seeded first. */
uint32_t http_random(uint32_t *state);

/* Sleeps MS milliseconds in slices of at most 100 ms. Returns 0, or -1 as soon as *STOP (STOP
 * may be NULL) is non-zero, so that a stop signal is not held up by a retry's wait. */
int http_sleep_ms(long ms, const volatile sig_atomic_t *stop);

#endif
