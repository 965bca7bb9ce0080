/* Unit tests of transformer/process (with schemas): the decision for each kind of record, the
 * dead-letter classes, retries while the registry is away, and a schema change upstream — with
 * a stand-in registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <avro.h>
#include <cmocka.h>

#include "avro_wire.h"
#include "process.h"
#include "xalloc.h"

/* The stand-in registry: ids 1 and 2 are the orders envelope v1 and v2, 3 is not an envelope. */
struct fake {
    char *v1, *v2;
    int down;   /* answer UNAVAILABLE */
    int refuse; /* refuse registrations (409) */
    int fetches;
    int register_calls;
    char subjects[4][128];
    char texts[4][4096];
    int registered;
};

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

static enum registry_lookup_status fake_fetch(void *arg, int32_t id, const char **text,
                                              char *errstr, size_t errstr_size)
{
    struct fake *f = arg;
    f->fetches++;
    if (f->down) {
        snprintf(errstr, errstr_size, "look up schema id %d: connection refused", (int)id);
        return REGISTRY_LOOKUP_UNAVAILABLE;
    }
    if (id == 1 || id == 2 || id == 3) {
        *text = id == 1 ? f->v1 : id == 2 ? f->v2 : "\"string\"";
        return REGISTRY_LOOKUP_OK;
    }
    snprintf(errstr, errstr_size, "look up schema id %d: HTTP 404, error_code 40403", (int)id);
    return REGISTRY_LOOKUP_NOT_FOUND;
}

static enum registry_lookup_status fake_register(void *arg, const char *subject, const char *text,
                                                 int32_t *id, char *errstr, size_t errstr_size)
{
    struct fake *f = arg;
    f->register_calls++;
    if (f->down || f->refuse) {
        snprintf(errstr, errstr_size, "register schema under subject %s: %s", subject,
                 f->down ? "unreachable" : "HTTP 409");
        return f->down ? REGISTRY_LOOKUP_UNAVAILABLE : REGISTRY_LOOKUP_REJECTED;
    }
    snprintf(f->subjects[f->registered], sizeof f->subjects[0], "%s", subject);
    snprintf(f->texts[f->registered], sizeof f->texts[0], "%s", text);
    *id = 100 + f->registered++;
    return REGISTRY_LOOKUP_OK;
}

struct fx {
    struct fake fake;
    struct schemas *schemas;
    struct processor *proc;
    struct process_result r;
    char framed[4096];
    size_t framed_len;
};

static struct fx *fx_new(enum transformer_format format, int pass_tombstones)
{
    struct fx *fx = xcalloc(1, sizeof *fx);
    fx->fake.v1 = fixture("orders_value_v1.avsc");
    fx->fake.v2 = fixture("orders_value_v2.avsc");
    struct schemas_registry reg = {fake_fetch, fake_register, &fx->fake};
    fx->schemas = schemas_new(&reg, NULL);
    fx->proc = processor_new(fx->schemas, format, pass_tombstones);
    return fx;
}

static void fx_destroy(struct fx *fx)
{
    processor_destroy(fx->proc);
    schemas_destroy(fx->schemas);
    strbuf_release(&fx->r.value);
    free(fx->fake.v1);
    free(fx->fake.v2);
    free(fx);
}

static void set(avro_value_t *rec, const char *name, int branch, avro_value_t *out)
{
    avro_value_t f;
    assert_int_equal(avro_value_get_by_name(rec, name, &f, NULL), 0);
    if (avro_value_get_type(&f) == AVRO_UNION)
        avro_value_set_branch(&f, branch, out);
    else
        *out = f;
}

