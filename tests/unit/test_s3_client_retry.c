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

#include <arpa/inet.h>
#include <cmocka.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>

#include "s3_client.h"

enum { MAX_REQUESTS = 32, URI_SIZE = 512 };

static const char SECRET[] = "fake-secret-key-never-shown";

/* One scripted answer. ETAG: NULL for none, "md5" for the hex MD5 of the received body. */
struct canned {
    int status;
    const char *body;
    const char *etag;
};

/* What the fake server saw of one request. */
struct seen {
    char method[8];
    char uri[URI_SIZE]; /* path and query as sent */
    char sha256[72];
    char content_md5[32];
    char range[64];
    char authorization[256];
    size_t body_len;
};

struct fake {
    struct MHD_Daemon *daemon;
    pthread_mutex_t lock;
    const struct canned *script;
    size_t n_script;
    size_t next;
    struct seen seen[MAX_REQUESTS];
    size_t n_seen;
};

/* Per connection: the raw URI and the body received so far. */
struct exchange {
    char uri[URI_SIZE];
    struct strbuf body;
    int started;
};

static void *log_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
    (void)cls, (void)conn;
    struct exchange *x = calloc(1, sizeof *x);
    snprintf(x->uri, sizeof x->uri, "%s", uri);
    return x;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode code)
{
    (void)cls, (void)conn, (void)code;
    struct exchange *x = *con_cls;
    if (x)
        strbuf_release(&x->body);
    free(x);
    *con_cls = NULL;
}

static void copy_header(struct MHD_Connection *conn, const char *name, char *out, size_t size)
{
    const char *v = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, name);
    snprintf(out, size, "%s", v ? v : "");
}

static void record(struct fake *f, struct MHD_Connection *conn, const char *method,
                   const struct exchange *x)
{
    if (f->n_seen >= MAX_REQUESTS)
        return;
    struct seen *s = &f->seen[f->n_seen++];
    snprintf(s->method, sizeof s->method, "%s", method);
    snprintf(s->uri, sizeof s->uri, "%s", x->uri);
    copy_header(conn, "x-amz-content-sha256", s->sha256, sizeof s->sha256);
    copy_header(conn, "Content-MD5", s->content_md5, sizeof s->content_md5);
    copy_header(conn, "Range", s->range, sizeof s->range);
    copy_header(conn, "Authorization", s->authorization, sizeof s->authorization);
    s->body_len = x->body.len;
}

static enum MHD_Result answer(struct fake *f, struct MHD_Connection *conn, const char *method,
                              struct exchange *x)
{
    pthread_mutex_lock(&f->lock);
    record(f, conn, method, x);
    struct canned c = f->next < f->n_script ? f->script[f->next++]
                                            : (struct canned){599, "script exhausted", NULL};
    pthread_mutex_unlock(&f->lock);
    struct MHD_Response *resp = MHD_create_response_from_buffer(
        strlen(c.body ? c.body : ""), (void *)(c.body ? c.body : ""), MHD_RESPMEM_MUST_COPY);
    char etag[S3_ETAG_SIZE + 2];
    if (c.etag && strcmp(c.etag, "md5") == 0) {
        unsigned char md5[S3_MD5_SIZE];
        char hex[2 * S3_MD5_SIZE + 1];
        s3_md5(x->body.data, x->body.len, md5);
        s3_hex(md5, sizeof md5, hex);
        snprintf(etag, sizeof etag, "\"%s\"", hex);
        MHD_add_response_header(resp, "ETag", etag);
    } else if (c.etag) {
        MHD_add_response_header(resp, "ETag", c.etag);
    }
    enum MHD_Result rc = MHD_queue_response(conn, (unsigned)c.status, resp);
    MHD_destroy_response(resp);
    return rc;
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    (void)url, (void)version;
    struct exchange *x = *con_cls;
    if (!x->started) {
        x->started = 1;
        return MHD_YES;
    }
    if (*upload_data_size) {
        strbuf_append(&x->body, upload_data, *upload_data_size);
        *upload_data_size = 0;
        return MHD_YES;
    }
    return answer(cls, conn, method, x);
}

