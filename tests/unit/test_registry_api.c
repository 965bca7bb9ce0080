/* Unit tests of registry/api.c and common/httpd.c over real HTTP (libcurl to 127.0.0.1, any free
 * port), with an in-memory log: status codes, Confluent error bodies, content types, basic auth,
 * readiness, and garbage input that must never crash the server. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <jansson.h>

#include "api.h"
#include "httpd.h"
#include "log.h"
#include "memory_log.h"
#include "registry.h"
#include "strbuf.h"

static const char *const v1_type = "application/vnd.schemaregistry.v1+json";

struct fixture {
    struct memory_log *mem;
    struct registry_log log;
    struct registry *r;
    struct httpd *h;
    char base[64];
};

struct reply {
    long status;
    struct strbuf body;
    char content_type[128];
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    strbuf_append(arg, p, size * n);
    return size * n;
}

/* Sends METHOD PATH with BODY (NULL: none) as CTYPE; USERPWD "user:pass" or NULL. */
static struct reply http(const struct fixture *f, const char *method, const char *path,
                         const char *ctype, const char *body, const char *userpwd,
                         const char *accept)
{
    struct reply rep = {0, STRBUF_INIT, ""};
    char url[4200], header[256], acc[256];
    snprintf(url, sizeof url, "%s%s", f->base, path);
    CURL *c = curl_easy_init();
    struct curl_slist *hdrs = NULL;
    if (ctype) {
        snprintf(header, sizeof header, "Content-Type: %s", ctype);
        hdrs = curl_slist_append(hdrs, header);
    }
    if (accept) {
        snprintf(acc, sizeof acc, "Accept: %s", accept);
        hdrs = curl_slist_append(hdrs, acc);
    }
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    if (body)
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    if (userpwd)
        curl_easy_setopt(c, CURLOPT_USERPWD, userpwd);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep.body);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, 10L);
    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK)
        fail_msg("%s %s: %s", method, path, curl_easy_strerror(rc));
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &rep.status);
    char *ct = NULL;
    curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct);
    snprintf(rep.content_type, sizeof rep.content_type, "%s", ct ? ct : "");
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(c);
    if (!rep.body.data)
        strbuf_puts(&rep.body, "");
    return rep;
}

static struct reply post(const struct fixture *f, const char *path, const char *body)
{
    return http(f, "POST", path, v1_type, body, NULL, NULL);
}

static struct reply get(const struct fixture *f, const char *path)
{
    return http(f, "GET", path, NULL, NULL, NULL, NULL);
}

/* Checks a Confluent error reply: STATUS and {"error_code": CODE, "message": ...}. */
static void expect_error(struct reply *rep, long status, int code)
{
    json_t *j = json_loads(rep->body.data, 0, NULL);
    if (rep->status != status || !j || json_integer_value(json_object_get(j, "error_code")) != code)
        fail_msg("expected %ld/%d, got %ld %s", status, code, rep->status, rep->body.data);
    assert_true(json_is_string(json_object_get(j, "message")));
    json_decref(j);
    strbuf_release(&rep->body);
}

static int ready(void *arg)
{
    return registry_is_ready(arg);
}

static void metrics(void *arg, struct strbuf *out)
{
    registry_metrics(arg, out);
}

static int start(void **state, const char *user, const char *password, int load)
{
    log_set_level(LOG_LEVEL_ERROR);
    struct fixture *f = calloc(1, sizeof *f);
    f->mem = memory_log_new();
    f->log = memory_log_reader(f->mem);
    f->r = registry_new(&f->log, AVSC_COMPAT_BACKWARD, 1000);
    char err[256];
    if (load)
        assert_int_equal(registry_load(f->r, 1000, NULL, NULL, err, sizeof err), 0);
    struct httpd_options opt = {"127.0.0.1", 0,          user, password, "test",  4096,
                                16,          api_handle, f->r, ready,    metrics, f->r};
    f->h = httpd_start(&opt, err, sizeof err);
    assert_non_null(f->h);
    snprintf(f->base, sizeof f->base, "http://127.0.0.1:%d", httpd_port(f->h));
    *state = f;
    return 0;
}

static int setup(void **state)
{
    return start(state, NULL, NULL, 1);
}

static int setup_auth(void **state)
{
    return start(state, "alice", "s3cret", 1);
}

static int setup_not_ready(void **state)
{
    return start(state, NULL, NULL, 0);
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    httpd_stop(f->h);
    registry_destroy(f->r);
    memory_log_reader_destroy(&f->log);
    memory_log_destroy(f->mem);
    free(f);
    return 0;
}

static const char *const schema_body =
    "{\"schema\":\"{\\\"type\\\":\\\"record\\\",\\\"name\\\":\\\"R\\\",\\\"fields\\\":[{"
    "\\\"name\\\":\\\"a\\\",\\\"type\\\":\\\"int\\\"}]}\"}";

