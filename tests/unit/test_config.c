/* Unit tests of common/config.c: precedence, validation, passthrough, help and dump. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"

static const struct config_option options[] = {
    {"pg.conninfo", CONFIG_STRING, NULL, 0, 0, 1, "PostgreSQL connection"},
    {"batch.size", CONFIG_INT, "100", 1, 1000, 0, "rows per transaction"},
    {"tombstones", CONFIG_BOOL, "true", 0, 0, 0, "emit tombstones"},
    {"s3.secret", CONFIG_SECRET, NULL, 0, 0, 0, "S3 secret key"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

struct fixture {
    struct config *cfg;
    char err[1024];
    char path[64];
};

/* The tests run beside the local stack's SALESCDC_* settings: start each from none. */
static void clear_salescdc_env(void)
{
    extern char **environ;
    char name[256];
    for (size_t i = 0; environ[i];) {
        size_t n = strcspn(environ[i], "=");
        if (strncmp(environ[i], "SALESCDC_", 9) == 0 && n < sizeof name) {
            snprintf(name, sizeof name, "%.*s", (int)n, environ[i]);
            unsetenv(name);
            continue; /* environ shifted down */
        }
        i++;
    }
}

static int setup(void **state)
{
    struct fixture *f = calloc(1, sizeof *f);
    f->cfg = config_new("prog", "A test program.", options, "kafka.");
    strcpy(f->path, "/tmp/salescdc-config-test-XXXXXX");
    int fd = mkstemp(f->path);
    close(fd);
    clear_salescdc_env();
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    config_destroy(f->cfg);
    unlink(f->path);
    free(f);
    return 0;
}

static void write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
}

static enum config_result parse(struct fixture *f, int argc, char **argv)
{
    FILE *out = fopen("/dev/null", "w");
    enum config_result r = config_parse(f->cfg, argc, argv, out, f->err, sizeof f->err);
    fclose(out);
    return r;
}

static void test_defaults_apply_when_nothing_given(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--pg.conninfo", "host=x"};
    assert_int_equal(parse(f, 3, argv), CONFIG_OK);
    assert_int_equal(config_get_int(f->cfg, "batch.size"), 100);
    assert_true(config_get_bool(f->cfg, "tombstones"));
    assert_null(config_get(f->cfg, "s3.secret"));
}

static void test_flags_override_env_override_file(void **state)
{
    struct fixture *f = *state;
    write_file(f->path, "# comment\npg.conninfo = host=file\nbatch.size=7\ntombstones=false\n");
    setenv("SALESCDC_BATCH_SIZE", "8", 1);
    char *argv[] = {"prog", "--config", f->path, "--batch.size=9"};
    assert_int_equal(parse(f, 4, argv), CONFIG_OK);
    assert_string_equal(config_get(f->cfg, "pg.conninfo"), "host=file");
    assert_int_equal(config_get_int(f->cfg, "batch.size"), 9);
    assert_false(config_get_bool(f->cfg, "tombstones"));
}

static void test_env_overrides_file(void **state)
{
    struct fixture *f = *state;
    write_file(f->path, "pg.conninfo=a\nbatch.size=7\n");
    setenv("SALESCDC_BATCH_SIZE", "8", 1);
    char *argv[] = {"prog", "--config", f->path};
    assert_int_equal(parse(f, 3, argv), CONFIG_OK);
    assert_int_equal(config_get_int(f->cfg, "batch.size"), 8);
}

static void test_missing_required_names_key_and_env(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog"};
    assert_int_equal(parse(f, 1, argv), CONFIG_ERROR);
    assert_non_null(strstr(f->err, "--pg.conninfo"));
    assert_non_null(strstr(f->err, "SALESCDC_PG_CONNINFO"));
    assert_non_null(strstr(f->err, "Try --help"));
}

static void test_int_out_of_range_is_rejected(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--pg.conninfo=x", "--batch.size", "5000"};
    assert_int_equal(parse(f, 4, argv), CONFIG_ERROR);
    assert_non_null(strstr(f->err, "batch.size: 5000 is outside [1, 1000]"));
}

