/* Avro binary encoding of primitive values. */
#include "avro_binary.h"

#include <string.h>

void avrobin_long(struct strbuf *out, int64_t v)
{
    char buf[10];
    size_t n = 0;
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    while (z > 0x7f) {
        buf[n++] = (char)((z & 0x7f) | 0x80);
        z >>= 7;
    }
    buf[n++] = (char)z;
    strbuf_append(out, buf, n);
}

void avrobin_boolean(struct strbuf *out, int v)
{
    char b = v ? 1 : 0;
    strbuf_append(out, &b, 1);
}

/* Appends the N low bytes of BITS, least significant first. */
static void put_le(struct strbuf *out, uint64_t bits, size_t n)
{
    char buf[8];
    for (size_t i = 0; i < n; i++, bits >>= 8)
        buf[i] = (char)(bits & 0xff);
    strbuf_append(out, buf, n);
}

void avrobin_float(struct strbuf *out, float v)
{
    uint32_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_le(out, bits, 4);
}

void avrobin_double(struct strbuf *out, double v)
{
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    put_le(out, bits, 8);
}

void avrobin_bytes(struct strbuf *out, const void *data, size_t len)
{
    avrobin_long(out, (int64_t)len);
    if (len)
        strbuf_append(out, data, len);
}
