/* Unit tests of transformer/flat_schema: the flat schema derived from envelope writer schemas
 * (tests/fixtures/envelope), with types and logical types kept and the metadata fields added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "flat_schema.h"
#include "xalloc.h"

static char *fixture(const char *name)
{
    char path[512];
    snprintf(path, sizeof path, "%s/envelope/%s", SALESCDC_FIXTURE_DIR, name);
    FILE *f = fopen(path, "r");
    if (!f)
        fail_msg("cannot read %s", path);
    char *text = xcalloc(1, 1 << 16);
    size_t n = fread(text, 1, (1 << 16) - 1, f);
    text[n] = '\0';
    fclose(f);
    return text;
}

static struct flat_schema *derive(const char *file, const struct columns_rules *rules)
{
    char err[512] = "";
    char *text = fixture(file);
    struct flat_schema *fs = flat_schema_derive(text, rules, err, sizeof err);
    free(text);
    if (!fs)
        fail_msg("derive %s: %s", file, err);
    return fs;
}

static const char meta_fields[] =
    "{\"name\":\"__op\",\"type\":\"string\"},"
    "{\"name\":\"__lsn\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"__txid\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"__source_ts_ms\",\"type\":\"long\"},"
    "{\"name\":\"__table\",\"type\":\"string\"},"
    "{\"name\":\"__deleted\",\"type\":\"boolean\"}]}";

static void test_connector_envelope_gives_columns_with_types_then_metadata(void **state)
{
    (void)state;
    struct flat_schema *fs = derive("orders_value_v1.avsc", NULL);
    char *expected = xasprintf(
        "{\"type\":\"record\",\"name\":\"sales.public.orders.Value\",\"fields\":["
        "{\"name\":\"orderid\",\"type\":\"string\"},"
        "{\"name\":\"product_name\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"quantity\",\"type\":[\"null\",\"int\"],\"default\":null},"
        "{\"name\":\"price\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\","
        "\"precision\":10,\"scale\":2}],\"default\":null},"
        "{\"name\":\"customer_id\",\"type\":[\"null\",\"int\"],\"default\":null},"
        "{\"name\":\"status\",\"type\":[\"null\",\"string\"],\"default\":null},"
        "{\"name\":\"created_at\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":"
        "\"timestamp-micros\"}],\"default\":null},"
        "{\"name\":\"updated_at\",\"type\":[\"null\",{\"type\":\"long\",\"logicalType\":"
        "\"timestamp-micros\"}],\"default\":null},%s",
        meta_fields);
    assert_string_equal(fs->text, expected);
    assert_string_equal(fs->row_name, "sales.public.orders.Value");
    assert_int_equal(fs->n_columns, 8);
    assert_int_equal(fs->column_src[7], 7);
    assert_int_equal(fs->env.before, 0);
    assert_int_equal(fs->env.after, 1);
    assert_int_equal(fs->env.source, 2);
    assert_int_equal(fs->env.op, 3);
    assert_int_equal(fs->env.src_lsn, 8);
    free(expected);
    flat_schema_destroy(fs);
}

static void test_new_column_upstream_gives_a_wider_flat_schema(void **state)
{
    (void)state;
    struct flat_schema *v1 = derive("orders_value_v1.avsc", NULL);
    struct flat_schema *v2 = derive("orders_value_v2.avsc", NULL);
    assert_int_equal(v2->n_columns, v1->n_columns + 1);
    assert_non_null(strstr(v2->text,
                           "{\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null},"
                           "{\"name\":\"__op\""));
    assert_string_equal(v1->row_name, v2->row_name);
    flat_schema_destroy(v1);
    flat_schema_destroy(v2);
}

static void test_debezium_envelope_keeps_attributes_and_resolves_short_names(void **state)
{
    (void)state;
    struct flat_schema *fs = derive("debezium_customers_value.avsc", NULL);
    assert_string_equal(fs->row_name, "dbserver1.inventory.customers.Value");
    assert_int_equal(fs->n_columns, 12);
    assert_int_equal(fs->env.src_txid, 9);
    assert_int_equal(fs->env.src_lsn, 10);
    assert_non_null(strstr(fs->text, "{\"type\":\"bytes\",\"scale\":4,\"precision\":12,"
                                     "\"connect.version\":1,\"connect.parameters\":"));
    assert_non_null(strstr(fs->text, "\"logicalType\":\"uuid\""));
    /* the enum is written with its full name, so it means the same in the flat record */
    assert_non_null(strstr(fs->text, "{\"type\":\"enum\",\"name\":"
                                     "\"dbserver1.inventory.customers.tier\",\"symbols\":"));
    flat_schema_destroy(fs);
}

