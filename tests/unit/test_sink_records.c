/* Unit tests of the S3 sink's record handling: schema parsing with logical types, record time,
 * partition paths, and the JSON Lines and Avro writers (Avro files read back with fastavro). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cmocka.h>

#include "partitioner.h"
#include "schema_cache.h"
#include "writer.h"

/* A flat orders value schema as the transformer writes it. */
static const char ORDERS_SCHEMA[] =
    "{\"type\":\"record\",\"name\":\"orders\",\"namespace\":\"sales.public\",\"fields\":["
    "{\"name\":\"orderid\",\"type\":\"string\"},"
    "{\"name\":\"product_name\",\"type\":[\"null\",\"string\"],\"default\":null},"
    "{\"name\":\"quantity\",\"type\":[\"null\",\"int\"],\"default\":null},"
    "{\"name\":\"price\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\","
    "\"precision\":10,\"scale\":2}],\"default\":null},"
    "{\"name\":\"created_at\",\"type\":[\"null\",{\"type\":\"long\","
    "\"logicalType\":\"timestamp-micros\"}],\"default\":null},"
    "{\"name\":\"ship_date\",\"type\":[\"null\",{\"type\":\"int\",\"logicalType\":\"date\"}],"
    "\"default\":null},"
    "{\"name\":\"status\",\"type\":{\"type\":\"enum\",\"name\":\"status_t\",\"symbols\":"
    "[\"placed\",\"paid\"]}},"
    "{\"name\":\"old_status\",\"type\":[\"null\",\"status_t\"],\"default\":null},"
    "{\"name\":\"__op\",\"type\":\"string\"},"
    "{\"name\":\"__lsn\",\"type\":[\"null\",\"long\"],\"default\":null},"
    "{\"name\":\"__source_ts_ms\",\"type\":\"long\"},"
    "{\"name\":\"__deleted\",\"type\":\"boolean\"}]}";

/* One order to encode; NULL/negative members encode as null. */
struct order {
    const char *orderid, *product;
    int quantity;               /* < 0: null */
    const unsigned char *price; /* unscaled big-endian, or NULL */
    size_t price_len;
    int64_t created_us; /* INT64_MIN: null */
    int ship_days;      /* < -100000: null */
    const char *op;
    int64_t source_ts_ms;
};

static void set_branch(avro_value_t *rec, const char *field, int branch, avro_value_t *out)
{
    avro_value_t f;
    assert_int_equal(avro_value_get_by_name(rec, field, &f, NULL), 0);
    assert_int_equal(avro_value_set_branch(&f, branch, out), 0);
}

static void fill_order(avro_value_t *rec, const struct order *o)
{
    avro_value_t f, b;
    avro_value_get_by_name(rec, "orderid", &f, NULL);
    avro_value_set_string(&f, o->orderid);
    set_branch(rec, "product_name", o->product ? 1 : 0, &b);
    if (o->product)
        avro_value_set_string(&b, o->product);
    set_branch(rec, "quantity", o->quantity >= 0, &b);
    if (o->quantity >= 0)
        avro_value_set_int(&b, o->quantity);
    set_branch(rec, "price", o->price != NULL, &b);
    if (o->price)
        avro_value_set_bytes(&b, (void *)o->price, o->price_len);
    set_branch(rec, "created_at", o->created_us != INT64_MIN, &b);
    if (o->created_us != INT64_MIN)
        avro_value_set_long(&b, o->created_us);
    set_branch(rec, "ship_date", o->ship_days >= -100000, &b);
    if (o->ship_days >= -100000)
        avro_value_set_int(&b, o->ship_days);
    avro_value_get_by_name(rec, "status", &f, NULL);
    avro_value_set_enum(&f, 1);
    set_branch(rec, "old_status", 0, &b);
    avro_value_get_by_name(rec, "__op", &f, NULL);
    avro_value_set_string(&f, o->op);
    set_branch(rec, "__lsn", 1, &b);
    avro_value_set_long(&b, 1000 + o->source_ts_ms % 1000);
    avro_value_get_by_name(rec, "__source_ts_ms", &f, NULL);
    avro_value_set_long(&f, o->source_ts_ms);
    avro_value_get_by_name(rec, "__deleted", &f, NULL);
    avro_value_set_boolean(&f, strcmp(o->op, "d") == 0);
}

