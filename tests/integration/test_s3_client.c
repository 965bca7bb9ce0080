/* Integration tests of common/s3_client against the stack's S3 server: single objects with keys
 * that need encoding, ranges, paged listings, multipart uploads, and the errors users will meet
 * (wrong credentials, missing bucket or key, endpoint down). */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "s3_client.h"
#include "xalloc.h"

enum {
    ERRSTR_SIZE = 1024,
    PAGED_OBJECTS = 23, /* listed 5 per page: 5 pages, the last one short */
    PAGE_KEYS = 5,
    MULTIPART_SIZE = 2 * S3_PART_MIN + 1234567, /* two full parts and a tail */
};

static struct s3_config settings(void)
{
    struct s3_config cfg = {
        .endpoint = itest_env("SALESCDC_S3_ENDPOINT"),
        .region = itest_env("SALESCDC_S3_REGION"),
        .bucket = itest_env("SALESCDC_S3_BUCKET"),
        .access_key = itest_env("SALESCDC_S3_ACCESS_KEY"),
        .secret_key = itest_env("SALESCDC_S3_SECRET_KEY"),
        .request_timeout_ms = 60000,
        .max_attempts = 3,
        .backoff_initial_ms = 50,
    };
    return cfg;
}

static struct s3_client *client_with(const struct s3_config *cfg)
{
    char err[ERRSTR_SIZE];
    struct s3_client *c = s3_client_new(cfg, err, sizeof err);
    ITEST_CHECK(c != NULL, "%s", err);
    return c;
}

static char *key_under(const char *prefix, const char *name)
{
    return xasprintf("%s%s", prefix, name);
}

/* Counts the listed objects that equal ARG's key. */
struct key_search {
    const char *key;
    int found;
    int listed;
};

static int count_key(void *arg, const struct s3_list_entry *e)
{
    struct key_search *s = arg;
    s->listed++;
    s->found += strcmp(e->key, s->key) == 0;
    return 0;
}

static int listed(struct s3_client *c, const char *prefix, const char *key)
{
    char err[ERRSTR_SIZE];
    struct key_search s = {key, 0, 0};
    struct s3_list_params p = {.prefix = prefix};
    int rc = s3_list_each(c, &p, count_key, &s, err, sizeof err);
    ITEST_CHECK(rc == S3_OK, "listing %s: %s", prefix, err);
    return s.found;
}