static void test_register_answers_id_in_v1_content_type(void **state)
{
    struct fixture *f = *state;
    struct reply rep = post(f, "/subjects/s-value/versions", schema_body);
    assert_int_equal(rep.status, 200);
    assert_string_equal(rep.body.data, "{\"id\":1}");
    assert_string_equal(rep.content_type, v1_type);
    strbuf_release(&rep.body);
    rep = http(f, "POST", "/subjects/s-value/versions", "application/json", schema_body, NULL,
               "application/json");
    assert_string_equal(rep.body.data, "{\"id\":1}");
    assert_string_equal(rep.content_type, "application/json");
    strbuf_release(&rep.body);
    rep = http(f, "POST", "/subjects/s-value/versions", "application/octet-stream", schema_body,
               NULL, NULL);
    assert_int_equal(rep.status, 200);
    strbuf_release(&rep.body);
}

static void test_get_endpoints_answer_like_confluent(void **state)
{
    struct fixture *f = *state;
    struct reply rep = post(f, "/subjects/s-value/versions", schema_body);
    strbuf_release(&rep.body);
    rep = get(f, "/subjects/s-value/versions/latest");
    assert_string_equal(
        rep.body.data, "{\"subject\":\"s-value\",\"version\":1,\"id\":1,\"schema\":\"{\\\"type\\\":"
                       "\\\"record\\\",\\\"name\\\":\\\"R\\\",\\\"fields\\\":[{\\\"name\\\":"
                       "\\\"a\\\",\\\"type\\\":\\\"int\\\"}]}\"}");
    strbuf_release(&rep.body);
    rep = get(f, "/schemas/ids/1/schema");
    assert_string_equal(rep.body.data,
                        "{\"type\":\"record\",\"name\":\"R\",\"fields\":[{\"name\":\"a\",\"type\":"
                        "\"int\"}]}");
    strbuf_release(&rep.body);
    rep = get(f, "/subjects");
    assert_string_equal(rep.body.data, "[\"s-value\"]");
    strbuf_release(&rep.body);
    rep = get(f, "/schemas/ids/1/versions");
    assert_string_equal(rep.body.data, "[{\"subject\":\"s-value\",\"version\":1}]");
    strbuf_release(&rep.body);
    rep = get(f, "/config");
    assert_string_equal(rep.body.data, "{\"compatibilityLevel\":\"BACKWARD\"}");
    strbuf_release(&rep.body);
    rep = http(f, "PUT", "/config/s-value", v1_type, "{\"compatibility\":\"FULL\"}", NULL, NULL);
    assert_string_equal(rep.body.data, "{\"compatibility\":\"FULL\"}");
    strbuf_release(&rep.body);
    rep = post(f, "/compatibility/subjects/s-value/versions/latest", schema_body);
    assert_string_equal(rep.body.data, "{\"is_compatible\":true}");
    strbuf_release(&rep.body);
}

static void test_errors_have_confluent_codes(void **state)
{
    struct fixture *f = *state;
    struct reply rep = post(f, "/subjects/s-value/versions", "{\"schema\":");
    expect_error(&rep, 400, 400);
    rep = post(f, "/subjects/s-value/versions", "{\"schema\":\"{\\\"type\\\":\\\"nope\\\"}\"}");
    expect_error(&rep, 422, 42201);
    rep = post(f, "/subjects/s-value/versions",
               "{\"schema\":\"\\\"int\\\"\",\"schemaType\":"
               "\"PROTOBUF\"}");
    expect_error(&rep, 422, 42201);
    rep = post(f, "/subjects/s-value/versions", "");
    expect_error(&rep, 422, 422);
    rep = http(f, "POST", "/subjects/s-value/versions", "text/plain", schema_body, NULL, NULL);
    expect_error(&rep, 415, 415);
    rep = get(f, "/subjects/s-value/versions/abc");
    expect_error(&rep, 422, 42202);
    rep = get(f, "/subjects/s-value/versions/0");
    expect_error(&rep, 422, 42202);
    rep = get(f, "/subjects/s-value/versions/1");
    expect_error(&rep, 404, 40401);
    rep = get(f, "/schemas/ids/12");
    expect_error(&rep, 404, 40403);
    rep = http(f, "PUT", "/config", v1_type, "{\"compatibility\":\"MAYBE\"}", NULL, NULL);
    expect_error(&rep, 422, 42203);
    rep = get(f, "/no/such/path");
    expect_error(&rep, 404, 404);
    rep = http(f, "PATCH", "/subjects", NULL, NULL, NULL, NULL);
    expect_error(&rep, 405, 405);
    rep = get(f, "/subjects/%FF%FE/versions");
    expect_error(&rep, 422, 42208);
    rep = post(f, "/subjects/s-value/versions", "{\"schema\":\"\\\"int\\\"\",\"id\":5}");
    expect_error(&rep, 422, 42205);
}