static void test_int_garbage_is_rejected(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--pg.conninfo=x", "--batch.size=12abc"};
    assert_int_equal(parse(f, 3, argv), CONFIG_ERROR);
    assert_non_null(strstr(f->err, "'12abc' is not an integer"));
}

static void test_bool_flag_without_value_means_true(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--tombstones", "--pg.conninfo=x"};
    assert_int_equal(parse(f, 3, argv), CONFIG_OK);
    assert_true(config_get_bool(f->cfg, "tombstones"));
    char *argv2[] = {"prog", "--tombstones", "off", "--pg.conninfo=x"};
    assert_int_equal(parse(f, 4, argv2), CONFIG_OK);
    assert_false(config_get_bool(f->cfg, "tombstones"));
}

static void test_unknown_key_in_file_names_file_and_line(void **state)
{
    struct fixture *f = *state;
    write_file(f->path, "pg.conninfo=a\n\nbogus.key=1\n");
    char *argv[] = {"prog", "--config", f->path};
    assert_int_equal(parse(f, 3, argv), CONFIG_ERROR);
    assert_non_null(strstr(f->err, "line 3: unknown option 'bogus.key'"));
}

static void test_secret_never_echoed_in_errors_or_dump(void **state)
{
    struct fixture *f = *state;
    char *argv[] = {"prog", "--pg.conninfo=x", "--s3.secret=hunter2", "--kafka.sasl.password=pw9"};
    assert_int_equal(parse(f, 4, argv), CONFIG_OK);
    char buf[4096] = {0};
    FILE *mem = fmemopen(buf, sizeof buf - 1, "w");
    config_dump(f->cfg, mem);
    fclose(mem);
    assert_null(strstr(buf, "hunter2"));
    assert_null(strstr(buf, "pw9"));
    assert_non_null(strstr(buf, "s3.secret=******"));
    assert_non_null(strstr(buf, "batch.size=100"));
}

static int collect(const char *key, const char *value, void *arg)
{
    char *out = arg;
    strcat(out, key);
    strcat(out, "=");
    strcat(out, value);
    strcat(out, ";");
    return 0;
}

static void test_passthrough_from_flags_and_env(void **state)
{
    struct fixture *f = *state;
    setenv("SALESCDC_KAFKA__LINGER_MS", "5", 1);
    setenv("SALESCDC_KAFKA_PORT", "59092", 1); /* a local-stack setting, not a property */
    char *argv[] = {"prog", "--pg.conninfo=x", "--kafka.bootstrap.servers=h:1"};
    assert_int_equal(parse(f, 3, argv), CONFIG_OK);
    char seen[256] = {0};
    config_each_passthrough(f->cfg, collect, seen);
    assert_non_null(strstr(seen, "linger.ms=5;"));
    assert_non_null(strstr(seen, "bootstrap.servers=h:1;"));
    assert_null(strstr(seen, "port="));
}

static void test_help_lists_every_option(void **state)
{
    struct fixture *f = *state;
    char buf[8192] = {0};
    FILE *mem = fmemopen(buf, sizeof buf - 1, "w");
    config_print_help(f->cfg, mem);
    fclose(mem);
    for (const struct config_option *o = options; o->name; o++)
        assert_non_null(strstr(buf, o->name));
    assert_non_null(strstr(buf, "SALESCDC_BATCH_SIZE; range 1..1000; default 100"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_defaults_apply_when_nothing_given, setup, teardown),
        cmocka_unit_test_setup_teardown(test_flags_override_env_override_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_env_overrides_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_missing_required_names_key_and_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_out_of_range_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_int_garbage_is_rejected, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bool_flag_without_value_means_true, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unknown_key_in_file_names_file_and_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_secret_never_echoed_in_errors_or_dump, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_passthrough_from_flags_and_env, setup, teardown),
        cmocka_unit_test_setup_teardown(test_help_lists_every_option, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
