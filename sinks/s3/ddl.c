/* Trino SQL text for the change table, its columns, the current-state view and partitions. */
#include "ddl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

void sink_ddl_quote(struct strbuf *out, const char *name)
{
    strbuf_append(out, "\"", 1);
    for (const char *p = name; *p; p++) {
        strbuf_append(out, p, 1);
        if (*p == '"')
            strbuf_append(out, "\"", 1);
    }
    strbuf_append(out, "\"", 1);
}

static void quote_literal(struct strbuf *out, const char *s)
{
    strbuf_append(out, "'", 1);
    for (const char *p = s; *p; p++) {
        strbuf_append(out, p, 1);
        if (*p == '\'')
            strbuf_append(out, "'", 1);
    }
    strbuf_append(out, "'", 1);
}

static void qualified(struct strbuf *out, const struct sink_table_def *d, const char *name)
{
    sink_ddl_quote(out, d->catalog);
    strbuf_append(out, ".", 1);
    sink_ddl_quote(out, d->schema);
    strbuf_append(out, ".", 1);
    sink_ddl_quote(out, name);
}

static char *long_type(const struct sink_avro_type *t, enum sink_format format)
{
    switch (t->logical) {
    case SINK_LOGICAL_TIMESTAMP_MILLIS:
    case SINK_LOGICAL_LOCAL_TS_MILLIS: return xstrdup("timestamp(3)");
    case SINK_LOGICAL_TIMESTAMP_MICROS:
    case SINK_LOGICAL_LOCAL_TS_MICROS:
        return xstrdup(format == SINK_FORMAT_JSON ? "timestamp(3)" : "bigint");
    case SINK_LOGICAL_TIME_MICROS:
        return xstrdup(format == SINK_FORMAT_JSON ? "varchar" : "bigint");
    default: return xstrdup("bigint");
    }
}

static char *bytes_type(const struct sink_avro_type *t, enum sink_format format)
{
    if (t->logical == SINK_LOGICAL_DECIMAL && t->precision <= 38)
        return xasprintf("decimal(%d,%d)", t->precision, t->scale);
    if (t->logical == SINK_LOGICAL_DECIMAL && format == SINK_FORMAT_JSON)
        return xstrdup("varchar"); /* beyond Trino's 38 digits: exact text */
    return xstrdup("varbinary");
}

static char *row_type(const struct sink_avro_type *t, enum sink_format format)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "row(");
    for (size_t i = 0; i < t->n; i++) {
        char *ft = sink_ddl_column_type(t->children[i], format);
        if (!ft) {
            strbuf_release(&sb);
            return NULL;
        }
        if (i > 0)
            strbuf_puts(&sb, ", ");
        sink_ddl_quote(&sb, t->names[i]);
        strbuf_printf(&sb, " %s", ft);
        free(ft);
    }
    strbuf_puts(&sb, ")");
    return t->n ? strbuf_detach(&sb) : (strbuf_release(&sb), NULL);
}

char *sink_ddl_column_type(const struct sink_avro_type *t, enum sink_format format)
{
    t = sink_avro_unwrap_nullable(t, NULL);
    char *inner, *out;
    switch (t->kind) {
    case SINK_AVRO_BOOLEAN: return xstrdup("boolean");
    case SINK_AVRO_INT:
        if (t->logical == SINK_LOGICAL_DATE)
            return xstrdup("date");
        if (t->logical == SINK_LOGICAL_TIME_MILLIS && format == SINK_FORMAT_JSON)
            return xstrdup("varchar");
        return xstrdup("integer");
    case SINK_AVRO_LONG: return long_type(t, format);
    case SINK_AVRO_FLOAT: return xstrdup("real");
    case SINK_AVRO_DOUBLE: return xstrdup("double");
    case SINK_AVRO_BYTES:
    case SINK_AVRO_FIXED: return bytes_type(t, format);
    case SINK_AVRO_STRING:
    case SINK_AVRO_ENUM: return xstrdup("varchar");
    case SINK_AVRO_ARRAY:
    case SINK_AVRO_MAP:
        inner = sink_ddl_column_type(t->children[0], format);
        if (!inner)
            return NULL;
        out = t->kind == SINK_AVRO_ARRAY ? xasprintf("array(%s)", inner)
                                         : xasprintf("map(varchar, %s)", inner);
        free(inner);
        return out;
    case SINK_AVRO_RECORD: return row_type(t, format);
    default: return NULL; /* null alone, unions of several types */
    }
}

