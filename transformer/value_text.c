/* Text forms of Avro values: exact decimals, ISO-8601 times, base64. */
#include "value_text.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "xalloc.h"

/* Divides the big-endian base-256 magnitude MAG[0..LEN) by 10^9 in place; returns the remainder. */
static uint32_t divide_by_1e9(unsigned char *mag, size_t len)
{
    uint64_t rem = 0;
    for (size_t i = 0; i < len; i++) {
        uint64_t cur = (rem << 8) | mag[i];
        mag[i] = (unsigned char)(cur / 1000000000u);
        rem = cur % 1000000000u;
    }
    return (uint32_t)rem;
}

/* Decimal digits of the magnitude MAG[0..LEN) (destroyed), without leading zeros ("0" for
 * zero). Caller frees with free(). */
static char *magnitude_digits(unsigned char *mag, size_t len)
{
    /* 256^len < 10^(2.41 len): 3 digits per byte and one 9-digit chunk of slack suffice. */
    size_t cap = 3 * len + 10, n = 0;
    char *rev = xmalloc(cap);
    size_t start = 0;
    do {
        uint32_t chunk = divide_by_1e9(mag + start, len - start);
        while (start < len && mag[start] == 0)
            start++;
        for (int i = 0; i < 9 && (chunk || start < len); i++, chunk /= 10)
            rev[n++] = (char)('0' + chunk % 10);
    } while (start < len);
    if (n == 0)
        rev[n++] = '0';
    char *digits = xmalloc(n + 1);
    for (size_t i = 0; i < n; i++)
        digits[i] = rev[n - 1 - i];
    digits[n] = '\0';
    free(rev);
    return digits;
}

void value_text_decimal(const unsigned char *bytes, size_t len, int scale, struct strbuf *out)
{
    int negative = len > 0 && (bytes[0] & 0x80);
    unsigned char *mag = xmalloc(len ? len : 1);
    if (negative) { /* two's complement: invert and add one */
        unsigned carry = 1;
        for (size_t i = len; i-- > 0;) {
            unsigned v = (unsigned)(unsigned char)~bytes[i] + carry;
            mag[i] = (unsigned char)v;
            carry = v >> 8;
        }
    } else if (len) {
        memcpy(mag, bytes, len);
    }
    char *digits = magnitude_digits(mag, len);
    free(mag);
    size_t n = strlen(digits);
    if (negative)
        strbuf_puts(out, "-");
    if (scale <= 0) {
        strbuf_puts(out, digits);
    } else if (n > (size_t)scale) {
        strbuf_append(out, digits, n - (size_t)scale);
        strbuf_puts(out, ".");
        strbuf_puts(out, digits + n - (size_t)scale);
    } else {
        strbuf_puts(out, "0.");
        for (size_t i = n; i < (size_t)scale; i++)
            strbuf_puts(out, "0");
        strbuf_puts(out, digits);
    }
    free(digits);
}

/* Floor division and modulo, so that times before 1970 split into seconds and a fraction >= 0. */
static void split(int64_t value, int64_t unit, int64_t *whole, int64_t *frac)
{
    *whole = value / unit;
    *frac = value % unit;
    if (*frac < 0) {
        *frac += unit;
        *whole -= 1;
    }
}

/* Formats SECONDS since the epoch with FMT; returns 0, or -1 if the year is outside 0..9999. */
static int format_utc(int64_t seconds, const char *fmt, char *buf, size_t size)
{
    struct tm tm;
    time_t t = (time_t)seconds;
    if (!gmtime_r(&t, &tm) || tm.tm_year < -1900 || tm.tm_year > 9999 - 1900)
        return -1;
    return strftime(buf, size, fmt, &tm) > 0 ? 0 : -1;
}

static void append_fraction(int64_t frac, int64_t units_per_s, struct strbuf *out)
{
    if (units_per_s == 1000)
        strbuf_printf(out, ".%03lld", (long long)frac);
    else if (units_per_s == 1000000)
        strbuf_printf(out, ".%06lld", (long long)frac);
}

void value_text_timestamp(int64_t value, int64_t units_per_s, struct strbuf *out)
{
    char buf[64];
    int64_t seconds, frac;
    if (value == INT64_MAX || value == INT64_MIN) {
        strbuf_puts(out, value == INT64_MAX ? "infinity" : "-infinity");
        return;
    }
    split(value, units_per_s, &seconds, &frac);
    if (format_utc(seconds, "%Y-%m-%dT%H:%M:%S", buf, sizeof buf) < 0) {
        strbuf_printf(out, "%lld", (long long)value);
        return;
    }
    strbuf_puts(out, buf);
    append_fraction(frac, units_per_s, out);
    strbuf_puts(out, "Z");
}

void value_text_date(int32_t days, struct strbuf *out)
{
    char buf[32];
    if (format_utc((int64_t)days * 86400, "%Y-%m-%d", buf, sizeof buf) < 0)
        strbuf_printf(out, "%ld", (long)days);
    else
        strbuf_puts(out, buf);
}

void value_text_time(int64_t value, int64_t units_per_s, struct strbuf *out)
{
    int64_t seconds, frac;
    split(value, units_per_s, &seconds, &frac);
    strbuf_printf(out, "%02lld:%02lld:%02lld", (long long)(seconds / 3600),
                  (long long)(seconds / 60 % 60), (long long)(seconds % 60));
    append_fraction(frac, units_per_s, out);
}

void value_text_base64(const unsigned char *bytes, size_t len, struct strbuf *out)
{
    unsigned char *b64 = xmalloc(4 * ((len + 2) / 3) + 1);
    int n = EVP_EncodeBlock(b64, bytes, (int)len);
    strbuf_append(out, (const char *)b64, (size_t)n);
    free(b64);
}
