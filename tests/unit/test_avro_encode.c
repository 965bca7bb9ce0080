/* Unit tests of connector/avro_schema.c and avro_encode.c: schema JSON per column type, and
 * Avro encoding of recorded and hand-made rows, read back with avro-c. With the environment
 * variable SALESCDC_AVRO_DUMP_DIR set, also writes the samples there for the independent
 * fastavro check (tests/integration/test_connector_avro_fastavro.py). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <cmocka.h>
#include <jansson.h>

#include "avro_encode.h"
#include "avro_schema.h"
#include "avro_wire.h"
#include "relcache.h"

/* Every mapped type, one column each (OID, typmod, name, text value). */
static const struct {
    uint32_t oid;
    int32_t typmod;
    const char *name, *text;
} all_types[] = {
    {23, -1, "id", "7"},
    {16, -1, "flag", "t"},
    {21, -1, "small", "-32768"},
    {20, -1, "big", "9223372036854775807"},
    {700, -1, "f4", "1.5"},
    {701, -1, "f8", "-Infinity"},
    {1700, (10 << 16 | 2) + 4, "price", "-12345678.90"},
    {1700, -1, "anynum", "3.14159265358979323846264338327950288"},
    {25, -1, "txt", "grüße \"quoted\""},
    {1043, 14, "vc", ""},
    {1082, -1, "day", "1969-07-20"},
    {1114, -1, "ts", "2001-02-03 04:05:06.000007"},
    {1184, -1, "tstz", "2024-02-29 12:34:56.789+00"},
    {2950, -1, "uid", "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"},
    {114, -1, "js", "{\"a\": 1}"},
    {3802, -1, "jsb", "{\"b\": [1, 2]}"},
    {17, -1, "raw", "\\x00ff10"},
    {1007, -1, "arr", "{1,NULL,3}"},
    {25, -1, "missing", NULL},
};
#define NTYPES (sizeof all_types / sizeof all_types[0])

static const struct avroenc_source source = {"0.1.0",       "postgresql", "sales",   "salescdc",
                                             1709210096789, 1234,         0x16B3748, 1709210097000};

/* A relation "public.all_types" with the columns above; "id" is the key. */
static struct relcache_rel *all_types_rel(struct relcache *rc)
{
    struct pgoutput_column cols[NTYPES];
    struct pgoutput_msg m = {.type = PGOUTPUT_RELATION};
    for (size_t i = 0; i < NTYPES; i++)
        cols[i] = (struct pgoutput_column){i == 0, all_types[i].name, all_types[i].oid,
                                           all_types[i].typmod};
    m.u.relation.relid = 4242;
    m.u.relation.nspname = "public";
    m.u.relation.relname = "all_types";
    m.u.relation.replident = 'd';
    m.u.relation.ncols = NTYPES;
    m.u.relation.cols = cols;
    int changed;
    return relcache_update(rc, &m, &changed);
}

static struct pgoutput_tuple all_types_row(struct pgoutput_value *vals)
{
    for (size_t i = 0; i < NTYPES; i++) {
        const char *t = all_types[i].text;
        vals[i] = t ? (struct pgoutput_value){PGOUTPUT_COL_TEXT, t, (uint32_t)strlen(t)}
                    : (struct pgoutput_value){PGOUTPUT_COL_NULL, NULL, 0};
    }
    return (struct pgoutput_tuple){NTYPES, vals};
}

/* Reads the framed datum FRAMED back with avro-c under SCHEMA_JSON into *VALUE (caller
 * decrefs VALUE and *IFACE). */
static void read_back(const char *schema_json, const struct strbuf *framed, int32_t want_id,
                      avro_value_iface_t **iface, avro_value_t *value)
{
    char err[256];
    int32_t id;
    const char *payload;
    size_t len;
    avro_schema_t schema;
    assert_int_equal(
        avro_wire_parse(framed->data, framed->len, &id, &payload, &len, err, sizeof err), 0);
    assert_int_equal(id, want_id);
    assert_int_equal(avro_schema_from_json_length(schema_json, strlen(schema_json), &schema), 0);
    *iface = avro_generic_class_from_schema(schema);
    assert_int_equal(avro_generic_value_new(*iface, value), 0);
    avro_reader_t r = avro_reader_memory(payload, (int64_t)len);
    assert_int_equal(avro_value_read(r, value), 0);
    avro_reader_free(r);
    avro_schema_decref(schema);
}

