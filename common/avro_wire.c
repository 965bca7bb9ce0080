/* Confluent wire format framing. */
#include "avro_wire.h"

#include <stdio.h>

void avro_wire_put_header(struct strbuf *out, int32_t schema_id)
{
    uint32_t id = (uint32_t)schema_id;
    char h[AVRO_WIRE_HEADER_SIZE] = {AVRO_WIRE_MAGIC, (char)(id >> 24), (char)(id >> 16),
                                     (char)(id >> 8), (char)id};
    strbuf_append(out, h, sizeof h);
}

/* Byte 0: magic 0.  Bytes 1-4: schema id, big-endian.  Bytes 5..: Avro binary datum. */
int avro_wire_parse(const void *buf, size_t len, int32_t *schema_id, const char **payload,
                    size_t *payload_len, char *errstr, size_t errstr_size)
{
    const unsigned char *p = buf;
    if (len < AVRO_WIRE_HEADER_SIZE) {
        snprintf(errstr, errstr_size,
                 "parse Confluent wire format: message of %zu bytes is shorter than the 5-byte "
                 "header",
                 len);
        return -1;
    }
    if (p[0] != AVRO_WIRE_MAGIC) {
        snprintf(errstr, errstr_size,
                 "parse Confluent wire format: magic byte is 0x%02x, not 0x00 (not a "
                 "schema-registry framed message)",
                 p[0]);
        return -1;
    }
    *schema_id =
        (int32_t)((uint32_t)p[1] << 24 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 8 | p[4]);
    *payload = (const char *)p + AVRO_WIRE_HEADER_SIZE;
    *payload_len = len - AVRO_WIRE_HEADER_SIZE;
    return 0;
}
