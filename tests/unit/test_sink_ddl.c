/* Unit tests of the S3 sink's Trino statements: change table, columns, view, partitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ddl.h"

static const char ORDERS[] =
    "{\"type\":\"record\",\"name\":\"orders\",\"fields\":["
    "{\"name\":\"orderid\",\"type\":\"string\"},"
    "{\"name\":\"quantity\",\"type\":[\"null\",\"int\"]},"
    "{\"name\":\"price\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\","
    "\"precision\":10,\"scale\":2}]},"
    "{\"name\":\"created_at\",\"type\":[\"null\",{\"type\":\"long\","
    "\"logicalType\":\"timestamp-micros\"}]},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"odd\",\"type\":[\"int\",\"string\"]},"
    "{\"name\":\"__op\",\"type\":\"string\"},"
    "{\"name\":\"__lsn\",\"type\":[\"null\",\"long\"]},"
    "{\"name\":\"__source_ts_ms\",\"type\":\"long\"},"
    "{\"name\":\"__deleted\",\"type\":\"boolean\"}]}";

static char *key_fields[] = {"orderid"};

static struct sink_avro_schema *schema;

static int setup(void **state)
{
    (void)state;
    char err[256];
    schema = sink_avro_schema_parse(ORDERS, err, sizeof err);
    return schema ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    sink_avro_schema_destroy(schema);
    return 0;
}

static struct sink_table_def def(enum sink_format format, enum sink_partition_mode mode)
{
    struct sink_table_def d = {
        "hive",     "sales",      "t_orders_changes", "t_orders", "s3://b/p/orders/", format, mode,
        "quantity", schema->root, key_fields,         1};
    return d;
}

static void create_table_json_time_partitioned(void **state)
{
    (void)state;
    struct sink_table_def d = def(SINK_FORMAT_JSON, SINK_PARTITION_TIME);
    char *sql = sink_ddl_create_table(&d);
    assert_string_equal(
        sql, "CREATE TABLE IF NOT EXISTS \"hive\".\"sales\".\"t_orders_changes\" ("
             "\"orderid\" varchar, \"quantity\" integer, \"price\" decimal(10,2), "
             "\"created_at\" timestamp(3), \"tags\" array(varchar), \"__op\" varchar, "
             "\"__lsn\" bigint, \"__source_ts_ms\" bigint, \"__deleted\" boolean, "
             "\"dt\" varchar, \"hour\" varchar) WITH (format = 'JSON', external_location = "
             "'s3://b/p/orders/', partitioned_by = ARRAY['dt', 'hour'])");
    free(sql);
}

static void create_table_avro_column_partitioned(void **state)
{
    (void)state;
    struct sink_table_def d = def(SINK_FORMAT_AVRO, SINK_PARTITION_COLUMN);
    char *sql = sink_ddl_create_table(&d);
    assert_string_equal(sql,
                        "CREATE TABLE IF NOT EXISTS \"hive\".\"sales\".\"t_orders_changes\" ("
                        "\"orderid\" varchar, \"price\" decimal(10,2), \"created_at\" bigint, "
                        "\"tags\" array(varchar), \"__op\" varchar, \"__lsn\" bigint, "
                        "\"__source_ts_ms\" bigint, \"__deleted\" boolean, \"quantity\" varchar) "
                        "WITH (format = 'AVRO', external_location = 's3://b/p/orders/', "
                        "partitioned_by = ARRAY['quantity'])");
    free(sql);
}

static void add_column_and_show_columns(void **state)
{
    (void)state;
    struct sink_table_def d = def(SINK_FORMAT_JSON, SINK_PARTITION_NONE);
    char *sql = sink_ddl_add_column(&d, 2);
    assert_string_equal(sql, "ALTER TABLE \"hive\".\"sales\".\"t_orders_changes\" ADD COLUMN IF "
                             "NOT EXISTS \"price\" decimal(10,2)");
    free(sql);
    assert_null(sink_ddl_add_column(&d, 5)); /* a union of int and string: left out */
    sql = sink_ddl_show_columns(&d);
    assert_string_equal(sql, "SHOW COLUMNS FROM \"hive\".\"sales\".\"t_orders_changes\"");
    free(sql);
}

static void view_latest_change_per_key_without_deletes(void **state)
{
    (void)state;
    struct sink_table_def d = def(SINK_FORMAT_JSON, SINK_PARTITION_TIME);
    char err[256];
    char *sql = sink_ddl_view(&d, err, sizeof err);
    assert_string_equal(
        sql, "CREATE OR REPLACE VIEW \"hive\".\"sales\".\"t_orders\" AS SELECT "
             "\"orderid\" AS \"orderid\", \"quantity\" AS \"quantity\", \"price\" AS \"price\", "
             "\"created_at\" AS \"created_at\", \"tags\" AS \"tags\" FROM (SELECT *, "
             "row_number() OVER (PARTITION BY \"orderid\" ORDER BY \"__lsn\" DESC, "
             "\"__source_ts_ms\" DESC) AS \"__salescdc_rank\" FROM "
             "\"hive\".\"sales\".\"t_orders_changes\") WHERE \"__salescdc_rank\" = 1 AND NOT "
             "coalesce(\"__deleted\", \"__op\" = 'd')");
    free(sql);
}

static void view_converts_avro_micros_and_casts_partition_column(void **state)
{
    (void)state;
    struct sink_table_def d = def(SINK_FORMAT_AVRO, SINK_PARTITION_COLUMN);
    char err[256];
    char *sql = sink_ddl_view(&d, err, sizeof err);
    assert_non_null(strstr(sql, "CAST(\"quantity\" AS integer) AS \"quantity\""));
    assert_non_null(strstr(sql, "CAST(from_unixtime_nanos(\"created_at\" * 1000) AT TIME ZONE "
                                "'UTC' AS timestamp(6)) AS \"created_at\""));
    free(sql);
    d.n_key_fields = 0;
    assert_null(sink_ddl_view(&d, err, sizeof err));
    assert_non_null(strstr(err, "primary key"));
}

static void partition_procedures(void **state)
{
    (void)state;
    struct sink_table_def d = def(SINK_FORMAT_JSON, SINK_PARTITION_TIME);
    char *sql = sink_ddl_register_partition(&d, "dt=2024-01-02/hour=03");
    assert_string_equal(sql, "CALL \"hive\".system.register_partition(schema_name => 'sales', "
                             "table_name => 't_orders_changes', partition_columns => "
                             "ARRAY['dt', 'hour'], partition_values => ARRAY['2024-01-02', "
                             "'03'])");
    free(sql);
    sql = sink_ddl_register_partition(&d, "name=O%27Brien");
    assert_non_null(strstr(sql, "ARRAY['O''Brien']"));
    free(sql);
    sql = sink_ddl_sync_partitions(&d);
    assert_string_equal(sql, "CALL \"hive\".system.sync_partition_metadata(schema_name => "
                             "'sales', table_name => 't_orders_changes', mode => 'ADD')");
    free(sql);
}

static void quoting_doubles_quotes(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT;
    sink_ddl_quote(&sb, "a\"b");
    assert_string_equal(sb.data, "\"a\"\"b\"");
    strbuf_release(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(create_table_json_time_partitioned),
        cmocka_unit_test(create_table_avro_column_partitioned),
        cmocka_unit_test(add_column_and_show_columns),
        cmocka_unit_test(view_latest_change_per_key_without_deletes),
        cmocka_unit_test(view_converts_avro_micros_and_casts_partition_column),
        cmocka_unit_test(partition_procedures),
        cmocka_unit_test(quoting_doubles_quotes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