int sink_ddl_is_data_column(const struct sink_table_def *d, size_t index)
{
    if (d->partition_mode == SINK_PARTITION_COLUMN &&
        strcmp(d->value->names[index], d->partition_column) == 0)
        return 0;
    char *type = sink_ddl_column_type(d->value->children[index], d->format);
    free(type);
    return type != NULL;
}

static void partition_columns(struct strbuf *sb, const struct sink_table_def *d, int with_types)
{
    const char *sep = with_types ? " varchar" : "";
    if (d->partition_mode == SINK_PARTITION_TIME)
        strbuf_printf(sb, with_types ? ", \"dt\"%s, \"hour\"%s" : "'dt', 'hour'", sep, sep);
    else if (d->partition_mode == SINK_PARTITION_COLUMN && with_types) {
        strbuf_puts(sb, ", ");
        sink_ddl_quote(sb, d->partition_column);
        strbuf_puts(sb, sep);
    } else if (d->partition_mode == SINK_PARTITION_COLUMN) {
        quote_literal(sb, d->partition_column);
    }
}

char *sink_ddl_create_table(const struct sink_table_def *d)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "CREATE TABLE IF NOT EXISTS ");
    qualified(&sb, d, d->changes_name);
    strbuf_puts(&sb, " (");
    int first = 1;
    for (size_t i = 0; i < d->value->n; i++) {
        if (!sink_ddl_is_data_column(d, i))
            continue;
        char *type = sink_ddl_column_type(d->value->children[i], d->format);
        strbuf_puts(&sb, first ? "" : ", ");
        sink_ddl_quote(&sb, d->value->names[i]);
        strbuf_printf(&sb, " %s", type);
        free(type);
        first = 0;
    }
    partition_columns(&sb, d, 1);
    strbuf_printf(&sb, ") WITH (format = '%s', external_location = ",
                  d->format == SINK_FORMAT_JSON ? "JSON" : "AVRO");
    quote_literal(&sb, d->location);
    if (d->partition_mode != SINK_PARTITION_NONE) {
        strbuf_puts(&sb, ", partitioned_by = ARRAY[");
        partition_columns(&sb, d, 0);
        strbuf_puts(&sb, "]");
    }
    strbuf_puts(&sb, ")");
    return strbuf_detach(&sb);
}

char *sink_ddl_show_columns(const struct sink_table_def *d)
{
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "SHOW COLUMNS FROM ");
    qualified(&sb, d, d->changes_name);
    return strbuf_detach(&sb);
}

char *sink_ddl_add_column(const struct sink_table_def *d, size_t index)
{
    char *type = sink_ddl_column_type(d->value->children[index], d->format);
    if (!type)
        return NULL;
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "ALTER TABLE ");
    qualified(&sb, d, d->changes_name);
    strbuf_puts(&sb, " ADD COLUMN IF NOT EXISTS ");
    sink_ddl_quote(&sb, d->value->names[index]);
    strbuf_printf(&sb, " %s", type);
    free(type);
    return strbuf_detach(&sb);
}

static void partition_call(struct strbuf *sb, const struct sink_table_def *d, const char *proc)
{
    strbuf_puts(sb, "CALL ");
    sink_ddl_quote(sb, d->catalog);
    strbuf_printf(sb, ".system.%s(schema_name => ", proc);
    quote_literal(sb, d->schema);
    strbuf_puts(sb, ", table_name => ");
    quote_literal(sb, d->changes_name);
}

struct values_arg {
    struct strbuf *names, *values;
};

static void add_partition_value(const char *name, const char *value, void *arg)
{
    struct values_arg *a = arg;
    if (a->names->len > 0) {
        strbuf_puts(a->names, ", ");
        strbuf_puts(a->values, ", ");
    }
    quote_literal(a->names, name);
    quote_literal(a->values, value);
}

char *sink_ddl_register_partition(const struct sink_table_def *d, const char *path)
{
    struct strbuf sb = STRBUF_INIT, names = STRBUF_INIT, values = STRBUF_INIT;
    struct values_arg a = {&names, &values};
    sink_partition_each(path, add_partition_value, &a);
    partition_call(&sb, d, "register_partition");
    strbuf_printf(&sb, ", partition_columns => ARRAY[%s], partition_values => ARRAY[%s])",
                  names.data ? names.data : "", values.data ? values.data : "");
    strbuf_release(&names);
    strbuf_release(&values);
    return strbuf_detach(&sb);
}