static void test_large_bodies_are_refused(void **state)
{
    struct fixture *f = *state;
    char *big = malloc(10000);
    memset(big, ' ', 9999);
    big[9999] = '\0';
    struct reply rep = post(f, "/subjects/s-value/versions", big);
    expect_error(&rep, 413, 413);
    free(big);
}

static void test_basic_auth_guards_everything_but_healthz(void **state)
{
    struct fixture *f = *state;
    struct reply rep = get(f, "/subjects");
    expect_error(&rep, 401, 401);
    rep = http(f, "GET", "/subjects", NULL, NULL, "alice:wrong", NULL);
    expect_error(&rep, 401, 401);
    rep = http(f, "GET", "/metrics", NULL, NULL, "bob:s3cret", NULL);
    expect_error(&rep, 401, 401);
    rep = http(f, "GET", "/subjects", NULL, NULL, "alice:s3cret", NULL);
    assert_int_equal(rep.status, 200);
    strbuf_release(&rep.body);
    rep = get(f, "/healthz");
    assert_int_equal(rep.status, 200);
    strbuf_release(&rep.body);
}

static void test_not_ready_answers_503(void **state)
{
    struct fixture *f = *state;
    struct reply rep = get(f, "/healthz");
    assert_int_equal(rep.status, 503);
    strbuf_release(&rep.body);
    rep = get(f, "/subjects");
    expect_error(&rep, 503, 503);
    char err[256];
    assert_int_equal(registry_load(f->r, 1000, NULL, NULL, err, sizeof err), 0);
    rep = get(f, "/healthz");
    assert_int_equal(rep.status, 200);
    strbuf_release(&rep.body);
}

static void test_metrics_count_requests_by_status(void **state)
{
    struct fixture *f = *state;
    struct reply rep = get(f, "/schemas/ids/99");
    strbuf_release(&rep.body);
    rep = get(f, "/metrics");
    assert_int_equal(rep.status, 200);
    assert_non_null(strstr(rep.body.data, "salescdc_http_requests_total{code=\"404\"} 1"));
    assert_non_null(strstr(rep.body.data, "salescdc_registry_schemas 0"));
    assert_non_null(strstr(rep.body.data, "salescdc_registry_ready 1"));
    strbuf_release(&rep.body);
}

/* Garbage paths and bodies: every answer must be a JSON error body or a success. */
static void test_garbage_never_crashes(void **state)
{
    struct fixture *f = *state;
    static const char *const paths[] = {"/subjects/x/versions",
                                        "/subjects/x",
                                        "/compatibility/subjects/x/versions/latest",
                                        "/config/x",
                                        "/subjects/x/versions/latest",
                                        "/schemas/ids/-1",
                                        "/subjects/x/versions/99999999999999",
                                        "/subjects//versions",
                                        "/compatibility/subjects/x"};
    static const char *const methods[] = {"GET", "POST", "PUT", "DELETE"};
    unsigned seed = 12345;
    for (int i = 0; i < 300; i++) {
        char body[64];
        for (size_t k = 0; k < sizeof body - 1; k++) {
            seed = seed * 1103515245u + 12345u;
            body[k] = (char)(" {}[]\":,\\ab01schema\x01\xff"[(seed >> 16) % 22]);
        }
        body[sizeof body - 1] = '\0';
        if (i % 3 == 0)
            memcpy(body, "{\"schema\":\"", 11);
        struct reply rep = http(f, methods[i % 4], paths[i % 9], v1_type, body, NULL, NULL);
        json_t *j = json_loads(rep.body.data, JSON_DECODE_ANY, NULL);
        if (rep.status != 200 && !json_is_integer(json_object_get(j, "error_code")))
            fail_msg("%s %s: %ld %s", methods[i % 4], paths[i % 9], rep.status, rep.body.data);
        json_decref(j);
        strbuf_release(&rep.body);
    }
}

int main(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_register_answers_id_in_v1_content_type, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_get_endpoints_answer_like_confluent, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors_have_confluent_codes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_large_bodies_are_refused, setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_auth_guards_everything_but_healthz, setup_auth,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_not_ready_answers_503, setup_not_ready, teardown),
        cmocka_unit_test_setup_teardown(test_metrics_count_requests_by_status, setup, teardown),
        cmocka_unit_test_setup_teardown(test_garbage_never_crashes, setup, teardown),
    };
    int rc = cmocka_run_group_tests(tests, NULL, NULL);
    curl_global_cleanup();
    return rc;
}
