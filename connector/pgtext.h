/* Parsers of PostgreSQL's text output (DateStyle ISO, TimeZone UTC, bytea_output hex) into the
 * representations Avro wants: decimals as unscaled two's-complement bytes, dates as days and
 * timestamps as microseconds since 1970-01-01 UTC, bytea as raw bytes. */
#ifndef SALESCDC_PGTEXT_H
#define SALESCDC_PGTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

/* 'infinity' and '-infinity' map to the extremes of the Avro type. */
#define PGTEXT_DATE_INFINITY INT32_MAX
#define PGTEXT_TIMESTAMP_INFINITY INT64_MAX

/* Converts numeric text TEXT[0..LEN) (e.g. "-123.45") to the unscaled value at SCALE as
 * minimal big-endian two's-complement bytes (Avro decimal), appended to OUT. Fails (-1, errstr)
 * on NaN, Infinity, malformed text or more fractional digits than SCALE. */
int pgtext_decimal(const char *text, size_t len, int scale, struct strbuf *out, char *errstr,
                   size_t errstr_size);

/* Parses a date ("2024-02-29", "0044-03-15 BC", "infinity") into days since 1970-01-01. */
int pgtext_date(const char *text, size_t len, int32_t *days, char *errstr, size_t errstr_size);

/* Parses a timestamp or timestamptz ("2024-02-29 12:34:56.789+00", "... 12:00:00+05:30",
 * "... BC", "infinity") into microseconds since 1970-01-01 UTC (a timestamp without time zone
 * is taken as UTC). */
int pgtext_timestamp(const char *text, size_t len, int64_t *micros, char *errstr,
                     size_t errstr_size);

/* Decodes bytea hex output ("\x0aff") into raw bytes appended to OUT. */
int pgtext_bytea(const char *text, size_t len, struct strbuf *out, char *errstr,
                 size_t errstr_size);

#endif
