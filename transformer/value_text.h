/* Text forms of Avro logical-type values for the JSON output: decimals as exact decimal strings,
 * timestamps and dates as ISO-8601, bytes as base64. */
#ifndef SALESCDC_TRANSFORMER_VALUE_TEXT_H
#define SALESCDC_TRANSFORMER_VALUE_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Appends the decimal with unscaled value BYTES[0..LEN) (two's complement, big-endian, as Avro's
 * decimal logical type stores it; LEN 0 is zero) and SCALE digits after the point to OUT:
 * "-12.30" for {0xfb, 0x32} (-1230) and scale 2; every scale digit is written. Any length. */
void value_text_decimal(const unsigned char *bytes, size_t len, int scale, struct strbuf *out);

/* Appends an Avro timestamp (UNITS_PER_S 1000 for timestamp-millis, 1000000 for
 * timestamp-micros) as "YYYY-MM-DDTHH:MM:SS.fff[fff]Z" in UTC; INT64_MAX and INT64_MIN (how
 * PostgreSQL's infinity and -infinity arrive) as "infinity" and "-infinity"; a value whose year
 * is outside 0..9999 as its plain number. */
void value_text_timestamp(int64_t value, int64_t units_per_s, struct strbuf *out);

/* Appends an Avro date (days since 1970-01-01) as "YYYY-MM-DD" (or the number, as above). */
void value_text_date(int32_t days, struct strbuf *out);

/* Appends an Avro time of day (UNITS_PER_S as above) as "HH:MM:SS.fff[fff]". */
void value_text_time(int64_t value, int64_t units_per_s, struct strbuf *out);

/* Appends BYTES[0..LEN) in base64 (RFC 4648, padded). */
void value_text_base64(const unsigned char *bytes, size_t len, struct strbuf *out);

#endif