/* Field NAME of record REC; when it is a union, its selected branch. */
static avro_value_t field(avro_value_t *rec, const char *name)
{
    avro_value_t f, branch;
    assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
    if (avro_value_get_type(&f) == AVRO_UNION) {
        assert_int_equal(avro_value_get_current_branch(&f, &branch), 0);
        return branch;
    }
    return f;
}

static avro_type_t field_type(avro_value_t *rec, const char *name)
{
    avro_value_t f = field(rec, name);
    return avro_value_get_type(&f);
}

/* The "type" of field NAME in the Value record of the envelope schema (borrowed). */
static json_t *value_field_type(json_t *envelope, const char *name)
{
    json_t *fields = json_object_get(
        json_array_get(
            json_object_get(json_array_get(json_object_get(envelope, "fields"), 0), "type"), 1),
        "fields");
    for (size_t i = 0; i < json_array_size(fields); i++) {
        json_t *f = json_array_get(fields, i);
        if (strcmp(json_string_value(json_object_get(f, "name")), name) == 0)
            return json_object_get(f, "type");
    }
    fail_msg("no field %s in the Value record", name);
    return NULL;
}

static void assert_json(json_t *j, const char *want)
{
    char *text = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
    if (strcmp(text, want) != 0)
        fail_msg("got %s, want %s", text, want);
    free(text);
}

static void test_schema_maps_each_type(void **state)
{
    (void)state;
    struct relcache *rc = relcache_new();
    struct relcache_rel *rel = all_types_rel(rc);
    char *ns = avroschema_namespace("sales", rel);
    char *key = avroschema_key_json(rel, ns), *value = avroschema_value_json(rel, ns);
    json_t *k = json_loads(key, 0, NULL), *v = json_loads(value, 0, NULL);
    assert_string_equal(ns, "sales.public.all_types");
    assert_json(k, "{\"type\":\"record\",\"name\":\"Key\",\"namespace\":\"sales.public.all_types\","
                   "\"fields\":[{\"name\":\"id\",\"type\":\"int\"}]}");
    assert_string_equal(json_string_value(json_object_get(v, "name")), "Envelope");
    assert_json(value_field_type(v, "id"), "\"int\"");
    assert_json(value_field_type(v, "flag"), "[\"null\",\"boolean\"]");
    assert_json(value_field_type(v, "small"), "[\"null\",\"int\"]");
    assert_json(value_field_type(v, "big"), "[\"null\",\"long\"]");
    assert_json(value_field_type(v, "f4"), "[\"null\",\"float\"]");
    assert_json(value_field_type(v, "f8"), "[\"null\",\"double\"]");
    assert_json(value_field_type(v, "price"),
                "[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\",\"precision\":10,"
                "\"scale\":2}]");
    assert_json(value_field_type(v, "anynum"), "[\"null\",\"string\"]");
    assert_json(value_field_type(v, "day"),
                "[\"null\",{\"type\":\"int\",\"logicalType\":\"date\"}]");
    assert_json(value_field_type(v, "tstz"),
                "[\"null\",{\"type\":\"long\",\"logicalType\":\"timestamp-micros\"}]");
    assert_json(value_field_type(v, "uid"),
                "[\"null\",{\"type\":\"string\",\"logicalType\":\"uuid\"}]");
    assert_json(value_field_type(v, "jsb"), "[\"null\",\"string\"]");
    assert_json(value_field_type(v, "raw"), "[\"null\",\"bytes\"]");
    assert_json(value_field_type(v, "arr"), "[\"null\",\"string\"]");
    json_decref(k);
    json_decref(v);
    free(key);
    free(value);
    free(ns);
    relcache_destroy(rc);
}

