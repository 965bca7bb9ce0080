/* Rendering of flat records as plain JSON objects, guided by the flat schema's logical types. */
#include "flat_json.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "value_text.h"

void flat_json_string(const char *s, size_t len, struct strbuf *out)
{
    static const char hex[] = "0123456789abcdef";
    strbuf_puts(out, "\"");
    size_t start = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        strbuf_append(out, s + start, i - start);
        start = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            strbuf_append(out, esc, 2);
        } else if (c == '\n' || c == '\t' || c == '\r') {
            strbuf_puts(out, c == '\n' ? "\\n" : c == '\t' ? "\\t" : "\\r");
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            strbuf_append(out, esc, sizeof esc);
        }
    }
    strbuf_append(out, s + start, len - start);
    strbuf_puts(out, "\"");
}

static void render(const struct flat_schema *fs, json_t *type, avro_value_t *v, struct strbuf *out);

/* The logical type of TYPE: its logicalType, else a Debezium/Kafka Connect connect.name that
 * stands for one (Debezium writes times without logicalType in its default modes). */
static const char *logical_of(json_t *type)
{
    static const struct {
        const char *connect_name, *logical;
    } debezium[] = {
        {"io.debezium.time.MicroTimestamp", "timestamp-micros"},
        {"io.debezium.time.Timestamp", "timestamp-millis"},
        {"io.debezium.time.Date", "date"},
        {"io.debezium.time.MicroTime", "time-micros"},
        {"io.debezium.time.Time", "time-millis"},
    };
    const char *lt = json_string_value(json_object_get(type, "logicalType"));
    const char *cn = json_string_value(json_object_get(type, "connect.name"));
    for (size_t i = 0; !lt && cn && i < sizeof debezium / sizeof *debezium; i++)
        if (strcmp(cn, debezium[i].connect_name) == 0)
            lt = debezium[i].logical;
    return lt ? lt : "";
}

static void render_double(double d, struct strbuf *out)
{
    if (isnan(d))
        strbuf_puts(out, "\"NaN\"");
    else if (isinf(d))
        strbuf_puts(out, d > 0 ? "\"Infinity\"" : "\"-Infinity\"");
    else
        strbuf_printf(out, "%.17g", d);
}

/* A long or int carrying a time logical type LT. */
static void render_time(const char *lt, int64_t n, struct strbuf *out)
{
    strbuf_puts(out, "\"");
    if (strcmp(lt, "date") == 0)
        value_text_date((int32_t)n, out);
    else if (strncmp(lt, "time-", 5) == 0)
        value_text_time(n, strcmp(lt, "time-millis") == 0 ? 1000 : 1000000, out);
    else
        value_text_timestamp(n, strstr(lt, "millis") ? 1000 : 1000000, out);
    strbuf_puts(out, "\"");
}

static int is_time(const char *lt)
{
    return strcmp(lt, "date") == 0 || strncmp(lt, "time-", 5) == 0 ||
           strncmp(lt, "timestamp-", 10) == 0 || strncmp(lt, "local-timestamp-", 16) == 0;
}

/* bytes and fixed: a decimal's exact text, else base64. */
static void render_bytes(json_t *type, const void *b, size_t n, struct strbuf *out)
{
    strbuf_puts(out, "\"");
    if (strcmp(logical_of(type), "decimal") == 0)
        value_text_decimal(b, n, (int)json_integer_value(json_object_get(type, "scale")), out);
    else
        value_text_base64(b, n, out);
    strbuf_puts(out, "\"");
}

static void render_record(const struct flat_schema *fs, json_t *type, avro_value_t *v,
                          struct strbuf *out)
{
    size_t i;
    json_t *f;
    strbuf_puts(out, "{");
    json_array_foreach(json_object_get(type, "fields"), i, f)
    {
        avro_value_t child;
        const char *name = json_string_value(json_object_get(f, "name"));
        avro_value_get_by_index(v, i, &child, NULL);
        if (i)
            strbuf_puts(out, ",");
        flat_json_string(name, strlen(name), out);
        strbuf_puts(out, ":");
        render(fs, json_object_get(f, "type"), &child, out);
    }
    strbuf_puts(out, "}");
}

