/* Avro binary encoding of primitive values, appended to a strbuf (Avro 1.11 specification,
 * "Binary Encoding"):
 *   null      nothing
 *   boolean   one byte, 0 or 1
 *   int, long zig-zag coded ((n << 1) ^ (n >> 63)), then variable-length: 7 bits per byte, least
 *             significant group first, high bit set on every byte but the last
 *   float     4 bytes, double 8 bytes: IEEE 754, little-endian
 *   bytes, string   a long length, then that many bytes (strings in UTF-8)
 *   union     a long: the index of the branch, then the value of that branch
 *   record    its fields' encodings in schema order, nothing else
 * Prefix avrobin_: avro-c owns the avro_* names. */
#ifndef SALESCDC_AVRO_BINARY_H
#define SALESCDC_AVRO_BINARY_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

void avrobin_long(struct strbuf *out, int64_t v);
void avrobin_boolean(struct strbuf *out, int v);
void avrobin_float(struct strbuf *out, float v);
void avrobin_double(struct strbuf *out, double v);
/* A length-prefixed byte string (Avro bytes and string). */
void avrobin_bytes(struct strbuf *out, const void *data, size_t len);

#endif
