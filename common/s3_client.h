/* An S3 client on libcurl with SigV4 for any S3-compatible endpoint: single objects, listings
 * and multipart uploads, with integrity checks (SHA-256, Content-MD5, ETag) and bounded retries. */
#ifndef SALESCDC_S3_CLIENT_H
#define SALESCDC_S3_CLIENT_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "s3_protocol.h"
#include "strbuf.h"

/* Results of every S3 operation; errstr says more ("PUT s3://b/k: 403 AccessDenied: ..."). */
enum s3_result {
    S3_OK = 0,
    S3_ERR_INVALID,   /* bad configuration or argument; nothing was sent */
    S3_ERR_TRANSPORT, /* no HTTP answer (connect, DNS, timeout), retries exhausted */
    S3_ERR_NOT_FOUND, /* 404: NoSuchKey, NoSuchBucket, NoSuchUpload */
    S3_ERR_DENIED,    /* 403: wrong credentials, signature, permissions */
    S3_ERR_HTTP,      /* any other error status, after retries when it was retryable */
    S3_ERR_INTEGRITY, /* the stored object's ETag or size is not what was sent */
    S3_ERR_PROTOCOL,  /* an answer we cannot understand */
    S3_ERR_STOPPED,   /* the stop flag was raised while waiting to retry */
};

/* Connection settings. Strings are copied by s3_client_new(). */
struct s3_config {
    const char *endpoint; /* "http://127.0.0.1:59000", "https://s3.eu-west-1.amazonaws.com" */
    const char *region;   /* signing region, e.g. "us-east-1" */
    const char *bucket;
    const char *access_key;
    const char *secret_key;    /* secret: never logged, never in an error message */
    const char *session_token; /* temporary credentials' token (secret), or NULL */
    int virtual_host;          /* 1: https://bucket.host/key; 0: path style host/bucket/key */
    long connect_timeout_ms;   /* 0: 5000 */
    long request_timeout_ms;   /* one attempt of one request, body included; 0: 120000 */
    int max_attempts;          /* tries per request, first included; 0: 5 */
    long backoff_initial_ms;   /* wait before the first retry, doubled each time; 0: 200 */
    long backoff_max_ms;       /* cap of one wait; 0: 10000 */
    int skip_etag_check;       /* 1: do not require ETag == MD5 (SSE-KMS/SSE-C stores) */
    /* Optional flag (e.g. set by a SIGTERM handler): when non-zero, no further retry is made. */
    const volatile sig_atomic_t *stop;
};

/* Fills fields of CFG that are NULL or empty from the standard AWS environment variables:
 * AWS_ENDPOINT_URL_S3 (then AWS_ENDPOINT_URL), AWS_REGION (then AWS_DEFAULT_REGION),
 * AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN. A region still unset becomes
 * "us-east-1"; an endpoint still unset becomes https://s3.<region>.amazonaws.com, written into
 * ENDPOINT_BUF (ENDPOINT_SIZE bytes), which must outlive CFG's use. Values are borrowed from the
 * environment. */
void s3_config_from_env(struct s3_config *cfg, char *endpoint_buf, size_t endpoint_size);

/* What S3 says about a stored object. */
struct s3_object_info {
    uint64_t size;
    char etag[S3_ETAG_SIZE]; /* without quotes, lower case */
    char last_modified[64];  /* as the server wrote it (HTTP date or ISO 8601) */
    char content_type[128];
};

struct s3_client;

/* Validates CFG (endpoint, region, bucket, access and secret key required) and creates a client.
 * One client serves one thread at a time; it keeps connections alive between requests. Call
 * curl_global_init() once in main() before creating clients on several threads. Returns the
 * client (caller frees with s3_client_destroy()) or NULL with errstr naming the setting. */
struct s3_client *s3_client_new(const struct s3_config *cfg, char *errstr, size_t errstr_size);

/* Frees the client and wipes its copy of the secret. NULL is a no-op. */
void s3_client_destroy(struct s3_client *c);

/* The bucket name (borrowed from C). */
const char *s3_client_bucket(const struct s3_client *c);

/* Stores LEN bytes at DATA as KEY with one PUT, sending its SHA-256 (x-amz-content-sha256) and
 * MD5 (Content-MD5), then checks that the returned ETag is the body's hex MD5. CONTENT_TYPE NULL
 * means application/octet-stream. INFO (may be NULL) receives the size and ETag. */
int s3_put_object(struct s3_client *c, const char *key, const void *data, size_t len,
                  const char *content_type, struct s3_object_info *info, char *errstr,
                  size_t errstr_size);

/* A byte range of an object: LENGTH 0 means up to the end. */
struct s3_range {
    uint64_t offset;
    uint64_t length;
};

/* Reads KEY (or RANGE of it; NULL for all) into OUT, whose previous content is replaced (caller
 * frees with strbuf_release()). INFO (may be NULL) receives the headers' size (of the bytes
 * returned), ETag, Last-Modified and Content-Type. */
