/* Integration smoke test of the stack's S3 server through common/s3_client: PUT, GET,
 * ListObjectsV2, DELETE, a 404 after the delete, and a 403 for a wrong secret key. */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <stdbool.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "s3_client.h"

enum {
    OBJECT_SIZE = 5000, /* a few KB, more than one curl read/write chunk */
    KEY_SIZE = 256,
    ERRSTR_SIZE = 1024,
};

/* The stack's S3 settings from the environment; SECRET_KEY replaces the real secret if set. */
static struct s3_client *client(const char *secret_key)
{
    char err[ERRSTR_SIZE];
    struct s3_config cfg = {
        .endpoint = itest_env("SALESCDC_S3_ENDPOINT"),
        .region = itest_env("SALESCDC_S3_REGION"),
        .bucket = itest_env("SALESCDC_S3_BUCKET"),
        .access_key = itest_env("SALESCDC_S3_ACCESS_KEY"),
        .secret_key = secret_key ? secret_key : itest_env("SALESCDC_S3_SECRET_KEY"),
    };
    struct s3_client *c = s3_client_new(&cfg, err, sizeof err);
    ITEST_CHECK(c != NULL, "%s", err);
    return c;
}

struct key_search {
    const char *key;
    bool found;
};

static int match_key(void *arg, const struct s3_list_entry *e)
{
    struct key_search *s = arg;
    s->found = s->found || strcmp(e->key, s->key) == 0;
    return 0;
}

/* Returns true when a ListObjectsV2 of PREFIX names KEY; fails the test on an error. */
static bool list_has_key(struct s3_client *c, const char *prefix, const char *key)
{
    char err[ERRSTR_SIZE];
    struct key_search s = {key, false};
    struct s3_list_params p = {.prefix = prefix};
    ITEST_CHECK(s3_list_each(c, &p, match_key, &s, err, sizeof err) == S3_OK, "%s", err);
    return s.found;
}

static void check_get_equals(struct s3_client *c, const char *key, const unsigned char *want,
                             size_t want_len)
{
    char err[ERRSTR_SIZE];
    struct strbuf body = STRBUF_INIT;
    ITEST_CHECK(s3_get_object(c, key, NULL, &body, NULL, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(body.len == want_len && memcmp(body.data, want, want_len) == 0,
                "GET s3://%s/%s: got %zu bytes that differ from the %zu bytes put",
                s3_client_bucket(c), key, body.len, want_len);
    strbuf_release(&body);
}

static void check_get_missing(struct s3_client *c, const char *key)
{
    char err[ERRSTR_SIZE];
    struct strbuf body = STRBUF_INIT;
    int rc = s3_get_object(c, key, NULL, &body, NULL, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_NOT_FOUND && strstr(err, ": 404 ") != NULL,
                "GET of deleted s3://%s/%s (want 404): %s", s3_client_bucket(c), key,
                rc == S3_OK ? "it is still there" : err);
    strbuf_release(&body);
}

/* A wrong secret key must be refused with 403, on a listing and on a write. */
static void check_wrong_credentials(const char *key, const unsigned char *data, size_t len)
{
    char err[ERRSTR_SIZE];
    struct s3_client *c = client("not-the-secret-key");
    struct s3_list_page page = {0};
    struct s3_list_params p = {0};
    int rc = s3_list_objects_v2(c, &p, &page, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_DENIED && strstr(err, ": 403 ") != NULL,
                "ListObjectsV2 with a wrong secret key (want 403): %s",
                rc == S3_OK ? "accepted" : err);
    rc = s3_put_object(c, key, data, len, NULL, NULL, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_DENIED && strstr(err, ": 403 ") != NULL,
                "PUT with a wrong secret key (want 403): %s", rc == S3_OK ? "accepted" : err);
    s3_list_page_release(&page);
    s3_client_destroy(c);
}

int main(void)
{
    char prefix[KEY_SIZE / 2], key[KEY_SIZE / 2 + 16], err[ERRSTR_SIZE];
    unsigned char data[OBJECT_SIZE];

    ITEST_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "curl_global_init failed");
    struct s3_client *c = client(NULL);
    snprintf(prefix, sizeof prefix, "itest-s3/%ld-%ld/", (long)getpid(), (long)time(NULL));
    snprintf(key, sizeof key, "%sobject.bin", prefix);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (unsigned char)(i * 31 + 7);

    ITEST_CHECK(s3_put_object(c, key, data, sizeof data, NULL, NULL, err, sizeof err) == S3_OK,
                "%s", err);
    check_get_equals(c, key, data, sizeof data);
    ITEST_CHECK(list_has_key(c, prefix, key), "ListObjectsV2 of s3://%s/%s lacks %s",
                s3_client_bucket(c), prefix, key);
    ITEST_CHECK(s3_delete_object(c, key, err, sizeof err) == S3_OK, "%s", err);
    check_get_missing(c, key);
    ITEST_CHECK(!list_has_key(c, prefix, key), "ListObjectsV2 of s3://%s/%s still shows deleted %s",
                s3_client_bucket(c), prefix, key);
    check_wrong_credentials(key, data, sizeof data);

    printf("test_s3: PUT/GET/LIST/DELETE of s3://%s/%s and a 403 for a wrong key passed\n",
           s3_client_bucket(c), key);
    s3_client_destroy(c);
    curl_global_cleanup();
    return 0;
}
