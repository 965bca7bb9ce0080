/* Unit tests of common/registry_lookup against a fake registry (tests/unit/fake_http) on a
 * loopback port: answers, Confluent error codes, caching, non-Avro schemas, basic auth. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <stdatomic.h>
#include <stdio.h>

#include "fake_http.h"
#include "registry_lookup.h"
#include "xalloc.h"

static atomic_int requests;
static char last_auth[256];

static int fake_registry(void *arg, const struct fake_http_request *req, struct strbuf *body)
{
    (void)arg;
    atomic_fetch_add(&requests, 1);
    snprintf(last_auth, sizeof last_auth, "%s", fake_http_header(req, "Authorization"));
    if (strcmp(req->uri, "/schemas/ids/1") == 0) {
        strbuf_puts(body, "{\"schema\":\"{\\\"type\\\":\\\"string\\\"}\"}");
    } else if (strcmp(req->uri, "/schemas/ids/4") == 0) {
        strbuf_puts(body, "{\"schema\":\"syntax = \\\"proto3\\\";\",\"schemaType\":\"PROTOBUF\"}");
    } else if (strcmp(req->uri, "/schemas/ids/5") == 0) {
        strbuf_puts(body, "{\"error_code\":50001,\"message\":\"Kafka write failed\"}");
        return 500;
    } else if (strcmp(req->uri, "/schemas/ids/6") == 0) {
        strbuf_puts(body, "{\"error_code\":401,\"message\":\"Unauthorized\"}");
        return 401;
    } else {
        strbuf_printf(body, "{\"error_code\":40403,\"message\":\"Schema %s not found\"}",
                      strrchr(req->uri, '/') + 1);
        return 404;
    }
    return 200;
}

struct fixture {
    struct fake_http *server;
    char url[64];
};

static int setup(void **state)
{
    struct fake_http_options opt = {.handler = fake_registry};
    struct fixture *f = xcalloc(1, sizeof *f);
    f->server = fake_http_start(&opt);
    snprintf(f->url, sizeof f->url, "http://127.0.0.1:%u/", f->server->port);
    atomic_store(&requests, 0);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    fake_http_stop(f->server);
    free(f);
    return 0;
}

static void test_schema_is_fetched_once_then_served_from_the_cache(void **state)
{
    struct fixture *f = *state;
    struct registry_lookup_options opt = {.url = f->url, .timeout_ms = 5000};
    struct registry_lookup *rl = registry_lookup_new(&opt);
    const char *schema = NULL;
    char err[512];
    assert_int_equal(registry_lookup_schema(rl, 1, &schema, err, sizeof err), REGISTRY_LOOKUP_OK);
    assert_string_equal(schema, "{\"type\":\"string\"}");
    assert_int_equal(registry_lookup_schema(rl, 1, &schema, err, sizeof err), REGISTRY_LOOKUP_OK);
    assert_string_equal(schema, "{\"type\":\"string\"}");
    assert_int_equal(atomic_load(&requests), 1);
    assert_int_equal(registry_lookup_fetches(rl), 1);
    assert_string_equal(last_auth, "");
    registry_lookup_destroy(rl);
}

static void test_unknown_id_is_not_found_naming_id_and_error_code(void **state)
{
    struct fixture *f = *state;
    struct registry_lookup_options opt = {.url = f->url};
    struct registry_lookup *rl = registry_lookup_new(&opt);
    const char *schema = NULL;
    char err[512];
    assert_int_equal(registry_lookup_schema(rl, 77, &schema, err, sizeof err),
                     REGISTRY_LOOKUP_NOT_FOUND);
    assert_non_null(strstr(err, "schema id 77"));
    assert_non_null(strstr(err, "HTTP 404, error_code 40403: Schema 77 not found"));
    /* Failures are not cached: the id may be registered later. */
    registry_lookup_schema(rl, 77, &schema, err, sizeof err);
    assert_int_equal(atomic_load(&requests), 2);
    registry_lookup_destroy(rl);
}

static void test_non_avro_schema_and_client_errors_are_rejected(void **state)
{
    struct fixture *f = *state;
    struct registry_lookup_options opt = {.url = f->url};
    struct registry_lookup *rl = registry_lookup_new(&opt);
    const char *schema = NULL;
    char err[512];
    assert_int_equal(registry_lookup_schema(rl, 4, &schema, err, sizeof err),
                     REGISTRY_LOOKUP_REJECTED);
    assert_non_null(strstr(err, "schema type is PROTOBUF, not AVRO"));
    assert_int_equal(registry_lookup_schema(rl, 6, &schema, err, sizeof err),
                     REGISTRY_LOOKUP_REJECTED);
    assert_non_null(strstr(err, "HTTP 401, error_code 401: Unauthorized"));
    registry_lookup_destroy(rl);
}

static void test_server_errors_and_refused_connections_are_unavailable(void **state)
{
    struct fixture *f = *state;
    struct registry_lookup_options opt = {.url = f->url};
    struct registry_lookup *rl = registry_lookup_new(&opt);
    const char *schema = NULL;
    char err[512];
    assert_int_equal(registry_lookup_schema(rl, 5, &schema, err, sizeof err),
                     REGISTRY_LOOKUP_UNAVAILABLE);
    assert_non_null(strstr(err, "error_code 50001: Kafka write failed"));
    registry_lookup_destroy(rl);

    struct registry_lookup_options down = {.url = "http://127.0.0.1:1", .timeout_ms = 2000};
    rl = registry_lookup_new(&down);
    assert_int_equal(registry_lookup_schema(rl, 1, &schema, err, sizeof err),
                     REGISTRY_LOOKUP_UNAVAILABLE);
    assert_non_null(strstr(err, "look up schema id 1 at http://127.0.0.1:1: "));
    registry_lookup_destroy(rl);
}

static void test_basic_auth_header_is_sent(void **state)
{
    struct fixture *f = *state;
    struct registry_lookup_options opt = {.url = f->url, .user = "alice", .password = "s3cret"};
    struct registry_lookup *rl = registry_lookup_new(&opt);
    const char *schema = NULL;
    char err[512];
    assert_int_equal(registry_lookup_schema(rl, 1, &schema, err, sizeof err), REGISTRY_LOOKUP_OK);
    assert_string_equal(last_auth, "Basic YWxpY2U6czNjcmV0");
    registry_lookup_destroy(rl);
}

static void test_status_classification(void **state)
{
    (void)state;
    assert_int_equal(registry_lookup_classify(200), REGISTRY_LOOKUP_OK);
    assert_int_equal(registry_lookup_classify(404), REGISTRY_LOOKUP_NOT_FOUND);
    assert_int_equal(registry_lookup_classify(0), REGISTRY_LOOKUP_UNAVAILABLE);
    assert_int_equal(registry_lookup_classify(429), REGISTRY_LOOKUP_UNAVAILABLE);
    assert_int_equal(registry_lookup_classify(503), REGISTRY_LOOKUP_UNAVAILABLE);
    assert_int_equal(registry_lookup_classify(409), REGISTRY_LOOKUP_REJECTED);
    assert_int_equal(registry_lookup_classify(422), REGISTRY_LOOKUP_REJECTED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_schema_is_fetched_once_then_served_from_the_cache,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_id_is_not_found_naming_id_and_error_code,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_non_avro_schema_and_client_errors_are_rejected, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_server_errors_and_refused_connections_are_unavailable,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_basic_auth_header_is_sent, setup, teardown),
        cmocka_unit_test(test_status_classification),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