char *sink_ddl_sync_partitions(const struct sink_table_def *d)
{
    struct strbuf sb = STRBUF_INIT;
    partition_call(&sb, d, "sync_partition_metadata");
    strbuf_puts(&sb, ", mode => 'ADD')");
    return strbuf_detach(&sb);
}

/* The view's expression for value field INDEX: the column itself, Avro µs timestamps turned
 * back into timestamp(6), the partition column (column mode, text in paths) cast back. */
static void view_column(struct strbuf *sb, const struct sink_table_def *d, size_t index)
{
    const struct sink_avro_type *t = sink_avro_unwrap_nullable(d->value->children[index], NULL);
    const char *name = d->value->names[index];
    int micros = t->kind == SINK_AVRO_LONG && (t->logical == SINK_LOGICAL_TIMESTAMP_MICROS ||
                                               t->logical == SINK_LOGICAL_LOCAL_TS_MICROS);
    char *type = sink_ddl_column_type(t, d->format);
    if (micros && d->format == SINK_FORMAT_AVRO) {
        strbuf_puts(sb, "CAST(from_unixtime_nanos(");
        sink_ddl_quote(sb, name);
        strbuf_puts(sb, " * 1000) AT TIME ZONE 'UTC' AS timestamp(6))");
    } else if (!sink_ddl_is_data_column(d, index) && strcmp(type, "varchar") != 0) {
        strbuf_puts(sb, "CAST(");
        sink_ddl_quote(sb, name);
        strbuf_printf(sb, " AS %s)", type);
    } else {
        sink_ddl_quote(sb, name);
    }
    strbuf_puts(sb, " AS ");
    sink_ddl_quote(sb, name);
    free(type);
}

static void view_order(struct strbuf *sb, const struct sink_table_def *d)
{
    int has_lsn = sink_avro_field_index(d->value, "__lsn") >= 0;
    int has_ts = sink_avro_field_index(d->value, "__source_ts_ms") >= 0;
    strbuf_puts(sb, " ORDER BY ");
    if (has_lsn)
        strbuf_puts(sb, "\"__lsn\" DESC");
    if (has_ts)
        strbuf_puts(sb, has_lsn ? ", \"__source_ts_ms\" DESC" : "\"__source_ts_ms\" DESC");
}

static void view_filter(struct strbuf *sb, const struct sink_table_def *d)
{
    int has_deleted = sink_avro_field_index(d->value, "__deleted") >= 0;
    int has_op = sink_avro_field_index(d->value, "__op") >= 0;
    strbuf_puts(sb, " WHERE \"__salescdc_rank\" = 1");
    if (has_deleted && has_op)
        strbuf_puts(sb, " AND NOT coalesce(\"__deleted\", \"__op\" = 'd')");
    else if (has_deleted)
        strbuf_puts(sb, " AND NOT coalesce(\"__deleted\", false)");
    else if (has_op)
        strbuf_puts(sb, " AND coalesce(\"__op\", '') <> 'd'");
}

char *sink_ddl_view(const struct sink_table_def *d, char *errstr, size_t errstr_size)
{
    if (d->n_key_fields == 0) {
        snprintf(errstr, errstr_size, "no primary key columns (the records have no Avro key)");
        return NULL;
    }
    if (sink_avro_field_index(d->value, "__lsn") < 0 &&
        sink_avro_field_index(d->value, "__source_ts_ms") < 0) {
        snprintf(errstr, errstr_size, "no __lsn or __source_ts_ms column to order changes by");
        return NULL;
    }
    struct strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "CREATE OR REPLACE VIEW ");
    qualified(&sb, d, d->view_name);
    strbuf_puts(&sb, " AS SELECT ");
    int first = 1;
    for (size_t i = 0; i < d->value->n; i++) {
        char *type = sink_ddl_column_type(d->value->children[i], d->format);
        int skip = !type || strncmp(d->value->names[i], "__", 2) == 0;
        free(type);
        if (skip)
            continue;
        strbuf_puts(&sb, first ? "" : ", ");
        view_column(&sb, d, i);
        first = 0;
    }
    strbuf_puts(&sb, " FROM (SELECT *, row_number() OVER (PARTITION BY ");
    for (size_t k = 0; k < d->n_key_fields; k++) {
        strbuf_puts(&sb, k ? ", " : "");
        sink_ddl_quote(&sb, d->key_fields[k]);
    }
    view_order(&sb, d);
    strbuf_puts(&sb, ") AS \"__salescdc_rank\" FROM ");
    qualified(&sb, d, d->changes_name);
    strbuf_puts(&sb, ")");
    view_filter(&sb, d);
    return strbuf_detach(&sb);
}
