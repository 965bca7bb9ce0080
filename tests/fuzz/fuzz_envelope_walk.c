/* libFuzzer target for the transformer's fast path (SALESCDC_FUZZ=ON): arbitrary bytes as the
 * Avro payload of an orders envelope (the connector's schema) go through flatten_scan() and, when
 * accepted, flatten_emit_avro(). Never a crash or an overread; whatever the walker accepts,
 * the generic bounds check (avro_check_datum) accepts too. */
#include <avro.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "avro_check.h"
#include "flatten.h"
#include "strbuf.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char schema_json[] =
    "{\"type\":\"record\",\"name\":\"Envelope\",\"namespace\":\"sales.public.orders\",\"fields\":["
    "{\"name\":\"before\",\"type\":[\"null\",{\"type\":\"record\",\"name\":\"Value\",\"fields\":["
    "{\"name\":\"orderid\",\"type\":\"string\"},"
    "{\"name\":\"quantity\",\"type\":[\"null\",\"int\"],\"default\":null},"
    "{\"name\":\"price\",\"type\":[\"null\",{\"type\":\"bytes\",\"logicalType\":\"decimal\","
    "\"precision\":10,\"scale\":2}],\"default\":null},"
    "{\"name\":\"ok\",\"type\":\"boolean\"},{\"name\":\"f\",\"type\":\"float\"},"
    "{\"name\":\"d\",\"type\":[\"null\",\"double\"]},"
    "{\"name\":\"tags\",\"type\":{\"type\":\"array\",\"items\":\"string\"}},"
    "{\"name\":\"attrs\",\"type\":{\"type\":\"map\",\"values\":[\"null\",\"long\"]}},"
    "{\"name\":\"e\",\"type\":{\"type\":\"enum\",\"name\":\"E\",\"symbols\":[\"a\",\"b\"]}},"
    "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F\",\"size\":2}}]}],\"default\":null}"
    ","
    "{\"name\":\"after\",\"type\":[\"null\",\"Value\"],\"default\":null},"
    "{\"name\":\"source\",\"type\":{\"type\":\"record\",\"name\":\"Source\",\"fields\":["
    "{\"name\":\"ts_ms\",\"type\":\"long\"},{\"name\":\"table\",\"type\":\"string\"},"
    "{\"name\":\"txId\",\"type\":[\"null\",\"long\"]},{\"name\":\"lsn\",\"type\":[\"null\","
    "\"long\"]}]}},"
    "{\"name\":\"op\",\"type\":\"string\"},"
    "{\"name\":\"ts_ms\",\"type\":[\"null\",\"long\"],\"default\":null}]}";

static struct flatten_plan *plan;
static avro_schema_t schema;
static struct strbuf out = STRBUF_INIT;

static void release(void)
{
    flatten_plan_destroy(plan);
    avro_schema_decref(schema);
    strbuf_release(&out);
}

/* Built once before fuzzing and released at exit (avro-c's generic values hold their memory by
 * interior pointers, which LeakSanitizer would report if they were still alive then). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[512];
    (void)argc, (void)argv;
    plan = flatten_plan_new(schema_json, NULL, err, sizeof err);
    if (!plan || avro_schema_from_json_length(schema_json, strlen(schema_json), &schema) != 0)
        abort();
    strbuf_append(&out, "", 0);
    atexit(release);
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char err[512];
    /* an exactly sized copy, so that any overread is caught */
    unsigned char *copy = malloc(size ? size : 1);
    memcpy(copy, data, size);
    enum flatten_result r = flatten_scan(plan, copy, size, err, sizeof err);
    if (r != FLATTEN_ERROR || !flatten_last_error_was_decode(plan)) {
        if (avro_check_datum(schema, copy, size, err, sizeof err) != 0)
            abort(); /* the walker accepted what the bounds check refuses */
    }
    if (r == FLATTEN_OK) {
        out.len = 0;
        flatten_emit_avro(plan, 1, &out);
    }
    free(copy);
    return 0;
}
