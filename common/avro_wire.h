/* Confluent wire format of Kafka keys and values: magic byte 0, 4-byte big-endian schema id,
 * then the Avro binary encoding of the datum. */
#ifndef SALESCDC_AVRO_WIRE_H
#define SALESCDC_AVRO_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

#define AVRO_WIRE_MAGIC 0
#define AVRO_WIRE_HEADER_SIZE 5

/* Appends the 5-byte header for SCHEMA_ID to OUT. */
void avro_wire_put_header(struct strbuf *out, int32_t schema_id);

/* Splits the framed message BUF[0..LEN) into its schema id and Avro payload (borrowed from
 * BUF). Returns 0, or -1 with errstr naming the cause (too short, wrong magic byte). */
int avro_wire_parse(const void *buf, size_t len, int32_t *schema_id, const char **payload,
                    size_t *payload_len, char *errstr, size_t errstr_size);

#endif
