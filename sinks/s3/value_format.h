/* Text forms of Avro values the sink writes: exact decimals, Hive-readable timestamps, dates,
 * times, JSON strings and base64. Every function appends to a strbuf. */
#ifndef SALESCDC_SINK_VALUE_FORMAT_H
#define SALESCDC_SINK_VALUE_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* Appends the decimal whose unscaled value is the big-endian two's-complement integer
 * BYTES[0..LEN) and whose scale is SCALE, exactly: "-12.30", "0.05", "7" (scale 0). An empty
 * value is 0. */
void sink_format_decimal(struct strbuf *out, const unsigned char *bytes, size_t len, int scale);

/* Appends "YYYY-MM-DD HH:MM:SS.fff" (DIGITS 3) or "...ffffff" (DIGITS 6) for VALUE units
 * (1000 or 1000000 per second) since the epoch, UTC. This is the text Hive's JSON reader
 * (and so Trino's) takes for a timestamp; "T" and "Z" are not accepted there. */
void sink_format_timestamp(struct strbuf *out, int64_t value, int64_t units_per_second, int digits);

/* Appends "YYYY-MM-DD" for DAYS since 1970-01-01. */
void sink_format_date(struct strbuf *out, int64_t days);

/* Appends "HH:MM:SS.fff" or "...ffffff" for VALUE units after midnight. */
void sink_format_time(struct strbuf *out, int64_t value, int64_t units_per_second, int digits);

/* Appends S[0..LEN) as a JSON string with quotes; bytes >= 0x80 are copied as they are (the
 * input is Avro string data, UTF-8), control characters escaped. */
void sink_format_json_string(struct strbuf *out, const char *s, size_t len);

/* Appends the standard base64 encoding of DATA[0..LEN) (with padding). */
void sink_format_base64(struct strbuf *out, const unsigned char *data, size_t len);

/* Splits VALUE units (UNITS per second) into whole seconds and a non-negative fraction
 * (floor division, so instants before 1970 work). */
void sink_format_split(int64_t value, int64_t units, int64_t *seconds, int64_t *fraction);

#endif
