/* Unit tests of registry/registry*.c, store*.c over an in-memory log: ids, versions, soft
 * deletes, configs, error codes, replay after a restart, failed writes, concurrent writers. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pthread.h>

#include "log.h"
#include "memory_log.h"
#include "registry.h"

#define REC(fields) "{\"type\":\"record\",\"name\":\"R\",\"fields\":[" fields "]}"
static const char *const v1 = REC("{\"name\":\"a\",\"type\":\"int\"}");
static const char *const v1_reformatted =
    "{ \"fields\" : [ { \"type\" : { \"type\" : \"int\" }, \"name\" : \"a\", \"doc\": \"A\" } ], "
    "\"name\" : \"R\", \"type\" : \"record\" }";
static const char *const v2 =
    REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\",\"default\":\"\"}");
static const char *const v2_no_default =
    REC("{\"name\":\"a\",\"type\":\"int\"},{\"name\":\"b\",\"type\":\"string\"}");

struct fixture {
    struct memory_log *mem;
    struct registry_log log;
    struct registry *r;
};

static struct registry *open_registry(struct fixture *f)
{
    f->log = memory_log_reader(f->mem);
    struct registry *r = registry_new(&f->log, AVSC_COMPAT_BACKWARD, 1000);
    char err[256];
    assert_int_equal(registry_load(r, 1000, NULL, NULL, err, sizeof err), 0);
    assert_true(registry_is_ready(r));
    return r;
}

static void close_registry(struct fixture *f)
{
    registry_destroy(f->r);
    memory_log_reader_destroy(&f->log);
    f->r = NULL;
}

static int setup(void **state)
{
    log_set_level(LOG_LEVEL_ERROR);
    struct fixture *f = calloc(1, sizeof *f);
    f->mem = memory_log_new();
    f->r = open_registry(f);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    close_registry(f);
    memory_log_destroy(f->mem);
    free(f);
    return 0;
}

/* Registers TEXT under SUBJECT and returns the id; fails the test on an error. */
static int reg(struct registry *r, const char *subject, const char *text)
{
    struct registry_error err;
    json_t *out = registry_register(r, subject, text, &err);
    if (!out)
        fail_msg("register %s failed: %d %s", subject, err.code, err.message);
    int id = (int)json_integer_value(json_object_get(out, "id"));
    json_decref(out);
    return id;
}

/* Expects OUT to be NULL with error CODE. */
static void expect_error(json_t *out, const struct registry_error *err, int status, int code)
{
    if (out)
        fail_msg("expected error %d, got a result", code);
    assert_int_equal(err->status, status);
    assert_int_equal(err->code, code);
}

static void test_same_schema_gets_same_id_and_one_version(void **state)
{
    struct fixture *f = *state;
    int id = reg(f->r, "s-value", v1);
    assert_int_equal(reg(f->r, "s-value", v1), id);
    assert_int_equal(reg(f->r, "s-value", v1_reformatted), id);
    struct registry_error err;
    json_t *versions = registry_versions(f->r, "s-value", 0, &err);
    assert_int_equal(json_array_size(versions), 1);
    json_decref(versions);
    assert_int_equal(memory_log_size(f->mem), 1);
}

static void test_ids_are_global_and_shared_across_subjects(void **state)
{
    struct fixture *f = *state;
    int a = reg(f->r, "a-value", v1);
    int b = reg(f->r, "a-value", v2);
    assert_true(b > a);
    assert_int_equal(reg(f->r, "b-value", v2), b);
    struct registry_error err;
    json_t *ver = registry_version(f->r, "b-value", -1, 0, &err);
    assert_int_equal(json_integer_value(json_object_get(ver, "version")), 1);
    assert_int_equal(json_integer_value(json_object_get(ver, "id")), b);
    assert_string_equal(json_string_value(json_object_get(ver, "schema")), v2);
    json_decref(ver);
    json_t *subjects = registry_id_subjects(f->r, b, 0, &err);
    assert_int_equal(json_array_size(subjects), 2);
    json_decref(subjects);
}

