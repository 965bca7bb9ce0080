/* Integration smoke test of the stack's S3 server: signed PUT, GET, ListObjectsV2, DELETE, 403. */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

enum {
    REQUEST_TIMEOUT_S = 30, /* one whole request, connect included */
    CONNECT_TIMEOUT_S = 5,
    OBJECT_SIZE = 5000, /* a few KB, more than one curl read/write chunk */
    KEY_SIZE = 256,
};

/* The stack's S3 settings, from the environment (all borrowed). */
struct s3_settings {
    const char *endpoint;
    const char *access_key;
    const char *secret_key;
    const char *bucket;
    const char *region;
};

/* A growable byte buffer (always NUL-terminated once written to). */
struct buffer {
    char *data;
    size_t len;
};

/* The request body being uploaded, read by curl through upload_read(). */
struct upload {
    const unsigned char *data;
    size_t len;
    size_t pos;
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

static size_t upload_read(char *ptr, size_t size, size_t nmemb, void *userdata)
{
    struct upload *up = userdata;
    size_t n = up->len - up->pos;
    if (n > size * nmemb)
        n = size * nmemb;
    memcpy(ptr, up->data + up->pos, n);
    up->pos += n;
    return n;
}

/* Writes the "x-amz-content-sha256: <hex>" header for PAYLOAD into OUT: S3 checks the body
 * against it, and libcurl's SigV4 signs this value instead of hashing the body itself. */
static void content_sha256_header(const unsigned char *payload, size_t len, char *out,
                                  size_t out_size)
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int md_len = 0;
    ITEST_CHECK(EVP_Digest(payload, len, md, &md_len, EVP_sha256(), NULL) == 1,
                "SHA-256 of a %zu-byte payload failed", len);
    int n = snprintf(out, out_size, "x-amz-content-sha256: ");
    for (unsigned int i = 0; i < md_len; i++)
        n += snprintf(out + n, out_size - (size_t)n, "%02x", md[i]);
}

/* Sends METHOD to the bucket's PATH_AND_QUERY ("" or "/key", then "?query"), signed with SigV4
 * as USERPWD ("key:secret"). PAYLOAD (may be NULL) is the body. The response body is appended
 * to RESPONSE (caller frees with buffer_clear()). Returns the HTTP status; fails the test when
 * no HTTP answer came. Libcurl 7.88 signs the query string as given, so callers pass it in
 * SigV4 canonical form: keys sorted, values percent-encoded ('/' as %2F), "key=" when empty. */
static long s3_request(const struct s3_settings *s, const char *userpwd, const char *method,
                       const char *path_and_query, const unsigned char *payload, size_t payload_len,
                       struct buffer *response)
{
    char url[1024], sigv4[128], sha_header[128], errbuf[CURL_ERROR_SIZE] = "";
    struct upload up = {payload, payload_len, 0};
    struct curl_slist *headers = NULL;
    long status = 0;