/* Encodes O with S's schema into BUF; returns the payload length. */
static size_t encode_order(const struct sink_schema *s, const struct order *o, char *buf,
                           size_t size)
{
    avro_value_t rec;
    assert_int_equal(avro_generic_value_new(s->iface, &rec), 0);
    fill_order(&rec, o);
    avro_writer_t w = avro_writer_memory(buf, (int64_t)size);
    assert_int_equal(avro_value_write(w, &rec), 0);
    size_t len = (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    avro_value_decref(&rec);
    return len;
}

static const unsigned char PRICE_1230[] = {0x04, 0xce};
static const unsigned char PRICE_NEG5[] = {0xfb};

static const struct order ORDER_A = {
    "1", "Laptop", 2, PRICE_1230, 2, 1704164645123456LL, 19724, "c", 1704164645999LL};
static const struct order ORDER_B = {"2",       NULL,    -1,  PRICE_NEG5,     1,
                                     INT64_MIN, -200000, "d", 1704171845000LL};

static struct sink_schema *orders_schema(void)
{
    char err[256];
    struct sink_schema *s = sink_schema_new(7, ORDERS_SCHEMA, err, sizeof err);
    assert_non_null(s);
    return s;
}

static void schema_keeps_logical_types_and_named_references(void **state)
{
    (void)state;
    struct sink_schema *s = orders_schema();
    const struct sink_avro_type *root = s->type->root;
    int nullable = 0;
    const struct sink_avro_type *price =
        sink_avro_unwrap_nullable(root->children[sink_avro_field_index(root, "price")], &nullable);
    assert_true(nullable);
    assert_int_equal(price->logical, SINK_LOGICAL_DECIMAL);
    assert_int_equal(price->precision, 10);
    assert_int_equal(price->scale, 2);
    const struct sink_avro_type *old =
        sink_avro_unwrap_nullable(root->children[sink_avro_field_index(root, "old_status")], NULL);
    assert_int_equal(old->kind, SINK_AVRO_ENUM);
    assert_string_equal(old->full_name, "sales.public.status_t");
    assert_int_equal(sink_avro_field_index(root, "nope"), -1);
    sink_schema_destroy(s);
}

static void schema_errors_name_the_problem(void **state)
{
    (void)state;
    char err[256];
    assert_null(sink_schema_new(1,
                                "{\"type\":\"record\",\"name\":\"r\",\"fields\":"
                                "[{\"name\":\"a\",\"type\":\"Missing\"}]}",
                                err, sizeof err));
    assert_non_null(strstr(err, "Missing"));
    assert_null(sink_schema_new(1, "\"string\"", err, sizeof err));
    assert_non_null(strstr(err, "not a record"));
    assert_null(sink_schema_new(1, "{", err, sizeof err));
}

static void decode_refuses_trailing_and_truncated_bytes(void **state)
{
    (void)state;
    struct sink_schema *s = orders_schema();
    char buf[512], err[256];
    size_t len = encode_order(s, &ORDER_A, buf, sizeof buf);
    assert_non_null(sink_schema_decode(s, buf, len, err, sizeof err));
    assert_null(sink_schema_decode(s, buf, len + 1, err, sizeof err));
    assert_null(sink_schema_decode(s, buf, len - 3, err, sizeof err));
    sink_schema_destroy(s);
}

static void record_time_and_time_partitions(void **state)
{
    (void)state;
    struct sink_schema *s = orders_schema();
    char buf[512], err[256], path[128];
    size_t len = encode_order(s, &ORDER_A, buf, sizeof buf);
    avro_value_t *v = sink_schema_decode(s, buf, len, err, sizeof err);
    int64_t ms;
    int present;
    assert_int_equal(
        sink_record_time_ms(s->type->root, v, "__source_ts_ms", &ms, &present, err, sizeof err), 0);
    assert_true(present);
    assert_int_equal(ms, 1704164645999LL);
    assert_int_equal(
        sink_record_time_ms(s->type->root, v, "created_at", &ms, &present, err, sizeof err), 0);
    assert_int_equal(ms, 1704164645123LL);
    assert_int_equal(
        sink_record_time_ms(s->type->root, v, "ship_date", &ms, &present, err, sizeof err), 0);
    assert_int_equal(ms, 19724LL * 86400000);
    assert_int_equal(
        sink_record_time_ms(s->type->root, v, "orderid", &ms, &present, err, sizeof err), -1);
    struct sink_partitioner p = {SINK_PARTITION_TIME, "__source_ts_ms", NULL};
    assert_int_equal(sink_partition_path(&p, s->type->root, v, 1, 1704164645999LL, path,
                                         sizeof path, err, sizeof err),
                     0);
    assert_string_equal(path, "dt=2024-01-02/hour=03");
    assert_int_equal(
        sink_partition_path(&p, s->type->root, v, 1, -1, path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, "dt=1969-12-31/hour=23");
    assert_int_equal(
        sink_partition_path(&p, s->type->root, v, 0, 0, path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, "dt=__HIVE_DEFAULT_PARTITION__/hour=__HIVE_DEFAULT_PARTITION__");
    sink_schema_destroy(s);
}

static void column_and_no_partitions(void **state)
{
    (void)state;
    struct sink_schema *s = orders_schema();
    char buf[512], err[256], path[128];
    size_t len = encode_order(s, &ORDER_A, buf, sizeof buf);
    avro_value_t *v = sink_schema_decode(s, buf, len, err, sizeof err);
    struct sink_partitioner p = {SINK_PARTITION_COLUMN, "__source_ts_ms", "product_name"};
    assert_int_equal(
        sink_partition_path(&p, s->type->root, v, 0, 0, path, sizeof path, err, sizeof err), 0);
    assert_string_equal(path, "product_name=Laptop");
    p.column = "price";
    sink_partition_path(&p, s->type->root, v, 0, 0, path, sizeof path, err, sizeof err);
    assert_string_equal(path, "price=12.30");
    p.column = "created_at";
    sink_partition_path(&p, s->type->root, v, 0, 0, path, sizeof path, err, sizeof err);
    assert_string_equal(path, "created_at=2024-01-02 03%3A04%3A05.123456");
    p.column = "status";
    sink_partition_path(&p, s->type->root, v, 0, 0, path, sizeof path, err, sizeof err);
    assert_string_equal(path, "status=paid");
    p.column = "missing";
    assert_int_equal(
        sink_partition_path(&p, s->type->root, v, 0, 0, path, sizeof path, err, sizeof err), -1);
    assert_non_null(strstr(err, "missing"));
    len = encode_order(s, &ORDER_B, buf, sizeof buf);
    v = sink_schema_decode(s, buf, len, err, sizeof err);
    p.column = "product_name";
    sink_partition_path(&p, s->type->root, v, 0, 0, path, sizeof path, err, sizeof err);
    assert_string_equal(path, "product_name=__HIVE_DEFAULT_PARTITION__");
    p.mode = SINK_PARTITION_NONE;
    sink_partition_path(&p, s->type->root, v, 0, 0, path, sizeof path, err, sizeof err);
    assert_string_equal(path, "");
    sink_schema_destroy(s);
}

static void collect(const char *name, const char *value, void *arg)
{
    struct strbuf *sb = arg;
    strbuf_printf(sb, "[%s|%s]", name, value);
}

static void partition_escaping_round_trips(void **state)
{
    (void)state;
    struct strbuf sb = STRBUF_INIT, seen = STRBUF_INIT;
    strbuf_puts(&sb, "k=");
    sink_partition_escape(&sb, "a/b=c%d e", 9);
    assert_string_equal(sb.data, "k=a%2Fb%3Dc%25d e");
    strbuf_puts(&sb, "/dt=2024-01-02");
    assert_int_equal(sink_partition_each(sb.data, collect, &seen), 0);
    assert_string_equal(seen.data, "[k|a/b=c%d e][dt|2024-01-02]");
    assert_int_equal(sink_partition_each("novalue", collect, &seen), -1);
    strbuf_release(&sb);
    strbuf_release(&seen);
}

static const char JSON_A[] =
    "{\"orderid\":\"1\",\"product_name\":\"Laptop\",\"quantity\":2,\"price\":\"12.30\","
    "\"created_at\":\"2024-01-02 03:04:05.123456\",\"ship_date\":\"2024-01-02\","
    "\"status\":\"paid\",\"old_status\":null,\"__op\":\"c\",\"__lsn\":1999,"
    "\"__source_ts_ms\":1704164645999,\"__deleted\":false}\n";
static const char JSON_B[] =
    "{\"orderid\":\"2\",\"product_name\":null,\"quantity\":null,\"price\":\"-0.05\","
    "\"created_at\":null,\"ship_date\":null,\"status\":\"paid\",\"old_status\":null,"
    "\"__op\":\"d\",\"__lsn\":1000,\"__source_ts_ms\":1704171845000,\"__deleted\":true}\n";

/* Appends both orders to a new writer for CFG and returns the finished object in OUT. */
static void write_two(const struct sink_writer_config *cfg, struct sink_schema *s,
                      struct strbuf *out, size_t *raw_total)
{
    static const unsigned char sync[16] = "0123456789abcdef";
    struct sink_writer *w = sink_writer_new(cfg, s, sync);
    const struct order *orders[] = {&ORDER_A, &ORDER_B};
    char buf[512], err[256];
    *raw_total = 0;
    for (int i = 0; i < 2; i++) {
        size_t len = encode_order(s, orders[i], buf, sizeof buf), raw = 0;
        avro_value_t *v = sink_schema_decode(s, buf, len, err, sizeof err);
        assert_non_null(v);
        struct sink_writer_record rec = {s, v, buf, len};
        assert_int_equal(sink_writer_append(w, &rec, &raw, err, sizeof err), 0);
        *raw_total += raw;
    }
    assert_int_equal(sink_writer_finish(w, out, err, sizeof err), 0);
    sink_writer_destroy(w);
}

static void json_lines_exact(void **state)
{
    (void)state;
    struct sink_schema *s = orders_schema();
    struct sink_writer_config cfg = {SINK_FORMAT_JSON, 0, 0, 6, 0};
    struct strbuf out = STRBUF_INIT;
    size_t raw;
    write_two(&cfg, s, &out, &raw);
    struct strbuf want = STRBUF_INIT;
    strbuf_puts(&want, JSON_A);
    strbuf_puts(&want, JSON_B);
    assert_string_equal(out.data, want.data);
    assert_int_equal(raw, want.len);
    assert_string_equal(sink_writer_extension(&cfg), "json");
    strbuf_release(&out);
    strbuf_release(&want);
    sink_schema_destroy(s);
}

static void json_lines_gzip_inflates_to_the_same_text(void **state)
{
    (void)state;
    struct sink_schema *s = orders_schema();
    struct sink_writer_config cfg = {SINK_FORMAT_JSON, 1, 0, 6, 0};
    struct strbuf out = STRBUF_INIT;
    size_t raw;
    write_two(&cfg, s, &out, &raw);
    assert_int_equal((unsigned char)out.data[0], 0x1f); /* gzip magic */
    assert_int_equal((unsigned char)out.data[1], 0x8b);
    char text[2048];
    z_stream z = {0};
    assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
    z.next_in = (unsigned char *)out.data;
    z.avail_in = (uInt)out.len;
    z.next_out = (unsigned char *)text;
    z.avail_out = sizeof text - 1;
    assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
    text[sizeof text - 1 - z.avail_out] = '\0';
    inflateEnd(&z);
    assert_int_equal(strncmp(text, JSON_A, strlen(JSON_A)), 0);
    assert_string_equal(text + strlen(JSON_A), JSON_B);
    assert_string_equal(sink_writer_extension(&cfg), "json.gz");
    strbuf_release(&out);
    sink_schema_destroy(s);
}

/* Reads the Avro file at PATH with fastavro and prints its records and codec as JSON. */
static const char FASTAVRO_DUMP[] =
    "import fastavro, json, sys\n"
    "with open(sys.argv[1], 'rb') as f:\n"
    "    r = fastavro.reader(f)\n"
    "    out = {'codec': r.codec, 'schema_price': r.writer_schema['fields'][3]['type'][1],\n"
    "           'records': [{k: str(v) for k, v in rec.items()} for rec in r]}\n"
    "if r.codec == 'snappy':  # fastavro skips the CRC-32; Apache Avro's reader checks it\n"
    "    import avro.datafile, avro.io\n"
    "    with open(sys.argv[1], 'rb') as f:\n"
    "        n = sum(1 for _ in avro.datafile.DataFileReader(f, avro.io.DatumReader()))\n"
    "    assert n == len(out['records']), n\n"
    "print(json.dumps(out, sort_keys=True))\n";

static int have_fastavro(enum sink_avro_codec codec)
{
    /* fastavro reads snappy blocks with cramjam; Apache Avro with python-snappy. */
    return system(codec == SINK_CODEC_SNAPPY
                      ? "python3 -c 'import fastavro, cramjam, avro, snappy' >/dev/null 2>&1"
                      : "python3 -c 'import fastavro' >/dev/null 2>&1") == 0;
}

static void avro_file_check(enum sink_avro_codec codec)
{
    if (!have_fastavro(codec)) {
        fprintf(stderr, "fastavro (or for snappy cramjam, avro, python-snappy) is not installed "
                        "(tests/requirements.txt): "
                        "skipped\n");
        skip();
    }
    struct sink_schema *s = orders_schema();
    struct sink_writer_config cfg = {SINK_FORMAT_AVRO, 0, codec, 6, 64};
    struct strbuf out = STRBUF_INIT;
    size_t raw;
    write_two(&cfg, s, &out, &raw);
    char path[] = "/tmp/test_sink_avro_XXXXXX", script_path[64], cmd[512], result[4096];
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, out.data, out.len), (ssize_t)out.len);
    close(fd);
    snprintf(script_path, sizeof script_path, "/tmp/test_sink_fastavro_%d.py", (int)getpid());
    FILE *script = fopen(script_path, "w");
    assert_non_null(script);
    fputs(FASTAVRO_DUMP, script);
    fclose(script);
    snprintf(cmd, sizeof cmd, "python3 %s %s", script_path, path);
    FILE *p = popen(cmd, "r");
    size_t n = fread(result, 1, sizeof result - 1, p);
    result[n] = '\0';
    assert_int_equal(pclose(p), 0);
    unlink(path);
    unlink(script_path);
    char want[2048];
    snprintf(want, sizeof want,
             "{\"codec\": \"%s\", \"records\": [{\"__deleted\": \"False\", \"__lsn\": \"1999\", "
             "\"__op\": \"c\", \"__source_ts_ms\": \"1704164645999\", "
             "\"created_at\": \"2024-01-02 03:04:05.123456+00:00\", \"old_status\": \"None\", "
             "\"orderid\": \"1\", \"price\": \"12.30\", \"product_name\": \"Laptop\", "
             "\"quantity\": \"2\", \"ship_date\": \"2024-01-02\", \"status\": \"paid\"}, "
             "{\"__deleted\": \"True\", \"__lsn\": \"1000\", \"__op\": \"d\", "
             "\"__source_ts_ms\": \"1704171845000\", \"created_at\": \"None\", "
             "\"old_status\": \"None\", \"orderid\": \"2\", \"price\": \"-0.05\", "
             "\"product_name\": \"None\", \"quantity\": \"None\", \"ship_date\": \"None\", "
             "\"status\": \"paid\"}], \"schema_price\": {\"logicalType\": \"decimal\", "
             "\"precision\": 10, \"scale\": 2, \"type\": \"bytes\"}}\n",
             sink_avro_codec_name(codec));
    assert_string_equal(result, want);
    strbuf_release(&out);
    sink_schema_destroy(s);
}

static void avro_file_deflate_read_back_by_fastavro(void **state)
{
    (void)state;
    avro_file_check(SINK_CODEC_DEFLATE);
}

static void avro_file_snappy_read_back_by_fastavro(void **state)
{
    (void)state;
    avro_file_check(SINK_CODEC_SNAPPY);
}

static void avro_file_null_codec_read_back_by_fastavro(void **state)
{
    (void)state;
    avro_file_check(SINK_CODEC_NULL);
}

static void avro_writer_refuses_a_second_schema(void **state)
{
    (void)state;
    struct sink_schema *s = orders_schema(), *other = orders_schema();
    static const unsigned char sync[16] = {0};
    struct sink_writer_config cfg = {SINK_FORMAT_AVRO, 0, 1, 6, 0};
    struct sink_writer *w = sink_writer_new(&cfg, s, sync);
    char buf[512], err[256];
    size_t len = encode_order(other, &ORDER_A, buf, sizeof buf), raw;
    struct sink_writer_record rec = {other, sink_schema_decode(other, buf, len, err, sizeof err),
                                     buf, len};
    assert_int_equal(sink_writer_append(w, &rec, &raw, err, sizeof err), -1);
    assert_non_null(strstr(err, "one writer schema"));
    sink_writer_destroy(w);
    sink_schema_destroy(s);
    sink_schema_destroy(other);
}

/* Why writer_avro.c writes the container itself: avro-c's file writer re-serialises the schema
 * into the header and drops the logical types (a reader would see plain bytes, not decimals). */
static void avro_c_file_writer_drops_logical_types(void **state)
{
    (void)state;
    avro_schema_t schema;
    assert_int_equal(avro_schema_from_json_length(ORDERS_SCHEMA, strlen(ORDERS_SCHEMA), &schema),
                     0);
    char path[] = "/tmp/test_sink_avroc_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    unlink(path); /* avro-c refuses to create a file that exists */
    avro_file_writer_t w;
    assert_int_equal(avro_file_writer_create_with_codec(path, schema, &w, "deflate", 0), 0);
    assert_int_equal(avro_file_writer_close(w), 0);
    char header[4096];
    FILE *f = fopen(path, "rb");
    size_t n = fread(header, 1, sizeof header - 1, f);
    fclose(f);
    unlink(path);
    header[n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (header[i] == '\0')
            header[i] = ' ';
    assert_non_null(strstr(header, "\"price\""));
    assert_null(strstr(header, "logicalType"));
    avro_schema_decref(schema);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(schema_keeps_logical_types_and_named_references),
        cmocka_unit_test(schema_errors_name_the_problem),
        cmocka_unit_test(decode_refuses_trailing_and_truncated_bytes),
        cmocka_unit_test(record_time_and_time_partitions),
        cmocka_unit_test(column_and_no_partitions),
        cmocka_unit_test(partition_escaping_round_trips),
        cmocka_unit_test(json_lines_exact),
        cmocka_unit_test(json_lines_gzip_inflates_to_the_same_text),
        cmocka_unit_test(avro_file_deflate_read_back_by_fastavro),
        cmocka_unit_test(avro_file_snappy_read_back_by_fastavro),
        cmocka_unit_test(avro_file_null_codec_read_back_by_fastavro),
        cmocka_unit_test(avro_writer_refuses_a_second_schema),
        cmocka_unit_test(avro_c_file_writer_drops_logical_types),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
