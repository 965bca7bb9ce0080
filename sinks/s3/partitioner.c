/* Record time and partition paths: dt/hour by time, a column's value, or none. */
#include "partitioner.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "record_json.h"
#include "value_format.h"
#include "xalloc.h"

int sink_partition_mode_parse(const char *name, enum sink_partition_mode *out)
{
    if (strcmp(name, "time") == 0)
        *out = SINK_PARTITION_TIME;
    else if (strcmp(name, "column") == 0)
        *out = SINK_PARTITION_COLUMN;
    else if (strcmp(name, "none") == 0)
        *out = SINK_PARTITION_NONE;
    else
        return -1;
    return 0;
}

/* The value of field NAME with a nullable union resolved: *TYPE and *OUT are set, *IS_NULL
 * says whether it is null. Returns 0, or -1 with errstr when there is no such field. */
static int field_value(const struct sink_avro_type *record, avro_value_t *value, const char *name,
                       const struct sink_avro_type **type, avro_value_t *out, int *is_null,
                       char *errstr, size_t errstr_size)
{
    int idx = sink_avro_field_index(record, name);
    if (idx < 0 || avro_value_get_by_index(value, (size_t)idx, out, NULL) != 0) {
        snprintf(errstr, errstr_size, "record %s has no field %s", record->full_name, name);
        return -1;
    }
    *type = record->children[idx];
    *is_null = 0;
    if ((*type)->kind == SINK_AVRO_UNION) {
        int disc;
        avro_value_t branch;
        if (avro_value_get_discriminant(out, &disc) != 0 || disc < 0 ||
            (size_t)disc >= (*type)->n || avro_value_get_current_branch(out, &branch) != 0) {
            snprintf(errstr, errstr_size, "cannot read union field %s", name);
            return -1;
        }
        *type = (*type)->children[disc];
        *out = branch;
    }
    *is_null = (*type)->kind == SINK_AVRO_NULL;
    return 0;
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t s, f;
    sink_format_split(a, b, &s, &f);
    return s;
}

int sink_record_time_ms(const struct sink_avro_type *record, avro_value_t *value, const char *field,
                        int64_t *ms, int *present, char *errstr, size_t errstr_size)
{
    const struct sink_avro_type *t;
    avro_value_t v;
    int is_null;
    if (field_value(record, value, field, &t, &v, &is_null, errstr, errstr_size) != 0)
        return -1;
    *present = !is_null;
    *ms = 0;
    if (is_null)
        return 0;
    if (t->kind == SINK_AVRO_LONG) {
        int64_t l = 0;
        avro_value_get_long(&v, &l);
        int micros = t->logical == SINK_LOGICAL_TIMESTAMP_MICROS ||
                     t->logical == SINK_LOGICAL_LOCAL_TS_MICROS;
        *ms = micros ? floor_div(l, 1000) : l;
        return 0;
    }
    if (t->kind == SINK_AVRO_INT) {
        int32_t i = 0;
        avro_value_get_int(&v, &i);
        *ms = t->logical == SINK_LOGICAL_DATE ? (int64_t)i * 86400000 : i;
        return 0;
    }
    snprintf(errstr, errstr_size,
             "time field %s is neither a timestamp, a date nor a long of milliseconds", field);
    return -1;
}

void sink_partition_escape(struct strbuf *out, const char *value, size_t len)
{
    static const char special[] = "\"#%'*/:=?\\{[]^";
    if (len == 0) {
        strbuf_puts(out, SINK_PARTITION_DEFAULT);
        return;
    }
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)value[i];
        if (c < 0x20 || c == 0x7f || (c && strchr(special, c)))
            strbuf_printf(out, "%%%02X", c);
        else
            strbuf_append(out, (const char *)&c, 1);
    }
}

/* The text of a column value in a partition path: strings as they are, everything else as the
 * JSON writer writes it without quotes. */