/* Frames an insert of order "7" encoded with schema ID (1: v1, 2: v2 with note "hi"). */
static void frame_insert(struct fx *fx, int32_t id)
{
    const char *text = id == 1 ? fx->fake.v1 : fx->fake.v2;
    avro_schema_t s;
    assert_int_equal(avro_schema_from_json_length(text, strlen(text), &s), 0);
    avro_value_iface_t *iface = avro_generic_class_from_schema(s);
    avro_value_t env, row, v, src;
    avro_generic_value_new(iface, &env);
    set(&env, "before", 0, &v);
    avro_value_set_null(&v);
    set(&env, "after", 1, &row);
    static const char *nulls[] = {"product_name", "quantity",   "price",     "customer_id",
                                  "status",       "created_at", "updated_at"};
    for (size_t i = 0; i < sizeof nulls / sizeof *nulls; i++) {
        set(&row, nulls[i], 0, &v);
        avro_value_set_null(&v);
    }
    set(&row, "orderid", 0, &v);
    avro_value_set_string(&v, "7");
    if (id == 2) {
        set(&row, "note", 1, &v);
        avro_value_set_string(&v, "hi");
    }
    set(&env, "source", 0, &src);
    const char *strs[] = {"version", "connector", "name", "db", "schema", "table"};
    for (size_t i = 0; i < 6; i++) {
        set(&src, strs[i], 0, &v);
        avro_value_set_string(&v, "x");
    }
    set(&src, "ts_ms", 0, &v);
    avro_value_set_long(&v, 5);
    set(&src, "txId", 0, &v);
    avro_value_set_null(&v);
    set(&src, "lsn", 1, &v);
    avro_value_set_long(&v, 99);
    set(&env, "op", 0, &v);
    avro_value_set_string(&v, "c");
    set(&env, "ts_ms", 0, &v);
    avro_value_set_null(&v);
    struct strbuf sb = STRBUF_INIT;
    avro_wire_put_header(&sb, id);
    avro_writer_t w = avro_writer_memory(fx->framed + 5, sizeof fx->framed - 5);
    assert_int_equal(avro_value_write(w, &env), 0);
    memcpy(fx->framed, sb.data, 5);
    fx->framed_len = 5 + (size_t)avro_writer_tell(w);
    avro_writer_free(w);
    strbuf_release(&sb);
    avro_value_decref(&env);
    avro_value_iface_decref(iface);
    avro_schema_decref(s);
}

static enum process_action run(struct fx *fx, const void *value, size_t len)
{
    struct process_input in = {"sales.public.orders.flat", value, len};
    processor_run(fx->proc, &in, &fx->r);
    return fx->r.action;
}

static void test_tombstones_are_dropped_or_passed(void **state)
{
    (void)state;
    struct fx *fx = fx_new(TRANSFORMER_FORMAT_AVRO, 0);
    assert_int_equal(run(fx, NULL, 0), PROCESS_DROP);
    fx_destroy(fx);
    fx = fx_new(TRANSFORMER_FORMAT_AVRO, 1);
    assert_int_equal(run(fx, NULL, 0), PROCESS_TOMBSTONE);
    fx_destroy(fx);
}

static void test_insert_is_published_under_the_output_subject(void **state)
{
    (void)state;
    struct fx *fx = fx_new(TRANSFORMER_FORMAT_AVRO, 0);
    frame_insert(fx, 1);
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    assert_memory_equal(fx->r.value.data, "\x00\x00\x00\x00\x64", 5); /* id 100 */
    assert_string_equal(fx->fake.subjects[0], "sales.public.orders.flat-value");
    assert_non_null(strstr(fx->fake.texts[0], "\"name\":\"sales.public.orders.Value\""));
    /* the second record asks the registry nothing */
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    assert_int_equal(fx->fake.fetches, 1);
    assert_int_equal(fx->fake.registered, 1);
    fx_destroy(fx);
}

static void test_schema_change_upstream_registers_a_new_flat_schema(void **state)
{
    (void)state;
    struct fx *fx = fx_new(TRANSFORMER_FORMAT_AVRO, 0);
    frame_insert(fx, 1);
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    frame_insert(fx, 2);
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    assert_memory_equal(fx->r.value.data, "\x00\x00\x00\x00\x65", 5); /* id 101 */
    assert_int_equal(fx->fake.registered, 2);
    assert_string_equal(fx->fake.subjects[1], "sales.public.orders.flat-value");
    assert_non_null(strstr(fx->fake.texts[1], "{\"name\":\"note\""));
    fx_destroy(fx);
}

static void test_json_format_publishes_plain_objects(void **state)
{
    (void)state;
    struct fx *fx = fx_new(TRANSFORMER_FORMAT_JSON, 0);
    frame_insert(fx, 2);
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    strbuf_append(&fx->r.value, "", 1);
    assert_string_equal(fx->r.value.data,
                        "{\"orderid\":\"7\",\"product_name\":null,\"quantity\":null,\"price\":null,"
                        "\"customer_id\":null,\"status\":null,\"created_at\":null,\"updated_at\":"
                        "null,\"note\":\"hi\",\"__op\":\"c\",\"__lsn\":99,\"__txid\":null,"
                        "\"__source_ts_ms\":5,\"__table\":\"x\",\"__deleted\":false}");
    assert_int_equal(fx->fake.registered, 0);
    fx_destroy(fx);
}

