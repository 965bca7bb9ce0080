/* The S3 REST protocol's text formats: encoding, canonical queries, URLs, XML, digests, retries. */
#include "s3_protocol.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static int unreserved(unsigned char c)
{
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_' || c == '~';
}

void s3_uri_encode(struct strbuf *out, const char *s, size_t len, int keep_slash)
{
    static const char hex[] = "0123456789ABCDEF";
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];
        if (unreserved(c) || (keep_slash && c == '/')) {
            strbuf_append(out, (const char *)&c, 1);
        } else {
            char esc[3] = {'%', hex[c >> 4], hex[c & 15]};
            strbuf_append(out, esc, 3);
        }
    }
}

/* One parameter encoded, for sorting. */
struct encoded_param {
    char *name;
    char *value;
};

static int compare_params(const void *a, const void *b)
{
    const struct encoded_param *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static char *encode_string(const char *s)
{
    struct strbuf sb = STRBUF_INIT;
    if (s)
        s3_uri_encode(&sb, s, strlen(s), 0);
    return strbuf_detach(&sb);
}

void s3_query_build(struct strbuf *out, const struct s3_query_param *params, size_t n)
{
    struct encoded_param *enc = xcalloc(n ? n : 1, sizeof *enc);
    for (size_t i = 0; i < n; i++) {
        enc[i].name = encode_string(params[i].name);
        enc[i].value = encode_string(params[i].value);
    }
    qsort(enc, n, sizeof *enc, compare_params);
    for (size_t i = 0; i < n; i++) {
        strbuf_printf(out, "%s%s=%s", i ? "&" : "", enc[i].name, enc[i].value);
        free(enc[i].name);
        free(enc[i].value);
    }
    free(enc);
}

void s3_url_build(struct strbuf *out, const char *endpoint, const char *bucket, int virtual_host,
                  const char *key, const char *query)
{
    size_t end = strlen(endpoint);
    while (end > 0 && endpoint[end - 1] == '/')
        end--;
    const char *scheme_end = strstr(endpoint, "://");
    if (virtual_host && scheme_end && (size_t)(scheme_end - endpoint) + 3 <= end) {
        size_t host_at = (size_t)(scheme_end - endpoint) + 3;
        strbuf_append(out, endpoint, host_at);
        strbuf_printf(out, "%s.", bucket);
        strbuf_append(out, endpoint + host_at, end - host_at);
        strbuf_puts(out, "/");
    } else {
        strbuf_append(out, endpoint, end);
        strbuf_printf(out, "/%s", bucket);
        if (key && *key)
            strbuf_puts(out, "/");
    }
    if (key && *key)
        s3_uri_encode(out, key, strlen(key), 1);
    if (query && *query)
        strbuf_printf(out, "?%s", query);
}

/* Finds "<TAG" followed by '>', '/' or a blank in [P, END); returns its '<' or NULL. */
static const char *find_open_tag(const char *p, const char *end, const char *tag, size_t tag_len)
{
    while (p + tag_len + 1 < end) {
        const char *lt = memchr(p, '<', (size_t)(end - p));
        if (!lt || lt + tag_len + 1 >= end)
            return NULL;
        char next = lt[tag_len + 1];
        if (memcmp(lt + 1, tag, tag_len) == 0 &&
            (next == '>' || next == '/' || next == ' ' || next == '\t' || next == '\n'))
            return lt;
        p = lt + 1;
    }
    return NULL;
}

const char *s3_xml_find(const char *xml, size_t len, const char *tag, const char **inner,
                        size_t *inner_len)
{
    const char *end = xml + len;
    size_t tag_len = strlen(tag);
    const char *open = xml ? find_open_tag(xml, end, tag, tag_len) : NULL;
    if (!open)
        return NULL;
    const char *gt = memchr(open, '>', (size_t)(end - open));
    if (!gt)
        return NULL;
    if (gt[-1] == '/') { /* <Tag/> */
        *inner = gt + 1;
        *inner_len = 0;
        return gt + 1;
    }
    for (const char *p = gt + 1; p + tag_len + 3 <= end; p++) {
        p = memchr(p, '<', (size_t)(end - p));
        if (!p || p + tag_len + 3 > end)
            break;
        if (p[1] == '/' && memcmp(p + 2, tag, tag_len) == 0 && p[2 + tag_len] == '>') {
            *inner = gt + 1;
            *inner_len = (size_t)(p - (gt + 1));
            return p + tag_len + 3;
        }
    }
    return NULL;
}

/* Appends the UTF-8 encoding of code point CP (invalid ones as U+FFFD). */
static void append_utf8(struct strbuf *out, unsigned long cp)
{
    unsigned char b[4];
    size_t n;
    if (cp == 0 || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        cp = 0xFFFD;
    if (cp < 0x80) {
        b[0] = (unsigned char)cp, n = 1;
    } else if (cp < 0x800) {
        b[0] = (unsigned char)(0xC0 | (cp >> 6)), b[1] = (unsigned char)(0x80 | (cp & 0x3F)), n = 2;
    } else if (cp < 0x10000) {
        b[0] = (unsigned char)(0xE0 | (cp >> 12)),
        b[1] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F));
        b[2] = (unsigned char)(0x80 | (cp & 0x3F)), n = 3;
    } else {
        b[0] = (unsigned char)(0xF0 | (cp >> 18)),
        b[1] = (unsigned char)(0x80 | ((cp >> 12) & 0x3F));
        b[2] = (unsigned char)(0x80 | ((cp >> 6) & 0x3F)),
        b[3] = (unsigned char)(0x80 | (cp & 0x3F));
        n = 4;
    }
    strbuf_append(out, (const char *)b, n);
}

