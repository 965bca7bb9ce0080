/* Parsers of PostgreSQL text output for the Avro encoder. */
#include "pgtext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Quotes at most 40 bytes of the value in error messages. */
#define SHOWN(len) ((int)((len) > 40 ? 40 : (len)))

/* Multiplies the little-endian base-256 magnitude MAG (N bytes used) by 10 and adds DIGIT. */
static void mag_mul10_add(unsigned char *mag, size_t *n, unsigned digit)
{
    unsigned carry = digit;
    for (size_t i = 0; i < *n; i++) {
        unsigned v = mag[i] * 10u + carry;
        mag[i] = (unsigned char)(v & 0xff);
        carry = v >> 8;
    }
    if (carry)
        mag[(*n)++] = (unsigned char)carry;
}

/* Appends MAG (little-endian magnitude, N bytes) as minimal big-endian two's complement. */
static void put_twos_complement(struct strbuf *out, unsigned char *mag, size_t n, int negative)
{
    if (n == 0) {
        strbuf_append(out, "", 1); /* zero: one 0x00 byte */
        return;
    }
    if (negative) { /* two's complement of the magnitude: invert, add one */
        unsigned carry = 1;
        for (size_t i = 0; i < n; i++) {
            unsigned v = (unsigned char)~mag[i] + carry;
            mag[i] = (unsigned char)(v & 0xff);
            carry = v >> 8;
        }
    }
    /* a sign byte when the top bit does not already say the sign */
    int top_set = (mag[n - 1] & 0x80) != 0;
    if (top_set != negative)
        mag[n++] = negative ? 0xff : 0x00;
    /* drop redundant leading sign bytes (e.g. 0xff 0x80.. for negatives) */
    while (n > 1 && mag[n - 1] == (negative ? 0xff : 0x00) &&
           ((mag[n - 2] & 0x80) != 0) == negative)
        n--;
    for (size_t i = n; i-- > 0;)
        strbuf_append(out, (const char *)&mag[i], 1);
}

int pgtext_decimal(const char *text, size_t len, int scale, struct strbuf *out, char *errstr,
                   size_t errstr_size)
{
    size_t i = 0, n = 0;
    int negative = 0, frac = -1, digits = 0;
    unsigned char *mag = xcalloc(len / 2 + (size_t)scale / 2 + 4, 1);
    if (i < len && (text[i] == '-' || text[i] == '+'))
        negative = text[i++] == '-';
    for (; i < len; i++) {
        if (text[i] == '.' && frac < 0) {
            frac = 0;
        } else if (text[i] >= '0' && text[i] <= '9') {
            mag_mul10_add(mag, &n, (unsigned)(text[i] - '0'));
            digits++;
            frac += frac >= 0;
        } else {
            break;
        }
    }
    if (i < len || digits == 0 || frac > scale) {
        snprintf(errstr, errstr_size,
                 "'%.*s' is not a decimal with at most %d fractional digits (NaN and Infinity "
                 "have no Avro decimal form)",
                 SHOWN(len), text, scale);
        free(mag);
        return -1;
    }
    for (int f = frac < 0 ? 0 : frac; f < scale; f++)
        mag_mul10_add(mag, &n, 0);
    put_twos_complement(out, mag, n, negative && n > 0);
    free(mag);
    return 0;
}

/* Days since 1970-01-01 of a proleptic Gregorian date (astronomical year: 1 BC is year 0). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Reads exactly-or-more digits at *P (bounded by END) into *V; returns the count read. */
static int read_num(const char **p, const char *end, int64_t *v)
{
    int n = 0;
    *v = 0;
    while (*p < end && **p >= '0' && **p <= '9' && n < 18) {
        *v = *v * 10 + (**p - '0');
        (*p)++;
        n++;
    }
    return n;
}

/* Parses "Y-M-D" at *P into days since the epoch; the caller applies " BC" (via *YEAR). */
static int parse_ymd(const char **p, const char *end, int64_t *year, int64_t *month, int64_t *day)
{
    if (read_num(p, end, year) < 1 || *p >= end || *(*p)++ != '-' || read_num(p, end, month) != 2 ||
        *p >= end || *(*p)++ != '-' || read_num(p, end, day) != 2)
        return -1;
    return *month >= 1 && *month <= 12 && *day >= 1 && *day <= 31 ? 0 : -1;
}

/* True if the text ends with " BC" (then END is moved before it). */
static int strip_bc(const char *text, const char **end)
{
    if (*end - text >= 3 && memcmp(*end - 3, " BC", 3) == 0) {
        *end -= 3;
        return 1;
    }
    return 0;
}