static int value_text(const struct sink_avro_type *t, avro_value_t *v, struct strbuf *text,
                      char *errstr, size_t errstr_size)
{
    if (t->kind == SINK_AVRO_STRING || t->kind == SINK_AVRO_ENUM) {
        struct strbuf json = STRBUF_INIT;
        const char *s = NULL;
        size_t size = 0;
        if (t->kind == SINK_AVRO_STRING && avro_value_get_string(v, &s, &size) == 0) {
            strbuf_append(text, s, size ? size - 1 : 0);
            return 0;
        }
        int rc = sink_value_json(&json, t, v, errstr, errstr_size);
        if (rc == 0) /* an enum symbol: a JSON string without escapes */
            strbuf_append(text, json.data + 1, json.len - 2);
        strbuf_release(&json);
        return rc;
    }
    if (t->kind == SINK_AVRO_RECORD || t->kind == SINK_AVRO_ARRAY || t->kind == SINK_AVRO_MAP ||
        t->kind == SINK_AVRO_UNION) {
        snprintf(errstr, errstr_size, "cannot partition by a %s column",
                 t->kind == SINK_AVRO_RECORD ? "record" : "complex");
        return -1;
    }
    if (sink_value_json(text, t, v, errstr, errstr_size) != 0)
        return -1;
    if (text->len >= 2 && text->data[0] == '"') { /* decimal, date, timestamp, base64 */
        memmove(text->data, text->data + 1, text->len - 2);
        text->len -= 2;
        text->data[text->len] = '\0';
    }
    return 0;
}

static int column_path(const struct sink_partitioner *p, const struct sink_avro_type *record,
                       avro_value_t *value, struct strbuf *path, char *errstr, size_t errstr_size)
{
    const struct sink_avro_type *t;
    avro_value_t v;
    int is_null;
    if (field_value(record, value, p->column, &t, &v, &is_null, errstr, errstr_size) != 0)
        return -1;
    strbuf_printf(path, "%s=", p->column);
    if (is_null) {
        strbuf_puts(path, SINK_PARTITION_DEFAULT);
        return 0;
    }
    struct strbuf text = STRBUF_INIT;
    int rc = value_text(t, &v, &text, errstr, errstr_size);
    if (rc == 0)
        sink_partition_escape(path, text.data ? text.data : "", text.len);
    strbuf_release(&text);
    return rc;
}

int sink_partition_path(const struct sink_partitioner *p, const struct sink_avro_type *record,
                        avro_value_t *value, int has_time, int64_t time_ms, char *out,
                        size_t out_size, char *errstr, size_t errstr_size)
{
    struct strbuf path = STRBUF_INIT;
    int rc = 0;
    if (p->mode == SINK_PARTITION_TIME && !has_time) {
        strbuf_puts(&path, "dt=" SINK_PARTITION_DEFAULT "/hour=" SINK_PARTITION_DEFAULT);
    } else if (p->mode == SINK_PARTITION_TIME) {
        time_t t = (time_t)floor_div(time_ms, 1000);
        struct tm tm;
        gmtime_r(&t, &tm);
        strbuf_printf(&path, "dt=%04lld-%02d-%02d/hour=%02d", (long long)tm.tm_year + 1900,
                      tm.tm_mon + 1, tm.tm_mday, tm.tm_hour);
    } else if (p->mode == SINK_PARTITION_COLUMN) {
        rc = column_path(p, record, value, &path, errstr, errstr_size);
    }
    if (rc == 0 && path.len >= out_size) {
        snprintf(errstr, errstr_size, "partition path of %zu bytes is longer than %zu", path.len,
                 out_size - 1);
        rc = -1;
    }
    if (rc == 0)
        snprintf(out, out_size, "%s", path.data ? path.data : "");
    strbuf_release(&path);
    return rc;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static void unescape(char *s)
{
    char *w = s;
    for (const char *r = s; *r; r++) {
        int hi, lo;
        if (r[0] == '%' && (hi = hex_value(r[1])) >= 0 && (lo = hex_value(r[2])) >= 0) {
            *w++ = (char)(hi * 16 + lo);
            r += 2;
        } else {
            *w++ = *r;
        }
    }
    *w = '\0';
}

int sink_partition_each(const char *path,
                        void (*fn)(const char *name, const char *value, void *arg), void *arg)
{
    char *copy = xstrdup(path), *save = NULL;
    int rc = 0;
    for (char *seg = strtok_r(copy, "/", &save); seg; seg = strtok_r(NULL, "/", &save)) {
        char *eq = strchr(seg, '=');
        if (!eq) {
            rc = -1;
            break;
        }
        *eq = '\0';
        unescape(eq + 1);
        fn(seg, eq + 1, arg);
    }
    free(copy);
    return rc;
}