/* Decodes the entity at S ("&…;", LEN bytes including both delimiters) into OUT; returns 0, or
 * -1 when it is not one we know. */
static int decode_entity(struct strbuf *out, const char *s, size_t len)
{
    static const struct {
        const char *name;
        char c;
    } named[] = {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}};
    for (size_t i = 0; i < sizeof named / sizeof named[0]; i++) {
        if (len == strlen(named[i].name) && memcmp(s, named[i].name, len) == 0) {
            strbuf_append(out, &named[i].c, 1);
            return 0;
        }
    }
    if (len < 4 || s[1] != '#')
        return -1;
    int hexa = s[2] == 'x' || s[2] == 'X';
    const char *digits = s + (hexa ? 3 : 2);
    char *stop;
    unsigned long cp = strtoul(digits, &stop, hexa ? 16 : 10);
    if (stop != s + len - 1 || stop == digits)
        return -1;
    append_utf8(out, cp);
    return 0;
}

void s3_xml_unescape(struct strbuf *out, const char *s, size_t len)
{
    size_t i = 0;
    while (i < len) {
        const char *amp = memchr(s + i, '&', len - i);
        size_t run = amp ? (size_t)(amp - (s + i)) : len - i;
        strbuf_append(out, s + i, run);
        i += run;
        if (!amp)
            break;
        const char *semi = memchr(amp, ';', len - i < 12 ? len - i : 12);
        if (!semi || decode_entity(out, amp, (size_t)(semi - amp) + 1) != 0) {
            strbuf_append(out, "&", 1);
            i++;
            continue;
        }
        i += (size_t)(semi - amp) + 1;
    }
}

int s3_xml_get(const char *xml, size_t len, const char *tag, struct strbuf *out)
{
    const char *inner;
    size_t inner_len;
    strbuf_release(out);
    if (!s3_xml_find(xml, len, tag, &inner, &inner_len))
        return 0;
    s3_xml_unescape(out, inner, inner_len);
    return 1;
}

/* Copies the decoded text of <TAG> in [XML, XML+LEN) into OUT (OUT_SIZE bytes, truncated). */
static void xml_copy(const char *xml, size_t len, const char *tag, char *out, size_t out_size)
{
    struct strbuf sb = STRBUF_INIT;
    s3_xml_get(xml, len, tag, &sb);
    snprintf(out, out_size, "%s", sb.data ? sb.data : "");
    strbuf_release(&sb);
}

int s3_error_parse(const char *body, size_t len, struct s3_error_detail *out)
{
    const char *inner;
    size_t inner_len;
    out->code[0] = out->message[0] = '\0';
    if (!body || !s3_xml_find(body, len, "Error", &inner, &inner_len))
        return 0;
    xml_copy(inner, inner_len, "Code", out->code, sizeof out->code);
    xml_copy(inner, inner_len, "Message", out->message, sizeof out->message);
    return 1;
}

enum s3_retry s3_retry_decide(int transport_retryable, long status, const char *code)
{
    if (status == 0)
        return transport_retryable ? S3_RETRY_YES : S3_RETRY_NO;
    if (status == 500 || status == 502 || status == 503 || status == 504 || status == 429)
        return S3_RETRY_YES;
    if (status == 400 && code && strcmp(code, "RequestTimeout") == 0)
        return S3_RETRY_YES;
    if (status >= 200 && status < 300 && code &&
        (strcmp(code, "InternalError") == 0 || strcmp(code, "SlowDown") == 0 ||
         strcmp(code, "ServiceUnavailable") == 0))
        return S3_RETRY_YES;
    return S3_RETRY_NO;
}

void s3_etag_normalize(const char *etag, char out[S3_ETAG_SIZE])
{
    size_t n = 0;
    if (strncmp(etag, "W/", 2) == 0)
        etag += 2;
    for (const char *p = etag; *p && n + 1 < S3_ETAG_SIZE; p++) {
        if (*p != '"')
            out[n++] = (char)tolower((unsigned char)*p);
    }
    out[n] = '\0';
}

static void digest(const EVP_MD *md, const void *data, size_t len, unsigned char *out)
{
    unsigned int out_len = 0;
    if (EVP_Digest(data ? data : "", len, out, &out_len, md, NULL) != 1)
        abort(); /* only fails on out-of-memory or a broken libcrypto */
}

void s3_hex(const unsigned char *bytes, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[bytes[i] >> 4];
        out[2 * i + 1] = hex[bytes[i] & 15];
    }
    out[2 * n] = '\0';
}

void s3_sha256_hex(const void *data, size_t len, char out[S3_SHA256_HEX_SIZE])
{
    unsigned char md[32];
    digest(EVP_sha256(), data, len, md);
    s3_hex(md, sizeof md, out);
}

void s3_md5(const void *data, size_t len, unsigned char out[S3_MD5_SIZE])
{
    digest(EVP_md5(), data, len, out);
}

void s3_md5_base64(const unsigned char md5[S3_MD5_SIZE], char out[S3_MD5_BASE64_SIZE])
{
    EVP_EncodeBlock((unsigned char *)out, md5, S3_MD5_SIZE);
}

void s3_multipart_etag(const unsigned char (*part_md5s)[S3_MD5_SIZE], size_t n,
                       char out[S3_ETAG_SIZE])
{
    unsigned char md[S3_MD5_SIZE];
    char hex[2 * S3_MD5_SIZE + 1];
    digest(EVP_md5(), part_md5s, n * S3_MD5_SIZE, md);
    s3_hex(md, sizeof md, hex);
    snprintf(out, S3_ETAG_SIZE, "%s-%zu", hex, n);
}
