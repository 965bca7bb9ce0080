/* Unit tests of the connector's option parsing that needs no server: --tables and LSN text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pgcatalog.h"

static void test_tables_default_to_public_and_trim(void **state)
{
    (void)state;
    struct pgcatalog_table *t;
    char err[256];
    int n = pgcatalog_parse_tables("public.orders, products ,sales.customers", &t, err, sizeof err);
    assert_int_equal(n, 3);
    assert_string_equal(t[0].schema, "public");
    assert_string_equal(t[0].name, "orders");
    assert_string_equal(t[1].schema, "public");
    assert_string_equal(t[1].name, "products");
    assert_string_equal(t[2].schema, "sales");
    assert_string_equal(t[2].name, "customers");
    pgcatalog_tables_free(t, n);
}

static void test_bad_table_names_are_named(void **state)
{
    (void)state;
    struct pgcatalog_table *t;
    char err[256];
    assert_int_equal(pgcatalog_parse_tables("orders,a.b.c", &t, err, sizeof err), -1);
    assert_string_equal(err, "option tables: 'a.b.c' is not a table name (schema.table or table). "
                             "Try --help");
    assert_null(t);
    assert_int_equal(pgcatalog_parse_tables("orders,,x", &t, err, sizeof err), -1);
    assert_int_equal(pgcatalog_parse_tables(".x", &t, err, sizeof err), -1);
}

static void test_lsn_text(void **state)
{
    (void)state;
    uint64_t lsn = 0;
    assert_int_equal(pgcatalog_parse_lsn("0/E9296AF8", &lsn), 0);
    assert_true(lsn == 0xE9296AF8ULL);
    assert_int_equal(pgcatalog_parse_lsn("1A/0", &lsn), 0);
    assert_true(lsn == 0x1A00000000ULL);
    assert_int_equal(pgcatalog_parse_lsn("0/1x", &lsn), -1);
    assert_int_equal(pgcatalog_parse_lsn(NULL, &lsn), -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tables_default_to_public_and_trim),
        cmocka_unit_test(test_bad_table_names_are_named),
        cmocka_unit_test(test_lsn_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
