/* Unit tests of transformer/columns: include/exclude/rename rules (like ReplaceField). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "columns.h"

static void test_no_rules_keep_every_column_unchanged(void **state)
{
    (void)state;
    char err[256];
    struct columns_rules *r = columns_rules_new("", NULL, " ", err, sizeof err);
    assert_non_null(r);
    assert_string_equal(columns_rules_apply(r, "price"), "price");
    assert_string_equal(columns_rules_apply(NULL, "price"), "price");
    columns_rules_destroy(r);
}

static void test_include_keeps_only_listed_and_exclude_drops(void **state)
{
    (void)state;
    char err[256];
    struct columns_rules *r =
        columns_rules_new(" orderid, price ,status", "status", NULL, err, sizeof err);
    assert_non_null(r);
    assert_string_equal(columns_rules_apply(r, "orderid"), "orderid");
    assert_string_equal(columns_rules_apply(r, "price"), "price");
    assert_null(columns_rules_apply(r, "status"));   /* excluded wins over included */
    assert_null(columns_rules_apply(r, "quantity")); /* not included */
    columns_rules_destroy(r);
}

static void test_rename_maps_old_to_new(void **state)
{
    (void)state;
    char err[256];
    struct columns_rules *r = columns_rules_new(
        NULL, "customer_id", "orderid:order_id, product_name:product", err, sizeof err);
    assert_non_null(r);
    assert_string_equal(columns_rules_apply(r, "orderid"), "order_id");
    assert_string_equal(columns_rules_apply(r, "product_name"), "product");
    assert_string_equal(columns_rules_apply(r, "price"), "price");
    assert_null(columns_rules_apply(r, "customer_id"));
    columns_rules_destroy(r);
}

static void expect_error(const char *include, const char *exclude, const char *rename,
                         const char *message)
{
    char err[256] = "";
    assert_null(columns_rules_new(include, exclude, rename, err, sizeof err));
    if (!strstr(err, message))
        fail_msg("error '%s' lacks '%s'", err, message);
}

static void test_bad_rules_are_refused_naming_the_option(void **state)
{
    (void)state;
    expect_error("a,,b", NULL, NULL, "option columns.include: empty column name");
    expect_error(NULL, "a, ,b", NULL, "option columns.exclude: empty column name");
    expect_error(NULL, NULL, "a", "option columns.rename: 'a' is not old:new");
    expect_error(NULL, NULL, "a:", "option columns.rename: 'a:' is not old:new");
    expect_error(NULL, NULL, "a:1x", "new name '1x' is not a valid Avro name");
    expect_error(NULL, NULL, "a:__op", "new name '__op'");
    expect_error(NULL, NULL, "a:x,b:x", "appears twice");
    expect_error(NULL, NULL, "a:x,a:y", "appears twice");
}

static void test_valid_avro_names(void **state)
{
    (void)state;
    assert_true(columns_valid_name("_a1"));
    assert_true(columns_valid_name("Order"));
    assert_false(columns_valid_name("1a"));
    assert_false(columns_valid_name("a-b"));
    assert_false(columns_valid_name(""));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_no_rules_keep_every_column_unchanged),
        cmocka_unit_test(test_include_keeps_only_listed_and_exclude_drops),
        cmocka_unit_test(test_rename_maps_old_to_new),
        cmocka_unit_test(test_bad_rules_are_refused_naming_the_option),
        cmocka_unit_test(test_valid_avro_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