static void test_names_are_made_valid_avro_names(void **state)
{
    (void)state;
    char out[64];
    avroschema_name("order id", out, sizeof out);
    assert_string_equal(out, "order_id");
    avroschema_name("1st", out, sizeof out);
    assert_string_equal(out, "_1st");
    avroschema_name("Ünit", out, sizeof out);
    assert_string_equal(out, "___nit"); /* two UTF-8 bytes */
}

static void test_envelope_round_trips_every_type(void **state)
{
    (void)state;
    char err[256];
    struct pgoutput_value vals[NTYPES];
    struct relcache *rc = relcache_new();
    struct relcache_rel *rel = all_types_rel(rc);
    struct pgoutput_tuple row = all_types_row(vals);
    struct avroenc *enc = avroenc_new(rel, "sales", err, sizeof err);
    struct strbuf out = STRBUF_INIT;
    assert_non_null(enc);
    if (avroenc_envelope(enc, rel, NULL, &row, 'c', &source, 42, &out, err, sizeof err) != 0)
        fail_msg("%s", err);
    avro_value_iface_t *iface;
    avro_value_t env, after, f;
    const void *bytes;
    size_t size;
    int32_t i32;
    int64_t i64;
    double d;
    read_back(avroenc_value_schema(enc), &out, 42, &iface, &env);
    after = field(&env, "after");
    assert_int_equal(field_type(&env, "before"), AVRO_NULL);
    f = field(&after, "price");
    avro_value_get_bytes(&f, &bytes, &size);
    assert_int_equal(size, 4);
    assert_memory_equal(bytes, "\xb6\x69\xfd\x2e", 4);
    f = field(&after, "day");
    avro_value_get_int(&f, &i32);
    assert_int_equal(i32, -165);
    f = field(&after, "tstz");
    avro_value_get_long(&f, &i64);
    assert_true(i64 == 1709210096789000LL);
    f = field(&after, "big");
    avro_value_get_long(&f, &i64);
    assert_true(i64 == INT64_MAX);
    f = field(&after, "f8");
    avro_value_get_double(&f, &d);
    assert_true(d < -1e308);
    f = field(&after, "raw");
    avro_value_get_bytes(&f, &bytes, &size);
    assert_int_equal(size, 3);
    assert_int_equal(field_type(&after, "missing"), AVRO_NULL);
    f = field(&env, "op");
    const char *s;
    avro_value_get_string(&f, &s, &size);
    assert_string_equal(s, "c");
    avro_value_t src = field(&env, "source");
    f = field(&src, "table");
    avro_value_get_string(&f, &s, &size);
    assert_string_equal(s, "all_types");
    f = field(&src, "lsn");
    avro_value_get_long(&f, &i64);
    assert_true(i64 == 0x16B3748);
    avro_value_decref(&env);
    avro_value_iface_decref(iface);
    strbuf_release(&out);
    avroenc_destroy(enc);
    relcache_destroy(rc);
}

static void test_key_holds_the_key_columns(void **state)
{
    (void)state;
    char err[256];
    struct pgoutput_value vals[NTYPES];
    struct relcache *rc = relcache_new();
    struct relcache_rel *rel = all_types_rel(rc);
    struct pgoutput_tuple row = all_types_row(vals);
    struct avroenc *enc = avroenc_new(rel, "sales", err, sizeof err);
    struct strbuf out = STRBUF_INIT;
    assert_int_equal(avroenc_key(enc, rel, &row, 41, &out, err, sizeof err), 0);
    /* magic, id 41, then zig-zag varint 7 = 0x0e */
    assert_int_equal(out.len, 6);
    assert_memory_equal(out.data, "\x00\x00\x00\x00\x29\x0e", 6);
    vals[0] = (struct pgoutput_value){PGOUTPUT_COL_NULL, NULL, 0};
    assert_int_equal(avroenc_key(enc, rel, &row, 41, &out, err, sizeof err), -1);
    assert_string_equal(err, "encode key of public.all_types column id: null in a key column");
    strbuf_release(&out);
    avroenc_destroy(enc);
    relcache_destroy(rc);
}