int s3_get_object(struct s3_client *c, const char *key, const struct s3_range *range,
                  struct strbuf *out, struct s3_object_info *info, char *errstr,
                  size_t errstr_size);

/* Fetches KEY's metadata into INFO. A missing object gives S3_ERR_NOT_FOUND. */
int s3_head_object(struct s3_client *c, const char *key, struct s3_object_info *info, char *errstr,
                   size_t errstr_size);

/* Deletes KEY. Deleting a missing object succeeds, as in S3. */
int s3_delete_object(struct s3_client *c, const char *key, char *errstr, size_t errstr_size);

/* One object in a listing; KEY is malloc'd and owned by the page. */
struct s3_list_entry {
    char *key;
    uint64_t size;
    char etag[S3_ETAG_SIZE];
    char last_modified[32];
};

/* One page of ListObjectsV2. Release with s3_list_page_release(). */
struct s3_list_page {
    struct s3_list_entry *entries;
    size_t n_entries;
    char **common_prefixes; /* with a delimiter: the "directories" */
    size_t n_prefixes;
    int is_truncated;
    char *next_token; /* NextContinuationToken, or NULL on the last page */
};

/* What to list; every string borrowed and optional (NULL). */
struct s3_list_params {
    const char *prefix;
    const char *delimiter;
    const char *start_after;
    const char *continuation_token; /* the previous page's next_token */
    int max_keys;                   /* 0: the server's default (1000) */
};

/* Fetches one page of ListObjectsV2 into PAGE (previous content released). */
int s3_list_objects_v2(struct s3_client *c, const struct s3_list_params *params,
                       struct s3_list_page *page, char *errstr, size_t errstr_size);

/* Parses a ListBucketResult document into PAGE (previous content released). Returns 0, or -1
 * with errstr saying what is missing. */
int s3_list_page_parse(const char *xml, size_t len, struct s3_list_page *page, char *errstr,
                       size_t errstr_size);

/* Frees PAGE's entries, prefixes and token and zeroes it. */
void s3_list_page_release(struct s3_list_page *page);

/* Called for each listed object, in key order; non-zero stops the listing (and is returned). */
typedef int (*s3_list_fn)(void *arg, const struct s3_list_entry *entry);

/* Lists every object matching PARAMS, page after page (PARAMS->max_keys per page), calling FN.
 * Returns 0, FN's non-zero value, or an s3_result error. */
int s3_list_each(struct s3_client *c, const struct s3_list_params *params, s3_list_fn fn, void *arg,
                 char *errstr, size_t errstr_size);

/* A multipart upload under way. */
struct s3_multipart;

enum {
    S3_PART_MIN = 5 * 1024 * 1024, /* every part but the last must be at least this big */
    S3_PARTS_MAX = 10000,
};

/* Starts a multipart upload of KEY (CreateMultipartUpload). Returns the upload (caller ends it
 * with s3_multipart_complete() or s3_multipart_abort(), then frees it with
 * s3_multipart_destroy()) or NULL with errstr filled and *RESULT set (RESULT may be NULL). */
struct s3_multipart *s3_multipart_create(struct s3_client *c, const char *key,
                                         const char *content_type, int *result, char *errstr,
                                         size_t errstr_size);

/* Uploads LEN bytes as the next part (numbers 1, 2, … in call order) and checks its ETag. */
int s3_multipart_upload_part(struct s3_multipart *mp, const void *data, size_t len, char *errstr,
                             size_t errstr_size);

/* Completes the upload from the parts sent so far and checks the object's ETag (MD5 of the part
 * MD5s, "-<parts>"). If an earlier attempt completed it but its answer was lost, the stored
 * object is recognised by that ETag and this succeeds. INFO (may be NULL) gets size and ETag. */
int s3_multipart_complete(struct s3_multipart *mp, struct s3_object_info *info, char *errstr,
                          size_t errstr_size);

/* Aborts the upload, freeing the parts stored so far. */
int s3_multipart_abort(struct s3_multipart *mp, char *errstr, size_t errstr_size);

/* The UploadId (borrowed from MP). */
const char *s3_multipart_upload_id(const struct s3_multipart *mp);

/* Frees MP (does not abort it on the server). NULL is a no-op. */
void s3_multipart_destroy(struct s3_multipart *mp);

/* Stores LEN bytes as KEY: one PUT when LEN <= THRESHOLD, else a multipart upload in parts of
 * PART_SIZE bytes (at least S3_PART_MIN; the last part takes the rest), aborted if it fails. */
int s3_put_object_auto(struct s3_client *c, const char *key, const void *data, size_t len,
                       const char *content_type, size_t threshold, size_t part_size,
                       struct s3_object_info *info, char *errstr, size_t errstr_size);

#endif
