/* Unit tests of the S3 client's behaviour on failures, against an in-process fake S3 server
 * (libmicrohttpd) that answers from a script: 503 SlowDown and 500 retried with backoff, 4xx not,
 * attempts bounded, a 500 in the middle of a multipart upload, a lost CompleteMultipartUpload
 * answer, ETag mismatches, aborts, the stop flag, and the query strings as sent on the wire. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "fake_http.h"
#include "s3_client.h"

static const char SECRET[] = "fake-secret-key-never-shown";

/* The ETag header S3 sends: the quoted hex MD5 of the body received. */
#define ETAG_MD5 "ETag: \"@MD5@\""

static struct s3_client *client_for(struct fake_http *f, const volatile sig_atomic_t *stop)
{
    char err[256];
    struct s3_config cfg = {.endpoint = f->url,
                            .region = "eu-central-1",
                            .bucket = "bucket",
                            .access_key = "AKIDFAKE",
                            .secret_key = SECRET,
                            .max_attempts = 3,
                            .backoff_initial_ms = 1,
                            .backoff_max_ms = 5,
                            .stop = stop};
    struct s3_client *c = s3_client_new(&cfg, err, sizeof err);
    assert_non_null(c);
    return c;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const char SLOW_DOWN[] = "<Error><Code>SlowDown</Code><Message>Please reduce your request "
                                "rate.</Message></Error>";
static const char SIG_MISMATCH[] = "<Error><Code>SignatureDoesNotMatch</Code><Message>The request "
                                   "signature we calculated does not match</Message></Error>";
static const char INTERNAL[] = "<Error><Code>InternalError</Code><Message>We encountered an "
                               "internal error. Please try again.</Message></Error>";

static void put_retries_slow_down_then_succeeds(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {
        {503, SLOW_DOWN, 0, NULL}, {503, SLOW_DOWN, 0, NULL}, {200, "", 0, ETAG_MD5}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512], sha[S3_SHA256_HEX_SIZE];
    struct s3_object_info info;
    assert_int_equal(s3_put_object(c, "t/dt=1/a+b c.json", "{}\n", 3, NULL, &info, err, sizeof err),
                     S3_OK);
    assert_int_equal(f->n_seen, 3);
    s3_sha256_hex("{}\n", 3, sha);
    for (size_t i = 0; i < f->n_seen; i++) {
        assert_string_equal(f->seen[i].method, "PUT");
        assert_string_equal(f->seen[i].uri, "/bucket/t/dt%3D1/a%2Bb%20c.json");
        assert_string_equal(fake_http_header(&f->seen[i], "x-amz-content-sha256"), sha);
        assert_string_equal(fake_http_header(&f->seen[i], "Content-MD5"),
                            "ioBVTJHZ/KisuC8CPeAvEQ==");
        assert_int_equal(f->seen[i].body_len, 3);
        assert_non_null(strstr(fake_http_header(&f->seen[i], "Authorization"),
                               "AWS4-HMAC-SHA256 Credential=AKIDFAKE/"));
        assert_non_null(strstr(fake_http_header(&f->seen[i], "Authorization"),
                               "/eu-central-1/s3/aws4_request"));
    }
    assert_int_equal(info.size, 3);
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void forbidden_is_not_retried_and_names_code(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{403, SIG_MISMATCH, 0, NULL}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    assert_int_equal(s3_put_object(c, "a/b.json", "x", 1, NULL, NULL, err, sizeof err),
                     S3_ERR_DENIED);
    assert_int_equal(f->n_seen, 1);
    assert_string_equal(err, "PUT s3://bucket/a/b.json: 403 SignatureDoesNotMatch: The request "
                             "signature we calculated does not match");
    assert_null(strstr(err, SECRET));
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void server_errors_are_retried_a_bounded_number_of_times(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{500, INTERNAL, 0, NULL},
                                                     {502, "", 0, NULL},
                                                     {500, INTERNAL, 0, NULL},
                                                     {200, "", 0, ETAG_MD5}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    assert_int_equal(s3_delete_object(c, "k", err, sizeof err), S3_ERR_HTTP);
    assert_int_equal(f->n_seen, 3); /* max_attempts */
    assert_string_equal(err, "DELETE s3://bucket/k: 500 InternalError: We encountered an internal "
                             "error. Please try again. (after 3 attempts)");
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void head_error_without_body_is_named_by_status(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{404, "", 0, NULL}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    struct s3_object_info info;
    assert_int_equal(s3_head_object(c, "missing", &info, err, sizeof err), S3_ERR_NOT_FOUND);
    assert_string_equal(err, "HEAD s3://bucket/missing: 404 NotFound");
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void etag_mismatch_is_an_integrity_error(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {
        {200, "", 0, "ETag: \"00000000000000000000000000000000\""}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    assert_int_equal(s3_put_object(c, "k", "abc", 3, NULL, NULL, err, sizeof err),
                     S3_ERR_INTEGRITY);
    assert_non_null(strstr(err, "900150983cd24fb0d6963f7d28e17f72")); /* MD5("abc") */
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void stop_flag_ends_retries(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{503, SLOW_DOWN, 0, NULL},
                                                     {200, "", 0, ETAG_MD5}};
    static volatile sig_atomic_t stop = 1;
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, &stop);
    char err[512];
    assert_int_equal(s3_put_object(c, "k", "x", 1, NULL, NULL, err, sizeof err), S3_ERR_STOPPED);
    assert_int_equal(f->n_seen, 1);
    assert_non_null(strstr(err, "503 SlowDown"));
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void ranged_get_sends_range(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {{206, "cdef", 0, NULL},
                                                     {200, "abcdefgh", 0, NULL}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    struct strbuf out = STRBUF_INIT;
    struct s3_range r = {2, 4};
    assert_int_equal(s3_get_object(c, "k", &r, &out, NULL, err, sizeof err), S3_OK);
    assert_string_equal(fake_http_header(&f->seen[0], "Range"), "bytes=2-5");
    assert_string_equal(out.data, "cdef");
    /* A server that ignores Range sends everything: the client still returns the range. */
    assert_int_equal(s3_get_object(c, "k", &r, &out, NULL, err, sizeof err), S3_OK);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "cdef");
    strbuf_release(&out);
    s3_client_destroy(c);
    fake_http_stop(f);
}

static const char INITIATED[] = "<InitiateMultipartUploadResult><Bucket>bucket</Bucket><Key>k"
                                "</Key><UploadId>up/id+1=</UploadId>"
                                "</InitiateMultipartUploadResult>";
#define UPLOAD_ID_QUERY "uploadId=up%2Fid%2B1%3D"

/* The ETag of a two-part upload of "aaaa" and "bbbb", as the fake reports it when completed. */
static void two_part_etag(char out[S3_ETAG_SIZE])
{
    unsigned char md5s[2][S3_MD5_SIZE];
    s3_md5("aaaa", 4, md5s[0]);
    s3_md5("bbbb", 4, md5s[1]);
    s3_multipart_etag((const unsigned char(*)[S3_MD5_SIZE])md5s, 2, out);
}

/* Creates an upload on C, uploads "aaaa" and "bbbb" and completes it; returns the result. */
static int upload_two_parts(struct s3_client *c, struct s3_object_info *info, char *err,
                            size_t size)
{
    int rc;
    struct s3_multipart *mp = s3_multipart_create(c, "k", NULL, &rc, err, size);
    assert_non_null(mp);
    assert_string_equal(s3_multipart_upload_id(mp), "up/id+1=");
    assert_int_equal(s3_multipart_upload_part(mp, "aaaa", 4, err, size), S3_OK);
    assert_int_equal(s3_multipart_upload_part(mp, "bbbb", 4, err, size), S3_OK);
    rc = s3_multipart_complete(mp, info, err, size);
    s3_multipart_destroy(mp);
    return rc;
}

static void server_error_mid_multipart_is_retried(void **state)
{
    (void)state;
    char etag[S3_ETAG_SIZE], complete[256], err[512];
    two_part_etag(etag);
    snprintf(complete, sizeof complete,
             "<CompleteMultipartUploadResult><ETag>&#34;%s&#34;</ETag>"
             "</CompleteMultipartUploadResult>",
             etag);
    const struct fake_http_answer script[] = {{200, INITIATED, 0, NULL}, {200, "", 0, ETAG_MD5},
                                              {500, INTERNAL, 0, NULL},  {200, "", 0, ETAG_MD5},
                                              {200, INTERNAL, 0, NULL},  {200, complete, 0, NULL}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    struct s3_object_info info;
    assert_int_equal(upload_two_parts(c, &info, err, sizeof err), S3_OK);
    assert_int_equal(f->n_seen, 6);
    assert_string_equal(f->seen[0].uri, "/bucket/k?uploads=");
    assert_string_equal(f->seen[1].uri, "/bucket/k?partNumber=1&" UPLOAD_ID_QUERY);
    assert_string_equal(f->seen[2].uri, "/bucket/k?partNumber=2&" UPLOAD_ID_QUERY);
    assert_string_equal(f->seen[3].uri, "/bucket/k?partNumber=2&" UPLOAD_ID_QUERY);
    /* The 200 carrying <Error>InternalError was retried too. */
    assert_string_equal(f->seen[4].uri, "/bucket/k?" UPLOAD_ID_QUERY);
    assert_string_equal(f->seen[5].method, "POST");
    assert_string_equal(info.etag, etag);
    assert_int_equal(info.size, 8);
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void lost_completion_answer_is_recognised(void **state)
{
    (void)state;
    char etag[S3_ETAG_SIZE], quoted[S3_ETAG_SIZE + 16], err[512];
    two_part_etag(etag);
    snprintf(quoted, sizeof quoted, "ETag: \"%s\"", etag);
    /* The first completion went through but its answer was lost (500); the retry finds no
     * upload; the object under the key has our ETag and size, so the upload did succeed. */
    const struct fake_http_answer script[] = {
        {200, INITIATED, 0, NULL},
        {200, "", 0, ETAG_MD5},
        {200, "", 0, ETAG_MD5},
        {500, INTERNAL, 0, NULL},
        {404, "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>", 0, NULL},
        {200, "12345678", 0, quoted}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    struct s3_object_info info;
    assert_int_equal(upload_two_parts(c, &info, err, sizeof err), S3_OK);
    assert_string_equal(f->seen[5].method, "HEAD");
    assert_string_equal(info.etag, etag);
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void failed_multipart_upload_is_aborted(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {
        {200, INITIATED, 0, NULL},
        {200, "", 0, ETAG_MD5},
        {403, "<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>", 0, NULL},
        {204, "", 0, NULL}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    size_t len = S3_PART_MIN + 10;
    char *data = calloc(1, len);
    assert_int_equal(
        s3_put_object_auto(c, "k", data, len, NULL, 1024, S3_PART_MIN, NULL, err, sizeof err),
        S3_ERR_DENIED);
    assert_non_null(strstr(err, "403 AccessDenied"));
    assert_int_equal(f->n_seen, 4);
    assert_int_equal(f->seen[1].body_len, S3_PART_MIN);
    assert_int_equal(f->seen[2].body_len, 10);
    assert_string_equal(f->seen[3].method, "DELETE");
    assert_string_equal(f->seen[3].uri, "/bucket/k?" UPLOAD_ID_QUERY);
    assert_int_equal(s3_put_object_auto(c, "k", data, len, NULL, 1024, 1024, NULL, err, sizeof err),
                     S3_ERR_INVALID);
    free(data);
    s3_client_destroy(c);
    fake_http_stop(f);
}

static int count_entries(void *arg, const struct s3_list_entry *e)
{
    (void)e;
    ++*(int *)arg;
    return 0;
}

static void listing_pages_with_canonical_queries(void **state)
{
    (void)state;
    static const struct fake_http_answer script[] = {
        {200,
         "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>a/b+c=="
         "</NextContinuationToken><Contents><Key>p/1</Key></Contents><Contents><Key>p/2</Key>"
         "</Contents></ListBucketResult>",
         0, NULL},
        {200,
         "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>p/3</Key></Contents>"
         "</ListBucketResult>",
         0, NULL}};
    struct fake_http *f = fake_http_script(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    int n = 0;
    struct s3_list_params p = {.prefix = "p/", .max_keys = 2};
    assert_int_equal(s3_list_each(c, &p, count_entries, &n, err, sizeof err), S3_OK);
    assert_int_equal(n, 3);
    assert_string_equal(f->seen[0].uri, "/bucket?list-type=2&max-keys=2&prefix=p%2F");
    assert_string_equal(f->seen[1].uri, "/bucket?continuation-token=a%2Fb%2Bc%3D%3D&list-type=2&"
                                        "max-keys=2&prefix=p%2F");
    s3_client_destroy(c);
    fake_http_stop(f);
}

static void configuration_is_validated(void **state)
{
    (void)state;
    char err[256];
    struct s3_config cfg = {.endpoint = "127.0.0.1:59000",
                            .region = "r",
                            .bucket = "b",
                            .access_key = "a",
                            .secret_key = SECRET};
    assert_null(s3_client_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "endpoint"));
    cfg.endpoint = "http://127.0.0.1:59000";
    cfg.secret_key = "";
    assert_null(s3_client_new(&cfg, err, sizeof err));
    assert_non_null(strstr(err, "secret key"));
}

static void environment_fills_missing_settings(void **state)
{
    (void)state;
    char endpoint[128];
    setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
    setenv("AWS_SECRET_ACCESS_KEY", "env-secret", 1);
    setenv("AWS_REGION", "eu-west-3", 1);
    unsetenv("AWS_ENDPOINT_URL_S3");
    unsetenv("AWS_ENDPOINT_URL");
    struct s3_config cfg = {.access_key = "from-config"};
    s3_config_from_env(&cfg, endpoint, sizeof endpoint);
    assert_string_equal(cfg.access_key, "from-config");
    assert_string_equal(cfg.secret_key, "env-secret");
    assert_string_equal(cfg.region, "eu-west-3");
    assert_string_equal(cfg.endpoint, "https://s3.eu-west-3.amazonaws.com");
    setenv("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:59000", 1);
    struct s3_config cfg2 = {0};
    s3_config_from_env(&cfg2, endpoint, sizeof endpoint);
    assert_string_equal(cfg2.endpoint, "http://127.0.0.1:59000");
    assert_string_equal(cfg2.access_key, "AKIDENV");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(put_retries_slow_down_then_succeeds),
        cmocka_unit_test(forbidden_is_not_retried_and_names_code),
        cmocka_unit_test(server_errors_are_retried_a_bounded_number_of_times),
        cmocka_unit_test(head_error_without_body_is_named_by_status),
        cmocka_unit_test(etag_mismatch_is_an_integrity_error),
        cmocka_unit_test(stop_flag_ends_retries),
        cmocka_unit_test(ranged_get_sends_range),
        cmocka_unit_test(server_error_mid_multipart_is_retried),
        cmocka_unit_test(lost_completion_answer_is_recognised),
        cmocka_unit_test(failed_multipart_upload_is_aborted),
        cmocka_unit_test(listing_pages_with_canonical_queries),
        cmocka_unit_test(configuration_is_validated),
        cmocka_unit_test(environment_fills_missing_settings),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
