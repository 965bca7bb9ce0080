/* Unit tests of connector/options.c: defaults, snapshot modes, and errors that name the option. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "config.h"
#include "options.h"

/* Parses ARGV (NULL-terminated, without the program name) into O; returns the load result. */
static int load(const char *const *argv, struct config **cfg, struct connector_options *o,
                char *err, size_t err_size)
{
    char *args[32] = {"salescdc-connector"};
    int argc = 1;
    for (; argv[argc - 1]; argc++)
        args[argc] = (char *)argv[argc - 1];
    *cfg = config_new(CONNECTOR_PROGRAM, connector_summary, connector_option_table, "kafka.");
    FILE *out = fopen("/dev/null", "w");
    enum config_result r = config_parse(*cfg, argc, args, out, err, err_size);
    fclose(out);
    assert_int_equal(r, CONFIG_OK);
    return connector_options_load(*cfg, o, err, err_size);
}

static int setup(void **state)
{
    (void)state;
    /* settings inherited from the stack's environment must not leak into these tests */
    unsetenv("SALESCDC_SNAPSHOT_MODE");
    unsetenv("SALESCDC_NAME");
    unsetenv("SALESCDC_SLOT");
    return 0;
}

static void test_defaults(void **state)
{
    (void)state;
    struct config *cfg;
    struct connector_options o;
    char err[256];
    const char *argv[] = {"--slot", "s1", NULL};
    assert_int_equal(load(argv, &cfg, &o, err, sizeof err), 0);
    assert_string_equal(o.name, "s1"); /* the connector is named after its slot */
    assert_int_equal(o.snapshot_mode, CONNECTOR_SNAPSHOT_INITIAL);
    assert_true(o.exactly_once);
    assert_string_equal(o.offsets_topic, "_salescdc_connector_offsets");
    assert_int_equal(o.heartbeat_interval_ms, 10000);
    assert_int_equal(o.snapshot_txn_max_records, 0);
    assert_true(o.streaming);
    assert_string_equal(o.spool_dir, "");
    assert_true(o.numeric_special_null);
    assert_true(o.truncate_events);
    config_destroy(cfg);
}

static void test_bad_numeric_special_names_the_option(void **state)
{
    (void)state;
    struct config *cfg;
    struct connector_options o;
    char err[256];
    const char *argv[] = {"--numeric.special", "zero", NULL};
    assert_int_equal(load(argv, &cfg, &o, err, sizeof err), -1);
    assert_string_equal(err, "option numeric.special: 'zero' is not one of null, fail");
    config_destroy(cfg);
    const char *fail[] = {"--numeric.special", "fail", "--streaming", "false", NULL};
    assert_int_equal(load(fail, &cfg, &o, err, sizeof err), 0);
    assert_false(o.numeric_special_null);
    assert_false(o.streaming);
    config_destroy(cfg);
}

static void test_snapshot_modes(void **state)
{
    (void)state;
    const char *modes[] = {"initial", "never", "always", "initial_only"};
    for (int i = 0; i < 4; i++) {
        struct config *cfg;
        struct connector_options o;
        char err[256];
        const char *argv[] = {"--snapshot.mode", modes[i], "--name", "n", NULL};
        assert_int_equal(load(argv, &cfg, &o, err, sizeof err), 0);
        assert_int_equal(o.snapshot_mode, i);
        assert_string_equal(connector_snapshot_mode_name(o.snapshot_mode), modes[i]);
        assert_string_equal(o.name, "n");
        config_destroy(cfg);
    }
}

static void test_bad_snapshot_mode_names_the_option(void **state)
{
    (void)state;
    struct config *cfg;
    struct connector_options o;
    char err[256];
    const char *argv[] = {"--snapshot.mode", "sometimes", NULL};
    assert_int_equal(load(argv, &cfg, &o, err, sizeof err), -1);
    assert_string_equal(err, "option snapshot.mode: 'sometimes' is not one of initial, never, "
                             "always, initial_only");
    config_destroy(cfg);
}

static void test_backoff_max_is_at_least_the_first_wait(void **state)
{
    (void)state;
    struct config *cfg;
    struct connector_options o;
    char err[256];
    const char *argv[] = {"--retry.backoff.ms", "5000", "--retry.backoff.max.ms", "100", NULL};
    assert_int_equal(load(argv, &cfg, &o, err, sizeof err), 0);
    assert_int_equal(o.retry_backoff_max_ms, 5000);
    config_destroy(cfg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup(test_defaults, setup),
        cmocka_unit_test_setup(test_snapshot_modes, setup),
        cmocka_unit_test_setup(test_bad_snapshot_mode_names_the_option, setup),
        cmocka_unit_test_setup(test_bad_numeric_special_names_the_option, setup),
        cmocka_unit_test_setup(test_backoff_max_is_at_least_the_first_wait, setup),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