static void test_bad_values_name_table_and_column(void **state)
{
    (void)state;
    char err[256];
    struct pgoutput_value vals[NTYPES];
    struct relcache *rc = relcache_new();
    struct relcache_rel *rel = all_types_rel(rc);
    struct pgoutput_tuple row = all_types_row(vals);
    struct avroenc *enc = avroenc_new(rel, "sales", err, sizeof err);
    struct strbuf out = STRBUF_INIT;
    vals[6] = (struct pgoutput_value){PGOUTPUT_COL_TEXT, "NaN", 3};
    assert_int_equal(avroenc_envelope(enc, rel, NULL, &row, 'c', &source, 1, &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "encode row of public.all_types column price: 'NaN'"));
    all_types_row(vals);
    vals[2] = (struct pgoutput_value){PGOUTPUT_COL_TEXT, "2147483648", 10};
    assert_int_equal(avroenc_envelope(enc, rel, NULL, &row, 'c', &source, 1, &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "column small: '2147483648' is not a valid number in range"));
    all_types_row(vals);
    vals[10] = (struct pgoutput_value){PGOUTPUT_COL_UNCHANGED_TOAST, NULL, 0};
    assert_int_equal(avroenc_envelope(enc, rel, NULL, &row, 'u', &source, 1, &out, err, sizeof err),
                     -1);
    assert_non_null(strstr(err, "column day: unchanged TOAST value"));
    assert_int_equal(out.len, 0);
    strbuf_release(&out);
    avroenc_destroy(enc);
    relcache_destroy(rc);
}

static void test_numeric_special_values_become_null_when_asked(void **state)
{
    (void)state;
    char err[256];
    const char *col = NULL;
    const char *specials[] = {"NaN", "Infinity", "-Infinity"};
    struct pgoutput_value vals[NTYPES];
    struct relcache *rc = relcache_new();
    struct relcache_rel *rel = all_types_rel(rc);
    struct pgoutput_tuple row = all_types_row(vals);
    struct avroenc *enc = avroenc_new(rel, "sales", err, sizeof err);
    struct strbuf out = STRBUF_INIT;
    avroenc_set_special_decimal_null(enc, 1);
    for (int i = 0; i < 3; i++) {
        vals[6] = (struct pgoutput_value){PGOUTPUT_COL_TEXT, specials[i], strlen(specials[i])};
        out.len = 0;
        if (avroenc_envelope(enc, rel, NULL, &row, 'c', &source, 7, &out, err, sizeof err) != 0)
            fail_msg("%s", err);
        avro_value_iface_t *iface;
        avro_value_t env, after;
        read_back(avroenc_value_schema(enc), &out, 7, &iface, &env);
        after = field(&env, "after");
        assert_int_equal(field_type(&after, "price"), AVRO_NULL);
        assert_int_equal(field_type(&after, "day"), AVRO_INT32); /* the rest is intact */
        avro_value_decref(&env);
        avro_value_iface_decref(iface);
    }
    assert_int_equal(avroenc_special_decimal_nulls(enc, &col), 3);
    assert_string_equal(col, "price");
    /* a float column keeps NaN: Avro doubles hold it */
    all_types_row(vals);
    vals[6] = (struct pgoutput_value){PGOUTPUT_COL_TEXT, "NaNx", 4};
    assert_int_equal(avroenc_envelope(enc, rel, NULL, &row, 'c', &source, 7, &out, err, sizeof err),
                     -1);
    assert_int_equal(avroenc_special_decimal_nulls(enc, NULL), 3);
    strbuf_release(&out);
    avroenc_destroy(enc);
    relcache_destroy(rc);
}

/* Decodes fixture NAME (tests/fixtures/pgoutput) into M; the message borrows from *BUF. */
static void decode_fixture(struct pgoutput_decoder *dec, const char *name, char **buf,
                           struct pgoutput_msg *m)
{
    char path[512], err[256];
    snprintf(path, sizeof path, "%s/pgoutput/%s", SALESCDC_FIXTURE_DIR, name);
    FILE *fp = fopen(path, "rb");
    assert_non_null(fp);
    *buf = malloc(65536);
    size_t len = fread(*buf, 1, 65536, fp);
    fclose(fp);
    if (pgoutput_decode(dec, *buf, len, m, err, sizeof err) != 0)
        fail_msg("%s: %s", name, err);
}