static void test_incompatible_schema_is_409_and_writes_nothing(void **state)
{
    struct fixture *f = *state;
    reg(f->r, "s-value", v1);
    size_t before = memory_log_size(f->mem);
    struct registry_error err;
    json_t *out = registry_register(f->r, "s-value", v2_no_default, &err);
    expect_error(out, &err, 409, 409);
    assert_non_null(strstr(err.message, "Schema being registered is incompatible with an earlier "
                                        "schema for subject \"s-value\""));
    assert_int_equal(memory_log_size(f->mem), before);
    json_decref(registry_set_config(f->r, "s-value", "NONE", &err));
    assert_true(reg(f->r, "s-value", v2_no_default) > 0);
}

static void test_restart_replays_ids_versions_and_configs(void **state)
{
    struct fixture *f = *state;
    int a = reg(f->r, "s-value", v1), b = reg(f->r, "s-value", v2);
    struct registry_error err;
    json_decref(registry_set_config(f->r, "s-value", "FULL", &err));
    json_decref(registry_set_config(f->r, NULL, "forward_transitive", &err));
    close_registry(f);
    f->r = open_registry(f);
    json_t *s = registry_schema_by_id(f->r, a, &err);
    assert_string_equal(json_string_value(json_object_get(s, "schema")), v1);
    json_decref(s);
    json_t *ver = registry_version(f->r, "s-value", 2, 0, &err);
    assert_int_equal(json_integer_value(json_object_get(ver, "id")), b);
    json_decref(ver);
    json_t *cfg = registry_get_config(f->r, "s-value", 0, &err);
    assert_string_equal(json_string_value(json_object_get(cfg, "compatibilityLevel")), "FULL");
    json_decref(cfg);
    cfg = registry_get_config(f->r, NULL, 0, &err);
    assert_string_equal(json_string_value(json_object_get(cfg, "compatibilityLevel")),
                        "FORWARD_TRANSITIVE");
    json_decref(cfg);
    assert_true(reg(f->r, "t-value", "\"string\"") > b);
}

static void test_soft_delete_hides_versions_but_keeps_ids(void **state)
{
    struct fixture *f = *state;
    int a = reg(f->r, "s-value", v1);
    reg(f->r, "s-value", v2);
    struct registry_error err;
    json_t *deleted = registry_delete_subject(f->r, "s-value", 0, &err);
    assert_int_equal(json_array_size(deleted), 2);
    json_decref(deleted);
    expect_error(registry_versions(f->r, "s-value", 0, &err), &err, 404, 40401);
    expect_error(registry_delete_subject(f->r, "s-value", 0, &err), &err, 404, 40404);
    expect_error(registry_delete_subject(f->r, "s-value", 1, &err), &err, 422, 42205);
    json_t *all = registry_versions(f->r, "s-value", 1, &err);
    assert_int_equal(json_array_size(all), 2);
    json_decref(all);
    json_t *s = registry_schema_by_id(f->r, a, &err);
    assert_non_null(s);
    json_decref(s);
    assert_int_equal(reg(f->r, "s-value", v1), a); /* same id, next version */
    json_t *ver = registry_version(f->r, "s-value", -1, 0, &err);
    assert_int_equal(json_integer_value(json_object_get(ver, "version")), 3);
    json_decref(ver);
    json_t *subjects = registry_subjects(f->r, NULL, 0);
    assert_int_equal(json_array_size(subjects), 1);
    json_decref(subjects);
}

static void test_delete_version_soft_deletes_one(void **state)
{
    struct fixture *f = *state;
    reg(f->r, "s-value", v1);
    reg(f->r, "s-value", v2);
    struct registry_error err;
    json_t *v = registry_delete_version(f->r, "s-value", 1, 0, &err);
    assert_int_equal(json_integer_value(v), 1);
    json_decref(v);
    expect_error(registry_version(f->r, "s-value", 1, 0, &err), &err, 404, 40402);
    expect_error(registry_delete_version(f->r, "s-value", 1, 0, &err), &err, 404, 40406);
    expect_error(registry_delete_version(f->r, "s-value", 7, 0, &err), &err, 404, 40402);
    expect_error(registry_delete_version(f->r, "nope", 1, 0, &err), &err, 404, 40401);
    v = registry_version(f->r, "s-value", 1, 1, &err);
    assert_non_null(v);
    json_decref(v);
}

