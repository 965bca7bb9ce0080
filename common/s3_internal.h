/* Internals shared by the S3 client's files (s3_client.c, s3_list.c, s3_multipart.c): the
 * client's state and one signed request with retries. Not for use outside the S3 client. */
#ifndef SALESCDC_S3_INTERNAL_H
#define SALESCDC_S3_INTERNAL_H

#include <curl/curl.h>
#include <stdint.h>

#include "http.h"
#include "s3_client.h"

struct s3_client {
    char *endpoint;
    char *bucket;
    char *userpwd;      /* "access:secret" (secret; wiped on destroy) */
    char *secret_key;   /* kept only to scrub it from error messages (wiped on destroy) */
    char *token_header; /* "x-amz-security-token: …" (secret) or NULL */
    char *sigv4;        /* "aws:amz:<region>:s3" */
    int virtual_host;
    long connect_timeout_ms;
    long request_timeout_ms;
    int max_attempts;
    long backoff_initial_ms;
    long backoff_max_ms;
    int skip_etag_check;
    const volatile sig_atomic_t *stop;
    CURL *curl;
    uint32_t rng; /* backoff jitter (http_random()) */
};

/* One S3 request; every pointer borrowed. */
struct s3_call {
    const char *method;    /* HTTP method */
    const char *op;        /* the operation's name in errors and logs; NULL: METHOD */
    const char *key;       /* the object, or NULL for the bucket */
    const char *shown_key; /* named in errors instead of KEY (a listing's prefix), or NULL */
    const char *query;     /* canonical query (s3_query_build()) or NULL */
    const void *body;      /* PUT/POST body, may be NULL */
    size_t body_len;
    const char *const *headers; /* NULL-terminated extra header lines, or NULL */
    int error_in_200;           /* a 200 answer may carry an <Error> (CompleteMultipartUpload) */
    int attempts;               /* out: attempts made */
    struct s3_error_detail err; /* out: the S3 error of the last attempt, if any */
};

/* Sends CALL (signed, with the body's SHA-256) and retries as s3_retry_decide() says, waiting
 * with jittered exponential backoff, at most C->max_attempts times. On a 2xx answer returns
 * S3_OK with RESP filled (caller frees with http_response_release()); otherwise returns the
 * s3_result for the last answer, with errstr "<OP> s3://<bucket>/<key>: <status> <Code>:
 * <Message>" (or the transport error), never containing the credentials. */
int s3_call_perform(struct s3_client *c, struct s3_call *call, struct http_response *resp,
                    char *errstr, size_t errstr_size);

/* Writes "<OP> s3://<bucket>/<key>: " and then the printf-formatted cause into errstr,
 * scrubbing the client's secrets from the result. Returns RESULT, for `return s3_fail(...)`. */
int s3_fail(const struct s3_client *c, int result, const char *op, const char *key, char *errstr,
            size_t errstr_size, const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* Fills INFO from an answer's Content-Length, ETag, Last-Modified and Content-Type. */
void s3_info_from_headers(const struct http_response *resp, struct s3_object_info *info);

#endif