/* The recorded update of a row whose TOASTed note did not change: the placeholder marks it. */
static void test_unchanged_toast_is_marked_not_nulled(void **state)
{
    (void)state;
    char err[256], *rbuf, *ubuf;
    struct pgoutput_decoder *dec = pgoutput_decoder_new();
    struct relcache *rc = relcache_new();
    struct pgoutput_msg r, u;
    int changed;
    decode_fixture(dec, "v1_002_R.bin", &rbuf, &r);
    struct relcache_rel *rel = relcache_update(rc, &r, &changed);
    decode_fixture(dec, "v1_015_U.bin", &ubuf, &u);
    struct avroenc *enc = avroenc_new(rel, "sales", err, sizeof err);
    struct strbuf out = STRBUF_INIT;
    if (avroenc_envelope(enc, rel, NULL, &u.u.update.new_tuple, 'u', &source, 3, &out, err,
                         sizeof err) != 0)
        fail_msg("%s", err);
    avro_value_iface_t *iface;
    avro_value_t env, after, f;
    const char *s;
    size_t size;
    read_back(avroenc_value_schema(enc), &out, 3, &iface, &env);
    after = field(&env, "after");
    f = field(&after, "note");
    avro_value_get_string(&f, &s, &size);
    assert_string_equal(s, AVROSCHEMA_UNAVAILABLE);
    f = field(&after, "name");
    avro_value_get_string(&f, &s, &size);
    assert_string_equal(s, "Charger");
    avro_value_decref(&env);
    avro_value_iface_decref(iface);
    strbuf_release(&out);
    avroenc_destroy(enc);
    relcache_destroy(rc);
    pgoutput_decoder_destroy(dec);
    free(rbuf);
    free(ubuf);
}

static void write_file(const char *dir, const char *name, const char *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *fp = fopen(path, "wb");
    assert_non_null(fp);
    assert_int_equal(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

/* Writes key/value schemas and framed datums of the all-types row for the fastavro check. */
static void test_dump_samples_for_independent_reader(void **state)
{
    (void)state;
    const char *dir = getenv("SALESCDC_AVRO_DUMP_DIR");
    char err[256];
    struct pgoutput_value vals[NTYPES];
    if (!dir)
        skip();
    struct relcache *rc = relcache_new();
    struct relcache_rel *rel = all_types_rel(rc);
    struct pgoutput_tuple row = all_types_row(vals);
    struct avroenc *enc = avroenc_new(rel, "sales", err, sizeof err);
    struct strbuf key = STRBUF_INIT, value = STRBUF_INIT;
    assert_int_equal(avroenc_key(enc, rel, &row, 41, &key, err, sizeof err), 0);
    assert_int_equal(
        avroenc_envelope(enc, rel, &row, &row, 'u', &source, 42, &value, err, sizeof err), 0);
    write_file(dir, "key.avsc", avroenc_key_schema(enc), strlen(avroenc_key_schema(enc)));
    write_file(dir, "value.avsc", avroenc_value_schema(enc), strlen(avroenc_value_schema(enc)));
    write_file(dir, "key.bin", key.data, key.len);
    write_file(dir, "value.bin", value.data, value.len);
    strbuf_release(&key);
    strbuf_release(&value);
    avroenc_destroy(enc);
    relcache_destroy(rc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schema_maps_each_type),
        cmocka_unit_test(test_names_are_made_valid_avro_names),
        cmocka_unit_test(test_envelope_round_trips_every_type),
        cmocka_unit_test(test_key_holds_the_key_columns),
        cmocka_unit_test(test_bad_values_name_table_and_column),
        cmocka_unit_test(test_numeric_special_values_become_null_when_asked),
        cmocka_unit_test(test_unchanged_toast_is_marked_not_nulled),
        cmocka_unit_test(test_dump_samples_for_independent_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