static void test_failed_write_is_500_and_its_id_is_never_reused(void **state)
{
    struct fixture *f = *state;
    int a = reg(f->r, "s-value", v1);
    memory_log_fail_appends(f->mem, 1);
    struct registry_error err;
    expect_error(registry_register(f->r, "t-value", "\"string\"", &err), &err, 500, 50001);
    int c = reg(f->r, "u-value", "\"long\"");
    assert_true(c > a + 1); /* a + 1 went to the failed write */
    expect_error(registry_versions(f->r, "t-value", 1, &err), &err, 404, 40401);
}

static void test_lookup_finds_registered_schema_or_says_why_not(void **state)
{
    struct fixture *f = *state;
    int a = reg(f->r, "s-value", v1);
    struct registry_error err;
    json_t *found = registry_lookup(f->r, "s-value", v1_reformatted, 0, &err);
    assert_int_equal(json_integer_value(json_object_get(found, "id")), a);
    assert_int_equal(json_integer_value(json_object_get(found, "version")), 1);
    assert_string_equal(json_string_value(json_object_get(found, "subject")), "s-value");
    json_decref(found);
    expect_error(registry_lookup(f->r, "s-value", v2, 0, &err), &err, 404, 40403);
    expect_error(registry_lookup(f->r, "other", v1, 0, &err), &err, 404, 40401);
    expect_error(registry_lookup(f->r, "s-value", "{\"type\":", 0, &err), &err, 422, 42201);
}

static void test_config_levels_and_their_errors(void **state)
{
    struct fixture *f = *state;
    struct registry_error err;
    json_t *cfg = registry_get_config(f->r, NULL, 0, &err);
    assert_string_equal(json_string_value(json_object_get(cfg, "compatibilityLevel")), "BACKWARD");
    json_decref(cfg);
    expect_error(registry_set_config(f->r, NULL, "SIDEWAYS", &err), &err, 422, 42203);
    expect_error(registry_set_config(f->r, "s", NULL, &err), &err, 422, 42203);
    expect_error(registry_get_config(f->r, "s", 0, &err), &err, 404, 40408);
    cfg = registry_get_config(f->r, "s", 1, &err);
    assert_string_equal(json_string_value(json_object_get(cfg, "compatibilityLevel")), "BACKWARD");
    json_decref(cfg);
    json_t *set = registry_set_config(f->r, "s", "none", &err);
    assert_string_equal(json_string_value(json_object_get(set, "compatibility")), "NONE");
    json_decref(set);
    json_t *del = registry_delete_config(f->r, "s", &err);
    assert_string_equal(json_string_value(json_object_get(del, "compatibilityLevel")), "NONE");
    json_decref(del);
    expect_error(registry_delete_config(f->r, "s", &err), &err, 404, 40401);
}

static void test_compatibility_check_endpoint_semantics(void **state)
{
    struct fixture *f = *state;
    struct registry_error err;
    json_t *out = registry_check(f->r, "none-yet", -1, 0, v1, 0, &err);
    assert_true(json_is_true(json_object_get(out, "is_compatible")));
    json_decref(out);
    expect_error(registry_check(f->r, "none-yet", 3, 0, v1, 0, &err), &err, 404, 40402);
    reg(f->r, "s-value", v1);
    out = registry_check(f->r, "s-value", 1, 0, v2_no_default, 1, &err);
    assert_true(json_is_false(json_object_get(out, "is_compatible")));
    assert_int_equal(json_array_size(json_object_get(out, "messages")), 1);
    json_decref(out);
    out = registry_check(f->r, "s-value", -1, 1, v2, 0, &err);
    assert_true(json_is_true(json_object_get(out, "is_compatible")));
    json_decref(out);
    expect_error(registry_check(f->r, "s-value", -1, 0, "[\"int\",\"int\"]", 0, &err), &err, 422,
                 42201);
}