static struct fake *fake_start(const struct canned *script, size_t n)
{
    struct fake *f = calloc(1, sizeof *f);
    struct sockaddr_in loopback = {
        .sin_family = AF_INET, .sin_port = 0, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    pthread_mutex_init(&f->lock, NULL);
    f->script = script;
    f->n_script = n;
    f->daemon =
        MHD_start_daemon(MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, handle, f,
                         MHD_OPTION_URI_LOG_CALLBACK, log_uri, NULL, MHD_OPTION_NOTIFY_COMPLETED,
                         completed, NULL, MHD_OPTION_SOCK_ADDR, &loopback, MHD_OPTION_END);
    assert_non_null(f->daemon);
    return f;
}

static void fake_stop(struct fake *f)
{
    MHD_stop_daemon(f->daemon);
    pthread_mutex_destroy(&f->lock);
    free(f);
}

static struct s3_client *client_for(struct fake *f, const volatile sig_atomic_t *stop)
{
    char endpoint[64], err[256];
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(f->daemon, MHD_DAEMON_INFO_BIND_PORT);
    snprintf(endpoint, sizeof endpoint, "http://127.0.0.1:%u", (unsigned)info->port);
    struct s3_config cfg = {.endpoint = endpoint,
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
    static const struct canned script[] = {
        {503, SLOW_DOWN, NULL}, {503, SLOW_DOWN, NULL}, {200, "", "md5"}};
    struct fake *f = fake_start(script, N(script));
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
        assert_string_equal(f->seen[i].sha256, sha);
        assert_string_equal(f->seen[i].content_md5, "ioBVTJHZ/KisuC8CPeAvEQ==");
        assert_int_equal(f->seen[i].body_len, 3);
        assert_non_null(strstr(f->seen[i].authorization, "AWS4-HMAC-SHA256 Credential=AKIDFAKE/"));
        assert_non_null(strstr(f->seen[i].authorization, "/eu-central-1/s3/aws4_request"));
    }
    assert_int_equal(info.size, 3);
    s3_client_destroy(c);
    fake_stop(f);
}

static void forbidden_is_not_retried_and_names_code(void **state)
{
    (void)state;
    static const struct canned script[] = {{403, SIG_MISMATCH, NULL}};
    struct fake *f = fake_start(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    assert_int_equal(s3_put_object(c, "a/b.json", "x", 1, NULL, NULL, err, sizeof err),
                     S3_ERR_DENIED);
    assert_int_equal(f->n_seen, 1);
    assert_string_equal(err, "PUT s3://bucket/a/b.json: 403 SignatureDoesNotMatch: The request "
                             "signature we calculated does not match");
    assert_null(strstr(err, SECRET));
    s3_client_destroy(c);
    fake_stop(f);
}

static void server_errors_are_retried_a_bounded_number_of_times(void **state)
{
    (void)state;
    static const struct canned script[] = {
        {500, INTERNAL, NULL}, {502, "", NULL}, {500, INTERNAL, NULL}, {200, "", "md5"}};
    struct fake *f = fake_start(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    assert_int_equal(s3_delete_object(c, "k", err, sizeof err), S3_ERR_HTTP);
    assert_int_equal(f->n_seen, 3); /* max_attempts */
    assert_string_equal(err, "DELETE s3://bucket/k: 500 InternalError: We encountered an internal "
                             "error. Please try again. (after 3 attempts)");
    s3_client_destroy(c);
    fake_stop(f);
}

static void head_error_without_body_is_named_by_status(void **state)
{
    (void)state;
    static const struct canned script[] = {{404, "", NULL}};
    struct fake *f = fake_start(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    struct s3_object_info info;
    assert_int_equal(s3_head_object(c, "missing", &info, err, sizeof err), S3_ERR_NOT_FOUND);
    assert_string_equal(err, "HEAD s3://bucket/missing: 404 NotFound");
    s3_client_destroy(c);
    fake_stop(f);
}

static void etag_mismatch_is_an_integrity_error(void **state)
{
    (void)state;
    static const struct canned script[] = {{200, "", "\"00000000000000000000000000000000\""}};
    struct fake *f = fake_start(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    assert_int_equal(s3_put_object(c, "k", "abc", 3, NULL, NULL, err, sizeof err),
                     S3_ERR_INTEGRITY);
    assert_non_null(strstr(err, "900150983cd24fb0d6963f7d28e17f72")); /* MD5("abc") */
    s3_client_destroy(c);
    fake_stop(f);
}

static void stop_flag_ends_retries(void **state)
{
    (void)state;
    static const struct canned script[] = {{503, SLOW_DOWN, NULL}, {200, "", "md5"}};
    static volatile sig_atomic_t stop = 1;
    struct fake *f = fake_start(script, N(script));
    struct s3_client *c = client_for(f, &stop);
    char err[512];
    assert_int_equal(s3_put_object(c, "k", "x", 1, NULL, NULL, err, sizeof err), S3_ERR_STOPPED);
    assert_int_equal(f->n_seen, 1);
    assert_non_null(strstr(err, "503 SlowDown"));
    s3_client_destroy(c);
    fake_stop(f);
}

static void ranged_get_sends_range(void **state)
{
    (void)state;
    static const struct canned script[] = {{206, "cdef", NULL}, {200, "abcdefgh", NULL}};
    struct fake *f = fake_start(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    char err[512];
    struct strbuf out = STRBUF_INIT;
    struct s3_range r = {2, 4};
    assert_int_equal(s3_get_object(c, "k", &r, &out, NULL, err, sizeof err), S3_OK);
    assert_string_equal(f->seen[0].range, "bytes=2-5");
    assert_string_equal(out.data, "cdef");
    /* A server that ignores Range sends everything: the client still returns the range. */
    assert_int_equal(s3_get_object(c, "k", &r, &out, NULL, err, sizeof err), S3_OK);
    assert_int_equal(out.len, 4);
    assert_string_equal(out.data, "cdef");
    strbuf_release(&out);
    s3_client_destroy(c);
    fake_stop(f);
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
    const struct canned script[] = {{200, INITIATED, NULL}, {200, "", "md5"},
                                    {500, INTERNAL, NULL},  {200, "", "md5"},
                                    {200, INTERNAL, NULL},  {200, complete, NULL}};
    struct fake *f = fake_start(script, N(script));
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
    fake_stop(f);
}

static void lost_completion_answer_is_recognised(void **state)
{
    (void)state;
    char etag[S3_ETAG_SIZE], quoted[S3_ETAG_SIZE + 2], err[512];
    two_part_etag(etag);
    snprintf(quoted, sizeof quoted, "\"%s\"", etag);
    /* The first completion went through but its answer was lost (500); the retry finds no
     * upload; the object under the key has our ETag and size, so the upload did succeed. */
    const struct canned script[] = {
        {200, INITIATED, NULL},
        {200, "", "md5"},
        {200, "", "md5"},
        {500, INTERNAL, NULL},
        {404, "<Error><Code>NoSuchUpload</Code><Message>gone</Message></Error>", NULL},
        {200, "12345678", quoted}};
    struct fake *f = fake_start(script, N(script));
    struct s3_client *c = client_for(f, NULL);
    struct s3_object_info info;
    assert_int_equal(upload_two_parts(c, &info, err, sizeof err), S3_OK);
    assert_string_equal(f->seen[5].method, "HEAD");
    assert_string_equal(info.etag, etag);
    s3_client_destroy(c);
    fake_stop(f);
}

static void failed_multipart_upload_is_aborted(void **state)
{
    (void)state;
    static const struct canned script[] = {
        {200, INITIATED, NULL},
        {200, "", "md5"},
        {403, "<Error><Code>AccessDenied</Code><Message>Access Denied.</Message></Error>", NULL},
        {204, "", NULL}};
    struct fake *f = fake_start(script, N(script));
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
    fake_stop(f);
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
    static const struct canned script[] = {
        {200,
         "<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>a/b+c=="
         "</NextContinuationToken><Contents><Key>p/1</Key></Contents><Contents><Key>p/2</Key>"
         "</Contents></ListBucketResult>",
         NULL},
        {200,
         "<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>p/3</Key></Contents>"
         "</ListBucketResult>",
         NULL}};
    struct fake *f = fake_start(script, N(script));
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
    fake_stop(f);
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