static int infinity(const char *text, size_t len)
{
    if (len == 8 && memcmp(text, "infinity", 8) == 0)
        return 1;
    return len == 9 && memcmp(text, "-infinity", 9) == 0 ? -1 : 0;
}

int pgtext_date(const char *text, size_t len, int32_t *days, char *errstr, size_t errstr_size)
{
    const char *p = text, *end = text + len;
    int64_t y, m, d;
    int inf = infinity(text, len), bc = strip_bc(text, &end);
    if (inf) {
        *days = inf > 0 ? PGTEXT_DATE_INFINITY : -PGTEXT_DATE_INFINITY - 1;
        return 0;
    }
    if (parse_ymd(&p, end, &y, &m, &d) < 0 || p != end) {
        snprintf(errstr, errstr_size, "'%.*s' is not an ISO date (YYYY-MM-DD)", SHOWN(len), text);
        return -1;
    }
    *days = (int32_t)days_from_civil(bc ? 1 - y : y, (unsigned)m, (unsigned)d);
    return 0;
}

/* Parses "HH:MM:SS[.ffffff]" into microseconds of the day. */
static int parse_time(const char **p, const char *end, int64_t *micros)
{
    int64_t h, mi, s, frac = 0;
    if (read_num(p, end, &h) != 2 || *p >= end || *(*p)++ != ':' || read_num(p, end, &mi) != 2 ||
        *p >= end || *(*p)++ != ':' || read_num(p, end, &s) != 2)
        return -1;
    if (*p < end && **p == '.') {
        (*p)++;
        int n = read_num(p, end, &frac);
        if (n < 1 || n > 6)
            return -1;
        for (; n < 6; n++)
            frac *= 10;
    }
    *micros = ((h * 60 + mi) * 60 + s) * 1000000 + frac;
    return 0;
}

/* Parses an optional UTC offset "+HH[:MM[:SS]]" into seconds east of UTC. */
static int parse_offset(const char **p, const char *end, int64_t *seconds)
{
    int64_t part, sign;
    *seconds = 0;
    if (*p >= end)
        return 0;
    if (**p != '+' && **p != '-')
        return -1;
    sign = *(*p)++ == '-' ? -1 : 1;
    for (int i = 0; i < 3 && *p < end; i++) {
        if (i > 0 && *(*p)++ != ':')
            return -1;
        if (read_num(p, end, &part) != 2)
            return -1;
        *seconds += part * (i == 0 ? 3600 : i == 1 ? 60 : 1);
    }
    *seconds *= sign;
    return 0;
}

int pgtext_timestamp(const char *text, size_t len, int64_t *micros, char *errstr,
                     size_t errstr_size)
{
    const char *p = text, *end = text + len;
    int64_t y, m, d, tod, offset;
    int inf = infinity(text, len), bc = strip_bc(text, &end);
    if (inf) {
        *micros = inf > 0 ? PGTEXT_TIMESTAMP_INFINITY : -PGTEXT_TIMESTAMP_INFINITY - 1;
        return 0;
    }
    if (parse_ymd(&p, end, &y, &m, &d) < 0 || p >= end || *p++ != ' ' ||
        parse_time(&p, end, &tod) < 0 || parse_offset(&p, end, &offset) < 0 || p != end) {
        snprintf(errstr, errstr_size,
                 "'%.*s' is not an ISO timestamp (YYYY-MM-DD HH:MM:SS[.ffffff][+HH[:MM]])",
                 SHOWN(len), text);
        return -1;
    }
    int64_t days = days_from_civil(bc ? 1 - y : y, (unsigned)m, (unsigned)d);
    *micros = days * 86400000000LL + tod - offset * 1000000;
    return 0;
}

static int hex_value(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

int pgtext_bytea(const char *text, size_t len, struct strbuf *out, char *errstr, size_t errstr_size)
{
    if (len < 2 || text[0] != '\\' || text[1] != 'x' || len % 2 != 0) {
        snprintf(errstr, errstr_size,
                 "bytea value is not in hex format (\\x...; set "
                 "bytea_output = hex)");
        return -1;
    }
    for (size_t i = 2; i < len; i += 2) {
        int hi = hex_value(text[i]), lo = hex_value(text[i + 1]);
        if (hi < 0 || lo < 0) {
            snprintf(errstr, errstr_size, "bytea value has a non-hex digit at offset %zu", i);
            return -1;
        }
        char byte = (char)(hi << 4 | lo);
        strbuf_append(out, &byte, 1);
    }
    return 0;
}