static void expect_dlq(struct fx *fx, const void *value, size_t len, const char *error_class,
                       const char *message)
{
    assert_int_equal(run(fx, value, len), PROCESS_DLQ);
    assert_string_equal(fx->r.error_class, error_class);
    if (!strstr(fx->r.error, message))
        fail_msg("error '%s' lacks '%s'", fx->r.error, message);
}

static void test_poison_records_go_to_the_dead_letter_queue_with_a_class(void **state)
{
    (void)state;
    struct fx *fx = fx_new(TRANSFORMER_FORMAT_AVRO, 0);
    expect_dlq(fx, "\x01\x00\x00\x00\x01xyz", 8, "not_framed", "magic byte is 0x01");
    expect_dlq(fx, "\x00\x00", 2, "not_framed", "shorter than the 5-byte header");
    expect_dlq(fx, "\x00\x00\x00\x00\x09\x02", 6, "unknown_schema", "schema id 9");
    expect_dlq(fx, "\x00\x00\x00\x00\x09\x02", 6, "unknown_schema", "schema id 9");
    assert_int_equal(fx->fake.fetches, 1); /* the unknown id is remembered */
    expect_dlq(fx, "\x00\x00\x00\x00\x03\x02", 6, "unsupported_schema",
               "writer schema id 3: writer schema is not a record");
    frame_insert(fx, 1);
    expect_dlq(fx, fx->framed, fx->framed_len - 2, "corrupt_avro", "corrupt Avro");
    fx->framed[fx->framed_len] = 0;
    expect_dlq(fx, fx->framed, fx->framed_len + 1, "corrupt_avro", "1 bytes left over");
    fx->fake.refuse = 1;
    expect_dlq(fx, fx->framed, fx->framed_len, "output_schema_refused", "HTTP 409");
    fx_destroy(fx);
}

static void test_refused_flat_schema_is_remembered_then_retried_after_a_backoff(void **state)
{
    (void)state;
    struct fx *fx = fx_new(TRANSFORMER_FORMAT_AVRO, 0);
    frame_insert(fx, 1);
    fx->fake.refuse = 1;
    for (int i = 0; i < 50; i++) /* one request, not fifty */
        expect_dlq(fx, fx->framed, fx->framed_len, "output_schema_refused", "HTTP 409");
    assert_int_equal(fx->fake.register_calls, 1);
    fx->fake.refuse = 0; /* fixed in the registry; the back-off (1 s) has not passed yet */
    expect_dlq(fx, fx->framed, fx->framed_len, "output_schema_refused", "HTTP 409");
    assert_int_equal(fx->fake.register_calls, 1);
    fx_destroy(fx);
    fx = fx_new(TRANSFORMER_FORMAT_AVRO, 0); /* with a back-off that has always passed */
    schemas_set_refusal_backoff(fx->schemas, 0, 0);
    frame_insert(fx, 1);
    fx->fake.refuse = 1;
    expect_dlq(fx, fx->framed, fx->framed_len, "output_schema_refused", "HTTP 409");
    expect_dlq(fx, fx->framed, fx->framed_len, "output_schema_refused", "HTTP 409");
    assert_int_equal(fx->fake.register_calls, 2);
    fx->fake.refuse = 0;
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    assert_int_equal(fx->fake.register_calls, 3); /* remembered once accepted */
    assert_int_equal(schemas_registered(fx->schemas), 1);
    fx_destroy(fx);
}

static void test_registry_away_means_retry_not_dead_letter(void **state)
{
    (void)state;
    struct fx *fx = fx_new(TRANSFORMER_FORMAT_AVRO, 0);
    frame_insert(fx, 1);
    fx->fake.down = 1;
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_RETRY);
    assert_non_null(strstr(fx->r.error, "connection refused"));
    fx->fake.down = 0;
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    fx->fake.down = 1; /* the plan is cached, the output id too: no question needed */
    assert_int_equal(run(fx, fx->framed, fx->framed_len), PROCESS_PUBLISH);
    fx_destroy(fx);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tombstones_are_dropped_or_passed),
        cmocka_unit_test(test_insert_is_published_under_the_output_subject),
        cmocka_unit_test(test_schema_change_upstream_registers_a_new_flat_schema),
        cmocka_unit_test(test_json_format_publishes_plain_objects),
        cmocka_unit_test(test_poison_records_go_to_the_dead_letter_queue_with_a_class),
        cmocka_unit_test(test_refused_flat_schema_is_remembered_then_retried_after_a_backoff),
        cmocka_unit_test(test_registry_away_means_retry_not_dead_letter),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
