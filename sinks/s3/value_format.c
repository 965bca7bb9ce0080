/* Text forms of decimals, timestamps, dates, times, JSON strings and base64. */
#include "value_format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"

void sink_format_split(int64_t value, int64_t units, int64_t *seconds, int64_t *fraction)
{
    int64_t s = value / units, f = value % units;
    if (f < 0) {
        f += units;
        s -= 1;
    }
    *seconds = s;
    *fraction = f;
}

/* Divides the big-endian magnitude MAG[0..LEN) by 10 in place; returns the remainder. */
static int divide_by_ten(unsigned char *mag, size_t len)
{
    unsigned rem = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned cur = (rem << 8) | mag[i];
        mag[i] = (unsigned char)(cur / 10);
        rem = cur % 10;
    }
    return (int)rem;
}

static int is_zero(const unsigned char *mag, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (mag[i])
            return 0;
    return 1;
}

/* Writes the digits of MAG into DIGITS (least significant first); returns their count. */
static size_t magnitude_digits(unsigned char *mag, size_t len, char *digits)
{
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + divide_by_ten(mag, len));
    } while (!is_zero(mag, len));
    return n;
}

void sink_format_decimal(struct strbuf *out, const unsigned char *bytes, size_t len, int scale)
{
    int negative = len > 0 && (bytes[0] & 0x80);
    unsigned char *mag = xmalloc(len ? len : 1);
    if (len == 0)
        mag[0] = 0;
    for (size_t i = 0; i < len; i++)
        mag[i] = negative ? (unsigned char)~bytes[i] : bytes[i];
    if (negative) /* two's complement: invert, then add one */
        for (size_t i = len; i-- > 0;)
            if (++mag[i] != 0)
                break;
    /* 256^len < 10^(2.41 len): at most 3 digits per byte, plus room for the leading zeros. */
    size_t cap = 3 * (len ? len : 1) + (size_t)scale + 2;
    char *digits = xmalloc(cap);
    size_t n = magnitude_digits(mag, len ? len : 1, digits);
    while (n <= (size_t)scale)
        digits[n++] = '0';
    if (negative)
        strbuf_append(out, "-", 1);
    for (size_t i = n; i-- > 0;) {
        strbuf_append(out, &digits[i], 1);
        if (i == (size_t)scale && scale > 0)
            strbuf_append(out, ".", 1);
    }
    free(digits);
    free(mag);
}

static void append_fraction(struct strbuf *out, int64_t fraction, int64_t units, int digits)
{
    if (digits <= 0)
        return;
    /* Rescale to DIGITS places: truncate finer units, pad coarser ones. */
    int64_t per = 1;
    for (int i = 0; i < digits; i++)
        per *= 10;
    int64_t scaled = units >= per ? fraction / (units / per) : fraction * (per / units);
    strbuf_printf(out, ".%0*lld", digits, (long long)scaled);
}

void sink_format_timestamp(struct strbuf *out, int64_t value, int64_t units_per_second, int digits)
{
    int64_t seconds, fraction;
    sink_format_split(value, units_per_second, &seconds, &fraction);
    time_t t = (time_t)seconds;
    struct tm tm;
    gmtime_r(&t, &tm);
    strbuf_printf(out, "%04lld-%02d-%02d %02d:%02d:%02d", (long long)tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    append_fraction(out, fraction, units_per_second, digits);
}

void sink_format_date(struct strbuf *out, int64_t days)
{
    time_t t = (time_t)(days * 86400);
    struct tm tm;
    gmtime_r(&t, &tm);
    strbuf_printf(out, "%04lld-%02d-%02d", (long long)tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday);
}

void sink_format_time(struct strbuf *out, int64_t value, int64_t units_per_second, int digits)
{
    int64_t seconds, fraction;
    sink_format_split(value, units_per_second, &seconds, &fraction);
    seconds %= 86400;
    strbuf_printf(out, "%02d:%02d:%02d", (int)(seconds / 3600), (int)(seconds / 60 % 60),
                  (int)(seconds % 60));
    append_fraction(out, fraction, units_per_second, digits);
}

void sink_format_json_string(struct strbuf *out, const char *s, size_t len)
{
    static const char hex[] = "0123456789abcdef";
    size_t run = 0; /* start of the pending run of bytes copied verbatim */
    strbuf_append(out, "\"", 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x20 && c != '"' && c != '\\')
            continue;
        strbuf_append(out, s + run, i - run);
        run = i + 1;
        if (c == '"' || c == '\\') {
            char esc[2] = {'\\', (char)c};
            strbuf_append(out, esc, 2);
        } else if (c == '\n') {
            strbuf_append(out, "\\n", 2);
        } else if (c == '\t') {
            strbuf_append(out, "\\t", 2);
        } else if (c == '\r') {
            strbuf_append(out, "\\r", 2);
        } else {
            char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            strbuf_append(out, esc, 6);
        }
    }
    strbuf_append(out, s + run, len - run);
    strbuf_append(out, "\"", 1);
}

void sink_format_base64(struct strbuf *out, const unsigned char *data, size_t len)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (size_t i = 0; i < len; i += 3) {
        unsigned v = (unsigned)data[i] << 16;
        if (i + 1 < len)
            v |= (unsigned)data[i + 1] << 8;
        if (i + 2 < len)
            v |= data[i + 2];
        char quad[4] = {alphabet[(v >> 18) & 63], alphabet[(v >> 12) & 63],
                        i + 1 < len ? alphabet[(v >> 6) & 63] : '=',
                        i + 2 < len ? alphabet[v & 63] : '='};
        strbuf_append(out, quad, 4);
    }
}