static void render_container(const struct flat_schema *fs, json_t *type, avro_value_t *v,
                             struct strbuf *out)
{
    size_t n = 0;
    int is_map = avro_value_get_type(v) == AVRO_MAP;
    json_t *inner = json_object_get(type, is_map ? "values" : "items");
    avro_value_get_size(v, &n);
    strbuf_puts(out, is_map ? "{" : "[");
    for (size_t i = 0; i < n; i++) {
        avro_value_t child;
        const char *key = NULL;
        avro_value_get_by_index(v, i, &child, &key);
        if (i)
            strbuf_puts(out, ",");
        if (is_map) {
            flat_json_string(key, strlen(key), out);
            strbuf_puts(out, ":");
        }
        render(fs, inner, &child, out);
    }
    strbuf_puts(out, is_map ? "}" : "]");
}

/* Scalars: numbers, strings, booleans, bytes, enums. */
static void render_scalar(json_t *type, avro_value_t *v, struct strbuf *out)
{
    const char *lt = logical_of(type), *s = NULL;
    const void *b = NULL;
    size_t n = 0;
    int32_t i32 = 0;
    int64_t i64 = 0;
    float f = 0;
    double d = 0;
    int boolean = 0;
    switch (avro_value_get_type(v)) {
    case AVRO_STRING:
        avro_value_get_string(v, &s, &n);
        flat_json_string(s, n ? n - 1 : 0, out);
        break;
    case AVRO_BYTES:
        avro_value_get_bytes(v, &b, &n);
        render_bytes(type, b, n, out);
        break;
    case AVRO_FIXED:
        avro_value_get_fixed(v, &b, &n);
        render_bytes(type, b, n, out);
        break;
    case AVRO_INT32:
        avro_value_get_int(v, &i32);
        is_time(lt) ? render_time(lt, i32, out) : strbuf_printf(out, "%ld", (long)i32);
        break;
    case AVRO_INT64:
        avro_value_get_long(v, &i64);
        is_time(lt) ? render_time(lt, i64, out) : strbuf_printf(out, "%lld", (long long)i64);
        break;
    case AVRO_FLOAT:
        avro_value_get_float(v, &f);
        render_double(f, out);
        break;
    case AVRO_DOUBLE:
        avro_value_get_double(v, &d);
        render_double(d, out);
        break;
    case AVRO_BOOLEAN:
        avro_value_get_boolean(v, &boolean);
        strbuf_puts(out, boolean ? "true" : "false");
        break;
    case AVRO_ENUM:
        avro_value_get_enum(v, &i32);
        s = json_string_value(json_array_get(json_object_get(type, "symbols"), (size_t)i32));
        flat_json_string(s ? s : "", s ? strlen(s) : 0, out);
        break;
    default: strbuf_puts(out, "null"); break;
    }
}

/* Renders V, a value of TYPE (a part of the flat schema). */
static void render(const struct flat_schema *fs, json_t *type, avro_value_t *v, struct strbuf *out)
{
    if (json_is_string(type) && !avsc_names_is_primitive(json_string_value(type)))
        type = avsc_names_lookup(fs->names, json_string_value(type), NULL);
    else if (json_is_object(type) && !json_is_string(json_object_get(type, "type")))
        type = json_object_get(type, "type");
    avro_value_t branch;
    switch (avro_value_get_type(v)) {
    case AVRO_NULL: strbuf_puts(out, "null"); return;
    case AVRO_UNION: {
        int d = 0;
        avro_value_get_discriminant(v, &d);
        avro_value_get_current_branch(v, &branch);
        render(fs, json_array_get(type, (size_t)d), &branch, out);
        return;
    }
    case AVRO_RECORD: render_record(fs, type, v, out); return;
    case AVRO_ARRAY:
    case AVRO_MAP: render_container(fs, type, v, out); return;
    default: render_scalar(type, v, out); return;
    }
}

void flat_json_render(const struct flat_schema *fs, avro_value_t *flat, struct strbuf *out)
{
    render_record(fs, fs->root, flat, out);
}