static void test_replay_skips_malformed_and_foreign_records(void **state)
{
    struct fixture *f = *state;
    int64_t off;
    char err[256];
    f->log.append(f->log.ctx, "not json", "{}", &off, err, sizeof err);
    f->log.append(f->log.ctx, "{\"keytype\":\"NOOP\",\"magic\":0}", NULL, &off, err, sizeof err);
    f->log.append(f->log.ctx,
                  "{\"keytype\":\"SCHEMA\",\"subject\":\"j\",\"version\":1,\"magic\":1}",
                  "{\"subject\":\"j\",\"version\":1,\"id\":40,\"schemaType\":\"JSON\",\"schema\":"
                  "\"{}\"}",
                  &off, err, sizeof err);
    f->log.append(f->log.ctx,
                  "{\"keytype\":\"SCHEMA\",\"subject\":\"k\",\"version\":1,\"magic\":1}",
                  "{\"subject\":\"k\",\"version\":1,\"id\":7,\"schema\":\"\\\"int\\\"\"}", &off,
                  err, sizeof err);
    close_registry(f);
    f->r = open_registry(f);
    struct registry_error e;
    json_t *s = registry_schema_by_id(f->r, 7, &e);
    assert_string_equal(json_string_value(json_object_get(s, "schema")), "\"int\"");
    json_decref(s);
    assert_true(reg(f->r, "m-value", "\"double\"") > 40); /* the JSON schema's id stays taken */
}

struct writer_arg {
    struct registry *r;
    int thread;
    int ids[20];
};

static void *writer(void *p)
{
    struct writer_arg *w = p;
    for (int i = 0; i < 20; i++) {
        char subject[32], schema[160];
        snprintf(subject, sizeof subject, "t%d-value", w->thread % 3);
        snprintf(schema, sizeof schema, "{\"type\":\"record\",\"name\":\"R%d_%d\",\"fields\":[]}",
                 w->thread, i);
        struct registry_error err;
        json_t *out = registry_register(w->r, subject, schema, &err);
        w->ids[i] = out ? (int)json_integer_value(json_object_get(out, "id")) : -err.code;
        json_decref(out);
    }
    return NULL;
}

static void test_concurrent_writers_get_distinct_ids(void **state)
{
    struct fixture *f = *state;
    struct registry_error err;
    json_decref(registry_set_config(f->r, NULL, "NONE", &err));
    pthread_t th[8];
    struct writer_arg args[8];
    for (int t = 0; t < 8; t++) {
        args[t] = (struct writer_arg){f->r, t, {0}};
        pthread_create(&th[t], NULL, writer, &args[t]);
    }
    for (int t = 0; t < 8; t++)
        pthread_join(th[t], NULL);
    char seen[200] = {0};
    for (int t = 0; t < 8; t++) {
        for (int i = 0; i < 20; i++) {
            int id = args[t].ids[i];
            assert_true(id > 0 && id <= 160);
            assert_int_equal(seen[id], 0);
            seen[id] = 1;
            json_t *s = registry_schema_by_id(f->r, id, &err);
            assert_non_null(s);
            json_decref(s);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_same_schema_gets_same_id_and_one_version, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ids_are_global_and_shared_across_subjects, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_incompatible_schema_is_409_and_writes_nothing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_restart_replays_ids_versions_and_configs, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_soft_delete_hides_versions_but_keeps_ids, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_delete_version_soft_deletes_one, setup, teardown),
        cmocka_unit_test_setup_teardown(test_failed_write_is_500_and_its_id_is_never_reused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_lookup_finds_registered_schema_or_says_why_not, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_config_levels_and_their_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_compatibility_check_endpoint_semantics, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_replay_skips_malformed_and_foreign_records, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_concurrent_writers_get_distinct_ids, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
