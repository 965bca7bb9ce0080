/* Rendering decoded Avro values as JSON text for Hive's JSON reader. */
#include "record_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "value_format.h"

static int fail(char *errstr, size_t errstr_size, const char *what)
{
    snprintf(errstr, errstr_size, "cannot read a %s value from the decoded datum", what);
    return -1;
}

static void put_double(struct strbuf *out, double d)
{
    if (isnan(d))
        strbuf_puts(out, "\"NaN\"");
    else if (isinf(d))
        strbuf_puts(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        strbuf_printf(out, "%.17g", d);
}

static int put_int(struct strbuf *out, const struct sink_avro_type *t, avro_value_t *v,
                   char *errstr, size_t errstr_size)
{
    int32_t i;
    if (avro_value_get_int(v, &i) != 0)
        return fail(errstr, errstr_size, "int");
    if (t->logical == SINK_LOGICAL_DATE) {
        strbuf_append(out, "\"", 1);
        sink_format_date(out, i);
        strbuf_append(out, "\"", 1);
    } else if (t->logical == SINK_LOGICAL_TIME_MILLIS) {
        strbuf_append(out, "\"", 1);
        sink_format_time(out, i, 1000, 3);
        strbuf_append(out, "\"", 1);
    } else {
        strbuf_printf(out, "%d", (int)i);
    }
    return 0;
}

static int put_long(struct strbuf *out, const struct sink_avro_type *t, avro_value_t *v,
                    char *errstr, size_t errstr_size)
{
    int64_t l;
    if (avro_value_get_long(v, &l) != 0)
        return fail(errstr, errstr_size, "long");
    switch (t->logical) {
    case SINK_LOGICAL_TIMESTAMP_MICROS:
    case SINK_LOGICAL_LOCAL_TS_MICROS:
    case SINK_LOGICAL_TIMESTAMP_MILLIS:
    case SINK_LOGICAL_LOCAL_TS_MILLIS: {
        int micros = t->logical == SINK_LOGICAL_TIMESTAMP_MICROS ||
                     t->logical == SINK_LOGICAL_LOCAL_TS_MICROS;
        strbuf_append(out, "\"", 1);
        sink_format_timestamp(out, l, micros ? 1000000 : 1000, micros ? 6 : 3);
        strbuf_append(out, "\"", 1);
        return 0;
    }
    case SINK_LOGICAL_TIME_MICROS:
        strbuf_append(out, "\"", 1);
        sink_format_time(out, l, 1000000, 6);
        strbuf_append(out, "\"", 1);
        return 0;
    default: strbuf_printf(out, "%lld", (long long)l); return 0;
    }
}

static int put_bytes(struct strbuf *out, const struct sink_avro_type *t, avro_value_t *v,
                     char *errstr, size_t errstr_size)
{
    const void *buf = NULL;
    size_t size = 0;
    int rc = t->kind == SINK_AVRO_FIXED ? avro_value_get_fixed(v, &buf, &size)
                                        : avro_value_get_bytes(v, &buf, &size);
    if (rc != 0)
        return fail(errstr, errstr_size, t->kind == SINK_AVRO_FIXED ? "fixed" : "bytes");
    strbuf_append(out, "\"", 1);
    if (t->logical == SINK_LOGICAL_DECIMAL)
        sink_format_decimal(out, buf, size, t->scale);
    else
        sink_format_base64(out, buf, size);
    strbuf_append(out, "\"", 1);
    return 0;
}

static int put_string(struct strbuf *out, avro_value_t *v, char *errstr, size_t errstr_size)
{
    const char *s = NULL;
    size_t size = 0; /* avro-c counts the terminating NUL */
    if (avro_value_get_string(v, &s, &size) != 0)
        return fail(errstr, errstr_size, "string");
    sink_format_json_string(out, s, size ? size - 1 : 0);
    return 0;
}

static int put_enum(struct strbuf *out, const struct sink_avro_type *t, avro_value_t *v,
                    char *errstr, size_t errstr_size)
{
    int symbol;
    if (avro_value_get_enum(v, &symbol) != 0 || symbol < 0 || (size_t)symbol >= t->n)
        return fail(errstr, errstr_size, "enum");
    sink_format_json_string(out, t->names[symbol], strlen(t->names[symbol]));
    return 0;
}

static int put_children(struct strbuf *out, const struct sink_avro_type *t, avro_value_t *v,
                        char *errstr, size_t errstr_size)
{
    size_t n = 0;
    if (avro_value_get_size(v, &n) != 0)
        return fail(errstr, errstr_size, "container");
    int keyed = t->kind != SINK_AVRO_ARRAY;
    strbuf_append(out, keyed ? "{" : "[", 1);
    for (size_t i = 0; i < n; i++) {
        avro_value_t child;
        const char *name = NULL;
        if (avro_value_get_by_index(v, i, &child, &name) != 0)
            return fail(errstr, errstr_size, "container element");
        if (i > 0)
            strbuf_append(out, ",", 1);
        if (keyed) {
            sink_format_json_string(out, name, strlen(name));
            strbuf_append(out, ":", 1);
        }
        const struct sink_avro_type *ct =
            t->kind == SINK_AVRO_RECORD ? t->children[i] : t->children[0];
        if (sink_value_json(out, ct, &child, errstr, errstr_size) != 0) {
            if (t->kind == SINK_AVRO_RECORD) {
                size_t len = strlen(errstr);
                snprintf(errstr + len, errstr_size - len, " (field %s)", t->names[i]);
            }
            return -1;
        }
    }
    strbuf_append(out, keyed ? "}" : "]", 1);
    return 0;
}

static int put_union(struct strbuf *out, const struct sink_avro_type *t, avro_value_t *v,
                     char *errstr, size_t errstr_size)
{
    int disc;
    avro_value_t branch;
    if (avro_value_get_discriminant(v, &disc) != 0 || disc < 0 || (size_t)disc >= t->n ||
        avro_value_get_current_branch(v, &branch) != 0)
        return fail(errstr, errstr_size, "union");
    return sink_value_json(out, t->children[disc], &branch, errstr, errstr_size);
}

int sink_value_json(struct strbuf *out, const struct sink_avro_type *type, avro_value_t *value,
                    char *errstr, size_t errstr_size)
{
    switch (type->kind) {
    case SINK_AVRO_NULL: strbuf_puts(out, "null"); return 0;
    case SINK_AVRO_BOOLEAN: {
        int b;
        if (avro_value_get_boolean(value, &b) != 0)
            return fail(errstr, errstr_size, "boolean");
        strbuf_puts(out, b ? "true" : "false");
        return 0;
    }
    case SINK_AVRO_INT: return put_int(out, type, value, errstr, errstr_size);
    case SINK_AVRO_LONG: return put_long(out, type, value, errstr, errstr_size);
    case SINK_AVRO_FLOAT: {
        float f;
        if (avro_value_get_float(value, &f) != 0)
            return fail(errstr, errstr_size, "float");
        put_double(out, (double)f);
        return 0;
    }
    case SINK_AVRO_DOUBLE: {
        double d;
        if (avro_value_get_double(value, &d) != 0)
            return fail(errstr, errstr_size, "double");
        put_double(out, d);
        return 0;
    }
    case SINK_AVRO_BYTES:
    case SINK_AVRO_FIXED: return put_bytes(out, type, value, errstr, errstr_size);
    case SINK_AVRO_STRING: return put_string(out, value, errstr, errstr_size);
    case SINK_AVRO_ENUM: return put_enum(out, type, value, errstr, errstr_size);
    case SINK_AVRO_RECORD:
    case SINK_AVRO_ARRAY:
    case SINK_AVRO_MAP: return put_children(out, type, value, errstr, errstr_size);
    case SINK_AVRO_UNION: return put_union(out, type, value, errstr, errstr_size);
    }
    return fail(errstr, errstr_size, "unknown");
}

int sink_record_json(struct strbuf *out, const struct sink_avro_type *type, avro_value_t *value,
                     char *errstr, size_t errstr_size)
{
    if (type->kind != SINK_AVRO_RECORD)
        return fail(errstr, errstr_size, "record");
    return put_children(out, type, value, errstr, errstr_size);
}