    snprintf(url, sizeof url, "%s/%s%s", s->endpoint, s->bucket, path_and_query);
    snprintf(sigv4, sizeof sigv4, "aws:amz:%s:s3", s->region);
    content_sha256_header(payload ? payload : (const unsigned char *)"", payload_len, sha_header,
                          sizeof sha_header);
    headers = curl_slist_append(headers, sha_header);
    CURL *curl = curl_easy_init();
    ITEST_CHECK(curl != NULL, "curl_easy_init failed");
    curl_easy_setopt(curl, CURLOPT_URL, url);
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(curl, CURLOPT_AWS_SIGV4, sigv4);
    curl_easy_setopt(curl, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
    curl_easy_setopt(curl, CURLOPT_TIMEOUT, (long)REQUEST_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT, (long)CONNECT_TIMEOUT_S);
    curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, buffer_write);
    curl_easy_setopt(curl, CURLOPT_WRITEDATA, response);
    if (payload) {
        curl_easy_setopt(curl, CURLOPT_UPLOAD, 1L);
        curl_easy_setopt(curl, CURLOPT_READFUNCTION, upload_read);
        curl_easy_setopt(curl, CURLOPT_READDATA, &up);
        curl_easy_setopt(curl, CURLOPT_INFILESIZE_LARGE, (curl_off_t)payload_len);
    }
    CURLcode rc = curl_easy_perform(curl);
    ITEST_CHECK(rc == CURLE_OK, "S3 %s %s: %s", method, url,
                errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_cleanup(curl);
    curl_slist_free_all(headers);
    return status;
}

/* Returns true when a ListObjectsV2 of PREFIX in the bucket names KEY; fails on a non-200. */
static bool list_has_key(const struct s3_settings *s, const char *userpwd, const char *prefix,
                         const char *key)
{
    char query[KEY_SIZE * 2], needle[KEY_SIZE + 16];
    struct buffer body = {0};

    /* The prefix holds only unreserved characters and '/', which must be sent as %2F. */
    int n = snprintf(query, sizeof query, "?list-type=2&prefix=");
    for (const char *p = prefix; *p; p++)
        n += snprintf(query + n, sizeof query - (size_t)n, *p == '/' ? "%%2F" : "%c", *p);
    long status = s3_request(s, userpwd, "GET", query, NULL, 0, &body);
    ITEST_CHECK(status == 200, "ListObjectsV2 of s3://%s/%s: HTTP %ld: %.300s", s->bucket, prefix,
                status, body.data ? body.data : "");
    snprintf(needle, sizeof needle, "<Key>%s</Key>", key);
    bool found = body.data && strstr(body.data, needle) != NULL;
    buffer_clear(&body);
    return found;
}

static void check_put(const struct s3_settings *s, const char *userpwd, const char *key,
                      const unsigned char *data, size_t len)
{
    char path[KEY_SIZE + 1];
    struct buffer body = {0};
    snprintf(path, sizeof path, "/%s", key);
    long status = s3_request(s, userpwd, "PUT", path, data, len, &body);
    ITEST_CHECK(status == 200, "PUT s3://%s/%s: HTTP %ld: %.300s", s->bucket, key, status,
                body.data ? body.data : "");
    buffer_clear(&body);
}

static void check_get_equals(const struct s3_settings *s, const char *userpwd, const char *key,
                             const unsigned char *want, size_t want_len)
{
    char path[KEY_SIZE + 1];
    struct buffer body = {0};
    snprintf(path, sizeof path, "/%s", key);
    long status = s3_request(s, userpwd, "GET", path, NULL, 0, &body);
    ITEST_CHECK(status == 200, "GET s3://%s/%s: HTTP %ld: %.300s", s->bucket, key, status,
                body.data ? body.data : "");
    ITEST_CHECK(body.len == want_len && memcmp(body.data, want, want_len) == 0,
                "GET s3://%s/%s: got %zu bytes that differ from the %zu bytes put", s->bucket, key,
                body.len, want_len);
    buffer_clear(&body);
}

/* DELETE answers 204 (AWS) or 200 (some servers); both mean the object is gone. */
static void check_delete(const struct s3_settings *s, const char *userpwd, const char *key)
{
    char path[KEY_SIZE + 1];
    struct buffer body = {0};
    snprintf(path, sizeof path, "/%s", key);
    long status = s3_request(s, userpwd, "DELETE", path, NULL, 0, &body);
    ITEST_CHECK(status == 204 || status == 200, "DELETE s3://%s/%s: HTTP %ld: %.300s", s->bucket,
                key, status, body.data ? body.data : "");
    buffer_clear(&body);
}

static void check_get_missing(const struct s3_settings *s, const char *userpwd, const char *key)
{
    char path[KEY_SIZE + 1];
    struct buffer body = {0};
    snprintf(path, sizeof path, "/%s", key);
    long status = s3_request(s, userpwd, "GET", path, NULL, 0, &body);
    ITEST_CHECK(status == 404, "GET of deleted s3://%s/%s: HTTP %ld (want 404): %.300s", s->bucket,
                key, status, body.data ? body.data : "");
    buffer_clear(&body);
}

/* A wrong secret key must be refused with 403, on a listing and on a write. */
static void check_wrong_credentials(const struct s3_settings *s, const char *key,
                                    const unsigned char *data, size_t len)
{
    char userpwd[512], path[KEY_SIZE + 1];
    struct buffer body = {0};
    snprintf(userpwd, sizeof userpwd, "%s:%s", s->access_key, "not-the-secret-key");
    snprintf(path, sizeof path, "/%s", key);
    long status = s3_request(s, userpwd, "GET", "?list-type=2", NULL, 0, &body);
    ITEST_CHECK(status == 403, "ListObjectsV2 with a wrong secret key: HTTP %ld (want 403)",
                status);
    buffer_clear(&body);
    status = s3_request(s, userpwd, "PUT", path, data, len, &body);
    ITEST_CHECK(status == 403, "PUT with a wrong secret key: HTTP %ld (want 403)", status);
    buffer_clear(&body);
}

int main(void)
{
    struct s3_settings s = {
        .endpoint = itest_env("SALESCDC_S3_ENDPOINT"),
        .access_key = itest_env("SALESCDC_S3_ACCESS_KEY"),
        .secret_key = itest_env("SALESCDC_S3_SECRET_KEY"),
        .bucket = itest_env("SALESCDC_S3_BUCKET"),
        .region = itest_env("SALESCDC_S3_REGION"),
    };
    char userpwd[512], prefix[KEY_SIZE / 2], key[KEY_SIZE / 2 + 16];
    unsigned char data[OBJECT_SIZE];

    ITEST_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "curl_global_init failed");
    snprintf(userpwd, sizeof userpwd, "%s:%s", s.access_key, s.secret_key);
    snprintf(prefix, sizeof prefix, "itest-s3/%ld-%ld/", (long)getpid(), (long)time(NULL));
    snprintf(key, sizeof key, "%sobject.bin", prefix);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 31 + 7);

    check_put(&s, userpwd, key, data, sizeof data);
    check_get_equals(&s, userpwd, key, data, sizeof data);
    ITEST_CHECK(list_has_key(&s, userpwd, prefix, key), "ListObjectsV2 of s3://%s/%s lacks %s",
                s.bucket, prefix, key);
    check_delete(&s, userpwd, key);
    check_get_missing(&s, userpwd, key);
    ITEST_CHECK(!list_has_key(&s, userpwd, prefix, key),
                "ListObjectsV2 of s3://%s/%s still shows deleted %s", s.bucket, prefix, key);
    check_wrong_credentials(&s, key, data, sizeof data);

    curl_global_cleanup();
    printf("test_s3: PUT/GET/LIST/DELETE of s3://%s/%s and a 403 for a wrong key passed\n",
           s.bucket, key);
    return 0;
}
