/* The S3 REST protocol's text formats, without I/O: SigV4 percent-encoding of keys and canonical
 * query strings, request URLs, the XML of answers and errors, digests, and the retry policy. */
#ifndef SALESCDC_S3_PROTOCOL_H
#define SALESCDC_S3_PROTOCOL_H

#include <stddef.h>
#include <stdint.h>

#include "strbuf.h"

enum {
    S3_ETAG_SIZE = 80,       /* an ETag without quotes: 32 hex digits, maybe "-<parts>" */
    S3_SHA256_HEX_SIZE = 65, /* 64 hex digits and NUL */
    S3_MD5_SIZE = 16,        /* raw MD5 digest */
    S3_MD5_BASE64_SIZE = 25, /* 24 characters and NUL */
    S3_ERROR_CODE_SIZE = 64,
    S3_ERROR_MESSAGE_SIZE = 256,
};

/* Appends LEN bytes of S to OUT percent-encoded as SigV4 wants: every byte except the
 * unreserved A-Z a-z 0-9 - . _ ~ becomes %XX (upper-case hex, UTF-8 bytes one by one); '/'
 * stays literal when KEEP_SLASH (object keys in the path), else becomes %2F (query values). */
void s3_uri_encode(struct strbuf *out, const char *s, size_t len, int keep_slash);

/* One query parameter; VALUE NULL or "" is written as "name=". Both borrowed, not encoded. */
struct s3_query_param {
    const char *name;
    const char *value;
};

/* Appends the N parameters to OUT in SigV4 canonical form, which libcurl 7.88 signs verbatim:
 * names and values percent-encoded ('/' too), sorted by encoded name then value, joined by '&',
 * without the leading '?'. PARAMS itself is not reordered. */
void s3_query_build(struct strbuf *out, const struct s3_query_param *params, size_t n);

/* Appends the URL of KEY (NULL or "": the bucket itself) in BUCKET to OUT. ENDPOINT is
 * "scheme://host[:port][/path]". Path style: ENDPOINT/BUCKET/KEY; virtual-host style:
 * scheme://BUCKET.host[:port][/path]/KEY. KEY is encoded with s3_uri_encode(); QUERY (NULL or
 * canonical text from s3_query_build()) follows a '?'. */
void s3_url_build(struct strbuf *out, const char *endpoint, const char *bucket, int virtual_host,
                  const char *key, const char *query);

/* Finds the first element <TAG>…</TAG> (or <TAG/>, or <TAG attr="…">…) in the LEN bytes at XML.
 * On success sets *INNER and *INNER_LEN to its raw content and returns the position just past
 * the element (to continue a scan); returns NULL when there is none. */
const char *s3_xml_find(const char *xml, size_t len, const char *tag, const char **inner,
                        size_t *inner_len);

/* Appends LEN bytes of XML text to OUT with the five named entities and numeric character
 * references (&#34; &#x22;) decoded; anything else is copied as it is. */
void s3_xml_unescape(struct strbuf *out, const char *s, size_t len);

/* Replaces OUT's content with the decoded text of the first <TAG> in XML. Returns 1 when found,
 * 0 (OUT left empty) when not. */
int s3_xml_get(const char *xml, size_t len, const char *tag, struct strbuf *out);

/* The Code and Message of an S3 <Error> document, truncated to fit. */
struct s3_error_detail {
    char code[S3_ERROR_CODE_SIZE];
    char message[S3_ERROR_MESSAGE_SIZE];
};

/* Parses BODY (LEN bytes) as an S3 error document. Returns 1 and fills OUT when BODY holds an
 * <Error> element, else 0 with OUT emptied. */
int s3_error_parse(const char *body, size_t len, struct s3_error_detail *out);

/* Whether a failed attempt is worth repeating. */
enum s3_retry {
    S3_RETRY_NO,
    S3_RETRY_YES,
};

/* The retry decision table. TRANSPORT_RETRYABLE: the attempt got no HTTP answer because of a
 * connection-level failure (see http_transport_retryable()); then STATUS is 0. Otherwise STATUS
 * is the HTTP status and CODE the S3 error Code ("" if none). Retried: connection failures,
 * 500/502/503/504 (503 SlowDown included), 429, a 400 RequestTimeout (the server gave up
 * waiting for our bytes), and a 200 whose body is an <Error> with InternalError, SlowDown or
 * ServiceUnavailable (CompleteMultipartUpload does that). Never: every other 4xx, 501, 505. */
enum s3_retry s3_retry_decide(int transport_retryable, long status, const char *code);

/* Copies ETAG without surrounding quotes or a W/ prefix, lower-cased, into OUT (S3_ETAG_SIZE). */
void s3_etag_normalize(const char *etag, char out[S3_ETAG_SIZE]);

/* Lower-case hex SHA-256 of LEN bytes at DATA. */
void s3_sha256_hex(const void *data, size_t len, char out[S3_SHA256_HEX_SIZE]);
/* Raw MD5 of LEN bytes at DATA. */
void s3_md5(const void *data, size_t len, unsigned char out[S3_MD5_SIZE]);
/* Lower-case hex of N bytes into OUT, which holds 2N+1 bytes. */
void s3_hex(const unsigned char *bytes, size_t n, char *out);
/* Base64 of an MD5 digest, as the Content-MD5 header wants it. */
void s3_md5_base64(const unsigned char md5[S3_MD5_SIZE], char out[S3_MD5_BASE64_SIZE]);

/* The ETag S3 gives a multipart object: hex MD5 of the N part MD5s concatenated, then "-N". */
void s3_multipart_etag(const unsigned char (*part_md5s)[S3_MD5_SIZE], size_t n,
                       char out[S3_ETAG_SIZE]);

#endif