/* PUT, HEAD, GET, a range, LIST, DELETE, then HEAD/GET 404 and LIST without it, for one key. */
static void round_trip(struct s3_client *c, const char *prefix, const char *name)
{
    char err[ERRSTR_SIZE], md5_hex[33];
    unsigned char md5[S3_MD5_SIZE];
    char *key = key_under(prefix, name);
    char *body = xasprintf("{\"key\":\"%s\",\"filler\":\"%0200d\"}\n", name, 7);
    size_t len = strlen(body);
    struct s3_object_info info;
    struct strbuf got = STRBUF_INIT;

    s3_md5(body, len, md5);
    s3_hex(md5, sizeof md5, md5_hex);
    ITEST_CHECK(s3_put_object(c, key, body, len, "application/json", &info, err, sizeof err) ==
                    S3_OK,
                "%s", err);
    ITEST_CHECK(strcmp(info.etag, md5_hex) == 0, "PUT %s: ETag %s, MD5 %s", key, info.etag,
                md5_hex);
    ITEST_CHECK(s3_head_object(c, key, &info, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(info.size == len && strcmp(info.etag, md5_hex) == 0 &&
                    strcmp(info.content_type, "application/json") == 0,
                "HEAD %s: size %llu etag %s type %s", key, (unsigned long long)info.size, info.etag,
                info.content_type);
    ITEST_CHECK(s3_get_object(c, key, NULL, &got, &info, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(got.len == len && memcmp(got.data, body, len) == 0, "GET %s: bytes differ", key);
    struct s3_range range = {10, 20};
    ITEST_CHECK(s3_get_object(c, key, &range, &got, NULL, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(got.len == 20 && memcmp(got.data, body + 10, 20) == 0, "ranged GET %s", key);
    ITEST_CHECK(listed(c, prefix, key) == 1, "LIST %s does not show %s", prefix, key);
    ITEST_CHECK(s3_delete_object(c, key, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(s3_head_object(c, key, &info, err, sizeof err) == S3_ERR_NOT_FOUND,
                "HEAD of deleted %s: %s", key, err);
    ITEST_CHECK(s3_get_object(c, key, NULL, &got, NULL, err, sizeof err) == S3_ERR_NOT_FOUND &&
                    strstr(err, "404 NoSuchKey") != NULL,
                "GET of deleted %s: %s", key, err);
    ITEST_CHECK(listed(c, prefix, key) == 0, "LIST %s still shows deleted %s", prefix, key);
    strbuf_release(&got);
    free(body);
    free(key);
}

static void check_keys_needing_encoding(struct s3_client *c, const char *prefix)
{
    static const char *const names[] = {
        "orders/dt=2026-01-01/hour=07/sales.public.orders+0+00000000000000000042.json",
        "with space/and  two.txt",
        "plus+and=equals&amp;?query#hash.json",
        "unicode/é-ü-日本-😀.txt",
        "reserved/!$'()*,;:@[]~_.-",
        "percent/100%25 and %.txt",
    };
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        round_trip(c, prefix, names[i]);
}

static void check_empty_object(struct s3_client *c, const char *prefix)
{
    char err[ERRSTR_SIZE];
    char *key = key_under(prefix, "empty");
    struct s3_object_info info;
    struct strbuf got = STRBUF_INIT;
    ITEST_CHECK(s3_put_object(c, key, NULL, 0, NULL, &info, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(strcmp(info.etag, "d41d8cd98f00b204e9800998ecf8427e") == 0, "empty ETag %s",
                info.etag);
    ITEST_CHECK(s3_get_object(c, key, NULL, &got, NULL, err, sizeof err) == S3_OK && got.len == 0,
                "GET of empty object: %s", err);
    ITEST_CHECK(s3_delete_object(c, key, err, sizeof err) == S3_OK, "%s", err);
    strbuf_release(&got);
    free(key);
}

/* Pages through PAGED_OBJECTS objects PAGE_KEYS at a time, by hand and with s3_list_each. */
static void check_paging(struct s3_client *c, const char *prefix)
{
    char err[ERRSTR_SIZE], name[64];
    char *dir = key_under(prefix, "paged/");
    for (int i = 0; i < PAGED_OBJECTS; i++) {
        snprintf(name, sizeof name, "%sobj-%03d", dir, i);
        ITEST_CHECK(s3_put_object(c, name, name, strlen(name), NULL, NULL, err, sizeof err) ==
                        S3_OK,
                    "%s", err);
    }
    struct s3_list_params p = {.prefix = dir, .max_keys = PAGE_KEYS};
    struct s3_list_page page = {0};
    char *token = NULL;
    int pages = 0, seen = 0;
    do {
        p.continuation_token = token;
        ITEST_CHECK(s3_list_objects_v2(c, &p, &page, err, sizeof err) == S3_OK, "%s", err);
        ITEST_CHECK(page.n_entries <= PAGE_KEYS, "page of %zu > max-keys", page.n_entries);
        for (size_t i = 0; i < page.n_entries; i++, seen++) {
            snprintf(name, sizeof name, "%sobj-%03d", dir, seen);
            ITEST_CHECK(strcmp(page.entries[i].key, name) == 0, "entry %d is %s, want %s", seen,
                        page.entries[i].key, name);
            ITEST_CHECK(page.entries[i].size == strlen(name), "size of %s", name);
        }
        free(token);
        token = page.next_token ? xstrdup(page.next_token) : NULL;
        pages++;
    } while (page.is_truncated);
    ITEST_CHECK(seen == PAGED_OBJECTS && pages == (PAGED_OBJECTS + PAGE_KEYS - 1) / PAGE_KEYS,
                "listed %d objects in %d pages", seen, pages);
    struct key_search s = {"", 0, 0};
    ITEST_CHECK(s3_list_each(c, &p, count_key, &s, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(s.listed == PAGED_OBJECTS, "s3_list_each listed %d", s.listed);
    for (int i = 0; i < PAGED_OBJECTS; i++) {
        snprintf(name, sizeof name, "%sobj-%03d", dir, i);
        ITEST_CHECK(s3_delete_object(c, name, err, sizeof err) == S3_OK, "%s", err);
    }
    s3_list_page_release(&page);
    free(token);
    free(dir);
}

static void check_delimiter(struct s3_client *c, const char *prefix)
{
    char err[ERRSTR_SIZE];
    char *a = key_under(prefix, "tree/dt=2026-01-01/x"),
         *b = key_under(prefix, "tree/dt=2026-01-02/y");
    char *dir = key_under(prefix, "tree/"), *want = key_under(prefix, "tree/dt=2026-01-02/");
    struct s3_list_page page = {0};
    ITEST_CHECK(s3_put_object(c, a, "x", 1, NULL, NULL, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(s3_put_object(c, b, "y", 1, NULL, NULL, err, sizeof err) == S3_OK, "%s", err);
    struct s3_list_params p = {.prefix = dir, .delimiter = "/"};
    ITEST_CHECK(s3_list_objects_v2(c, &p, &page, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(page.n_entries == 0 && page.n_prefixes == 2 &&
                    strcmp(page.common_prefixes[1], want) == 0,
                "delimiter listing: %zu entries, %zu prefixes", page.n_entries, page.n_prefixes);
    ITEST_CHECK(s3_delete_object(c, a, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(s3_delete_object(c, b, err, sizeof err) == S3_OK, "%s", err);
    s3_list_page_release(&page);
    free(a), free(b), free(dir), free(want);
}

static unsigned char *pattern(size_t len, unsigned seed)
{
    unsigned char *data = xmalloc(len);
    for (size_t i = 0; i < len; i++)
        data[i] = (unsigned char)((i * 2654435761u + seed) >> 13);
    return data;
}

/* Two 5 MiB parts and a tail through s3_put_object_auto(); the ETag must be the multipart one. */
static void check_multipart_auto(struct s3_client *c, const char *prefix)
{
    char err[ERRSTR_SIZE], want[S3_ETAG_SIZE];
    unsigned char md5s[3][S3_MD5_SIZE];
    unsigned char *data = pattern(MULTIPART_SIZE, 1);
    char *key = key_under(prefix, "multipart/dt=2026-01-01/big+0+00000000000000000001.bin");
    struct s3_object_info info;
    struct strbuf got = STRBUF_INIT;

    s3_md5(data, S3_PART_MIN, md5s[0]);
    s3_md5(data + S3_PART_MIN, S3_PART_MIN, md5s[1]);
    s3_md5(data + 2 * S3_PART_MIN, MULTIPART_SIZE - 2 * S3_PART_MIN, md5s[2]);
    s3_multipart_etag((const unsigned char(*)[S3_MD5_SIZE])md5s, 3, want);
    ITEST_CHECK(s3_put_object_auto(c, key, data, MULTIPART_SIZE, NULL, S3_PART_MIN, S3_PART_MIN,
                                   &info, err, sizeof err) == S3_OK,
                "%s", err);
    ITEST_CHECK(strcmp(info.etag, want) == 0, "multipart ETag %s, want %s", info.etag, want);
    ITEST_CHECK(s3_head_object(c, key, &info, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(info.size == MULTIPART_SIZE && strcmp(info.etag, want) == 0,
                "HEAD after multipart: size %llu ETag %s", (unsigned long long)info.size,
                info.etag);
    ITEST_CHECK(s3_get_object(c, key, NULL, &got, NULL, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(got.len == MULTIPART_SIZE && memcmp(got.data, data, MULTIPART_SIZE) == 0,
                "GET after multipart: %zu bytes that differ", got.len);
    /* Below the threshold the same call makes one PUT: a plain MD5 ETag. */
    ITEST_CHECK(s3_put_object_auto(c, key, data, 1000, NULL, S3_PART_MIN, S3_PART_MIN, &info, err,
                                   sizeof err) == S3_OK &&
                    strchr(info.etag, '-') == NULL,
                "small put_object_auto: %s (ETag %s)", err, info.etag);
    ITEST_CHECK(s3_delete_object(c, key, err, sizeof err) == S3_OK, "%s", err);
    strbuf_release(&got);
    free(key);
    free(data);
}

/* The explicit API: a part below the minimum is refused on completion; abort frees the upload. */
static void check_multipart_abort(struct s3_client *c, const char *prefix)
{
    char err[ERRSTR_SIZE];
    int rc;
    unsigned char *data = pattern(S3_PART_MIN, 2);
    char *key = key_under(prefix, "multipart/aborted.bin");
    struct s3_multipart *mp =
        s3_multipart_create(c, key, "application/octet-stream", &rc, err, sizeof err);
    ITEST_CHECK(mp && rc == S3_OK, "%s", err);
    ITEST_CHECK(s3_multipart_upload_part(mp, "tiny", 4, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(s3_multipart_upload_part(mp, data, S3_PART_MIN, err, sizeof err) == S3_OK, "%s",
                err);
    rc = s3_multipart_complete(mp, NULL, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_HTTP && strstr(err, "400 EntityTooSmall") != NULL,
                "completing with a 4-byte first part: %d %s", rc, err);
    ITEST_CHECK(s3_multipart_abort(mp, err, sizeof err) == S3_OK, "%s", err);
    rc = s3_multipart_upload_part(mp, data, S3_PART_MIN, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_NOT_FOUND && strstr(err, "NoSuchUpload") != NULL,
                "part after abort: %d %s", rc, err);
    struct s3_object_info info;
    ITEST_CHECK(s3_head_object(c, key, &info, err, sizeof err) == S3_ERR_NOT_FOUND,
                "aborted upload left an object: %s", err);
    s3_multipart_destroy(mp);
    free(key);
    free(data);
}

/* A wrong secret gives 403 SignatureDoesNotMatch, and neither secret shows in the message. */
static void check_wrong_credentials(const char *prefix)
{
    static const char wrong_secret[] = "wrong-secret-for-itest-0123456789";
    char err[ERRSTR_SIZE];
    struct s3_config cfg = settings();
    cfg.secret_key = wrong_secret;
    struct s3_client *c = client_with(&cfg);
    char *key = key_under(prefix, "denied.txt");
    int rc = s3_put_object(c, key, "x", 1, NULL, NULL, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_DENIED && strstr(err, "403 SignatureDoesNotMatch") != NULL &&
                    strstr(err, key) != NULL,
                "PUT with a wrong secret: %d %s", rc, err);
    ITEST_CHECK(strstr(err, wrong_secret) == NULL && strstr(err, settings().secret_key) == NULL,
                "the secret key leaked into: %s", err);
    struct s3_list_page page = {0};
    struct s3_list_params p = {.prefix = prefix};
    rc = s3_list_objects_v2(c, &p, &page, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_DENIED && strstr(err, "403") != NULL, "LIST: %d %s", rc, err);
    s3_client_destroy(c);

    cfg = settings();
    cfg.access_key = "NOSUCHACCESSKEY";
    c = client_with(&cfg);
    rc = s3_put_object(c, key, "x", 1, NULL, NULL, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_DENIED && strstr(err, "403 InvalidAccessKeyId") != NULL,
                "PUT with an unknown access key: %d %s", rc, err);
    s3_client_destroy(c);
    free(key);
}

static void check_missing_bucket(void)
{
    char err[ERRSTR_SIZE];
    struct s3_config cfg = settings();
    cfg.bucket = "salescdc-no-such-bucket";
    struct s3_client *c = client_with(&cfg);
    int rc = s3_put_object(c, "k", "x", 1, NULL, NULL, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_NOT_FOUND && strstr(err, "404 NoSuchBucket") != NULL &&
                    strstr(err, "s3://salescdc-no-such-bucket/k") != NULL,
                "PUT into a missing bucket: %d %s", rc, err);
    s3_client_destroy(c);
}

/* Nothing listens on the endpoint: bounded retries, then a transport error naming it. */
static void check_endpoint_down(void)
{
    char err[ERRSTR_SIZE];
    struct s3_config cfg = settings();
    cfg.endpoint = "http://127.0.0.1:9";
    cfg.max_attempts = 3;
    cfg.backoff_initial_ms = 10;
    struct s3_client *c = client_with(&cfg);
    int rc = s3_put_object(c, "k", "x", 1, NULL, NULL, err, sizeof err);
    ITEST_CHECK(rc == S3_ERR_TRANSPORT && strstr(err, "after 3 attempts") != NULL &&
                    strstr(err, "127.0.0.1:9") != NULL,
                "PUT to a closed port: %d %s", rc, err);
    s3_client_destroy(c);
}

static int delete_entry(void *arg, const struct s3_list_entry *e)
{
    char err[ERRSTR_SIZE];
    if (s3_delete_object(arg, e->key, err, sizeof err) != S3_OK)
        fprintf(stderr, "warning: cleanup: %s\n", err);
    return 0;
}

int main(void)
{
    char prefix[128], err[ERRSTR_SIZE];
    ITEST_CHECK(curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK, "curl_global_init failed");
    snprintf(prefix, sizeof prefix, "itest-s3-client/%ld-%ld/", (long)time(NULL), (long)getpid());
    struct s3_config cfg = settings();
    struct s3_client *c = client_with(&cfg);

    check_keys_needing_encoding(c, prefix);
    check_empty_object(c, prefix);
    check_paging(c, prefix);
    check_delimiter(c, prefix);
    check_multipart_auto(c, prefix);
    check_multipart_abort(c, prefix);
    check_wrong_credentials(prefix);
    check_missing_bucket();
    check_endpoint_down();

    struct s3_list_params p = {.prefix = prefix};
    ITEST_CHECK(s3_list_each(c, &p, delete_entry, c, err, sizeof err) == S3_OK, "%s", err);
    ITEST_CHECK(listed(c, prefix, "") == 0, "cleanup");
    s3_client_destroy(c);
    curl_global_cleanup();
    printf("test_s3_client: encoded keys, ranges, paging, multipart, 403/404/down passed under "
           "s3://%s/%s\n",
           cfg.bucket, prefix);
    return 0;
}