static void test_rules_select_and_rename_columns(void **state)
{
    (void)state;
    char err[256];
    struct columns_rules *r =
        columns_rules_new(NULL, "customer_id,status,created_at",
                          "orderid:order_id,price:unit_price", err, sizeof err);
    struct flat_schema *fs = derive("orders_value_v1.avsc", r);
    assert_int_equal(fs->n_columns, 5);
    int expected_src[] = {0, 1, 2, 3, 7};
    for (int i = 0; i < 5; i++)
        assert_int_equal(fs->column_src[i], expected_src[i]);
    assert_non_null(strstr(fs->text, "[{\"name\":\"order_id\",\"type\":\"string\"},"));
    assert_non_null(strstr(fs->text, "{\"name\":\"unit_price\",\"type\":[\"null\",{\"type\":"
                                     "\"bytes\",\"logicalType\":\"decimal\""));
    assert_null(strstr(fs->text, "customer_id"));
    flat_schema_destroy(fs);
    columns_rules_destroy(r);
}

/* An envelope around a row record with FIELDS (JSON text). */
static char *envelope(const char *fields)
{
    return xasprintf(
        "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"t.s.x\",\"fields\":["
        "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\","
        "\"fields\":[%s]}]},"
        "{\"name\":\"after\",\"type\":[\"null\",\"Value\"]},"
        "{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":\"Source\",\"namespace\":"
        "\"src\",\"fields\":[{\"name\":\"ts_ms\",\"type\":\"long\"},{\"name\":\"table\","
        "\"type\":\"string\"}]}},"
        "{\"name\":\"op\",\"type\":\"string\"}]}",
        fields);
}

static void test_named_type_of_a_dropped_column_is_defined_where_next_used(void **state)
{
    (void)state;
    char err[256];
    char *text = envelope("{\"name\":\"a\",\"type\":{\"type\":\"enum\",\"name\":\"E\","
                          "\"symbols\":[\"X\",\"Y\"]}},{\"name\":\"b\",\"type\":[\"null\",\"E\"]},"
                          "{\"name\":\"c\",\"type\":\"E\"}");
    struct columns_rules *r = columns_rules_new(NULL, "a", NULL, err, sizeof err);
    struct flat_schema *fs = flat_schema_derive(text, r, err, sizeof err);
    assert_non_null(fs);
    assert_non_null(strstr(fs->text, "{\"name\":\"b\",\"type\":[\"null\",{\"type\":\"enum\","
                                     "\"name\":\"t.s.x.E\",\"symbols\":[\"X\",\"Y\"]}]},"
                                     "{\"name\":\"c\",\"type\":\"t.s.x.E\"}"));
    assert_int_equal(fs->env.src_txid, -1);
    assert_int_equal(fs->env.before, 0);
    flat_schema_destroy(fs);
    columns_rules_destroy(r);
    free(text);
}

static void expect_refused(const char *schema, const struct columns_rules *rules,
                           const char *message)
{
    char err[512] = "";
    struct flat_schema *fs = flat_schema_derive(schema, rules, err, sizeof err);
    flat_schema_destroy(fs);
    assert_null(fs);
    if (!strstr(err, message))
        fail_msg("error '%s' lacks '%s'", err, message);
}

static void test_schemas_that_are_not_envelopes_are_refused_with_the_reason(void **state)
{
    (void)state;
    char err[256];
    expect_refused("{\"type\":", NULL, "writer schema is not JSON");
    expect_refused("\"string\"", NULL, "writer schema is not a record");
    expect_refused("{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\","
                   "\"type\":\"int\"}]}",
                   NULL, "writer schema has no field 'after': not a CDC envelope");
    char *text = envelope("{\"name\":\"id\",\"type\":\"int\"}");
    char *bad_op = xstrdup(text);
    strcpy(strstr(bad_op, "{\"name\":\"op\",\"type\":\"string\"}"),
           "{\"name\":\"op\",\"type\":\"int\"}]}");
    expect_refused(bad_op, NULL, "envelope field op is not a string");
    struct columns_rules *clash = columns_rules_new(NULL, NULL, "id:other", err, sizeof err);
    char *two =
        envelope("{\"name\":\"id\",\"type\":\"int\"},{\"name\":\"other\",\"type\":\"int\"}");
    expect_refused(two, clash, "column other of t.s.x.Value would be named other");
    char *meta = envelope("{\"name\":\"__op\",\"type\":\"int\"}");
    expect_refused(meta, NULL, "column __op of t.s.x.Value would be named __op");
    char *not_null = xstrdup(text);
    memcpy(strstr(not_null, "[\"null\",\"Value\"]"), "[\"Value\",\"int\"] ", 16);
    expect_refused(not_null, NULL, "envelope field after is not a union of null and a row record");
    columns_rules_destroy(clash);
    free(text);
    free(bad_op);
    free(two);
    free(meta);
    free(not_null);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_connector_envelope_gives_columns_with_types_then_metadata),
        cmocka_unit_test(test_new_column_upstream_gives_a_wider_flat_schema),
        cmocka_unit_test(test_debezium_envelope_keeps_attributes_and_resolves_short_names),
        cmocka_unit_test(test_rules_select_and_rename_columns),
        cmocka_unit_test(test_named_type_of_a_dropped_column_is_defined_where_next_used),
        cmocka_unit_test(test_schemas_that_are_not_envelopes_are_refused_with_the_reason),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
