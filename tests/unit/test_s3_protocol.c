/* Unit tests of common/s3_protocol.c: SigV4 encoding of keys and queries, URLs, XML, digests and
 * the retry decision table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http.h"
#include "s3_protocol.h"

/* Encodes S and compares with WANT. */
static void expect_encoded(const char *s, int keep_slash, const char *want)
{
    struct strbuf sb = STRBUF_INIT;
    s3_uri_encode(&sb, s, strlen(s), keep_slash);
    assert_string_equal(sb.data ? sb.data : "", want);
    strbuf_release(&sb);
}

static void key_encoding_keeps_only_unreserved_and_slash(void **state)
{
    (void)state;
    expect_encoded("AZaz09-._~", 1, "AZaz09-._~");
    expect_encoded("orders/dt=2026-01-01/hour=07/t+0+00000000000000000042.json", 1,
                   "orders/dt%3D2026-01-01/hour%3D07/t%2B0%2B00000000000000000042.json");
    expect_encoded("a b", 1, "a%20b");
    expect_encoded("100%", 1, "100%25");
    expect_encoded("!$&'()*,;:@[]?#", 1, "%21%24%26%27%28%29%2A%2C%3B%3A%40%5B%5D%3F%23");
    expect_encoded("é日", 1, "%C3%A9%E6%97%A5");
    expect_encoded("", 1, "");
}

static void query_values_encode_slash(void **state)
{
    (void)state;
    expect_encoded("a/b=c", 0, "a%2Fb%3Dc");
    expect_encoded("tok+en/==", 0, "tok%2Ben%2F%3D%3D");
}

static void expect_query(const struct s3_query_param *q, size_t n, const char *want)
{
    struct strbuf sb = STRBUF_INIT;
    s3_query_build(&sb, q, n);
    assert_string_equal(sb.data ? sb.data : "", want);
    strbuf_release(&sb);
}

static void canonical_query_is_sorted_encoded_with_bare_keys(void **state)
{
    (void)state;
    struct s3_query_param list[] = {{"prefix", "orders/dt=2026-01-01/"},
                                    {"max-keys", "5"},
                                    {"list-type", "2"},
                                    {"continuation-token", "1/a+b=="}};
    expect_query(list, 4,
                 "continuation-token=1%2Fa%2Bb%3D%3D&list-type=2&max-keys=5&"
                 "prefix=orders%2Fdt%3D2026-01-01%2F");
    assert_string_equal(list[0].name, "prefix"); /* the caller's array is not reordered */
    struct s3_query_param bare[] = {{"uploads", NULL}};
    expect_query(bare, 1, "uploads=");
    struct s3_query_param part[] = {{"uploadId", "x/y+z="}, {"partNumber", "10"}};
    expect_query(part, 2, "partNumber=10&uploadId=x%2Fy%2Bz%3D");
    /* Sorting is by the encoded name, byte-wise: upper case before lower case. */
    struct s3_query_param mixed[] = {{"b", "1"}, {"B", "2"}, {"a", ""}};
    expect_query(mixed, 3, "B=2&a=&b=1");
    expect_query(NULL, 0, "");
}

static void expect_url(const char *endpoint, int virtual_host, const char *key, const char *query,
                       const char *want)
{
    struct strbuf sb = STRBUF_INIT;
    s3_url_build(&sb, endpoint, "bucket", virtual_host, key, query);
    assert_string_equal(sb.data, want);
    strbuf_release(&sb);
}

static void urls_in_path_and_virtual_host_style(void **state)
{
    (void)state;
    expect_url("http://127.0.0.1:59000", 0, "a b/c=d", NULL,
               "http://127.0.0.1:59000/bucket/a%20b/c%3Dd");
    expect_url("http://127.0.0.1:59000/", 0, NULL, "list-type=2",
               "http://127.0.0.1:59000/bucket?list-type=2");
    expect_url("https://s3.eu-west-1.amazonaws.com", 1, "k+1",
               "uploads=", "https://bucket.s3.eu-west-1.amazonaws.com/k%2B1?uploads=");
    expect_url("https://s3.amazonaws.com", 1, NULL, "list-type=2",
               "https://bucket.s3.amazonaws.com/?list-type=2");
    expect_url("http://proxy:8080/s3/", 0, "k", NULL, "http://proxy:8080/s3/bucket/k");
}

static void xml_find_and_unescape(void **state)
{
    (void)state;
    const char *xml = "<?xml version=\"1.0\"?><R xmlns=\"x\"><Empty/><Key>a&amp;b&lt;&#34;&#x22;"
                      "&#233;&bogus;&</Key><Keys>no</Keys></R>";
    struct strbuf sb = STRBUF_INIT;
    assert_int_equal(s3_xml_get(xml, strlen(xml), "Key", &sb), 1);
    assert_string_equal(sb.data, "a&b<\"\"é&bogus;&");
    assert_int_equal(s3_xml_get(xml, strlen(xml), "Keys", &sb), 1);
    assert_string_equal(sb.data, "no");
    assert_int_equal(s3_xml_get(xml, strlen(xml), "Empty", &sb), 1);
    assert_null(sb.data);
    assert_int_equal(s3_xml_get(xml, strlen(xml), "Missing", &sb), 0);
    assert_int_equal(s3_xml_get(xml, strlen(xml), "R", &sb), 1);
    /* Unterminated elements and truncated input are not found. */
    assert_int_equal(s3_xml_get("<Key>abc", 8, "Key", &sb), 0);
    assert_int_equal(s3_xml_get(xml, 30, "Key", &sb), 0);
    strbuf_release(&sb);
}

static void error_document_parsed(void **state)
{
    (void)state;
    /* As MinIO answers a PUT signed with a wrong secret. */
    const char *body =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>SignatureDoesNotMatch</Code>"
        "<Message>The request signature we calculated does not match the signature you "
        "provided. Check your key and signing method.</Message><Key>a/b.json</Key>"
        "<BucketName>salescdc</BucketName><Resource>/salescdc/a/b.json</Resource>"
        "<RequestId>18EB59E0E58A766F</RequestId></Error>";
    struct s3_error_detail d;
    assert_int_equal(s3_error_parse(body, strlen(body), &d), 1);
    assert_string_equal(d.code, "SignatureDoesNotMatch");
    assert_true(strncmp(d.message, "The request signature we calculated", 35) == 0);
    assert_int_equal(s3_error_parse("<ListBucketResult/>", 19, &d), 0);
    assert_string_equal(d.code, "");
    assert_int_equal(s3_error_parse(NULL, 0, &d), 0);
    const char *in_200 = "<Error><Code>InternalError</Code><Message>We encountered an internal "
                         "error &amp; retried</Message></Error>";
    assert_int_equal(s3_error_parse(in_200, strlen(in_200), &d), 1);
    assert_string_equal(d.message, "We encountered an internal error & retried");
}

static void retry_decision_table(void **state)
{
    (void)state;
    static const struct {
        int transport;
        long status;
        const char *code;
        enum s3_retry want;
    } cases[] = {
        {1, 0, "", S3_RETRY_YES}, /* connection refused, reset, timeout */
        {0, 0, "", S3_RETRY_NO},  /* e.g. a malformed URL or TLS certificate problem */
        {0, 500, "InternalError", S3_RETRY_YES},
        {0, 502, "", S3_RETRY_YES},
        {0, 503, "SlowDown", S3_RETRY_YES},
        {0, 503, "ServiceUnavailable", S3_RETRY_YES},
        {0, 504, "", S3_RETRY_YES},
        {0, 429, "TooManyRequests", S3_RETRY_YES},
        {0, 400, "RequestTimeout", S3_RETRY_YES},
        {0, 400, "BadDigest", S3_RETRY_NO},
        {0, 400, "EntityTooSmall", S3_RETRY_NO},
        {0, 403, "SignatureDoesNotMatch", S3_RETRY_NO},
        {0, 403, "AccessDenied", S3_RETRY_NO},
        {0, 404, "NoSuchBucket", S3_RETRY_NO},
        {0, 404, "NoSuchKey", S3_RETRY_NO},
        {0, 404, "NoSuchUpload", S3_RETRY_NO},
        {0, 409, "", S3_RETRY_NO},
        {0, 501, "NotImplemented", S3_RETRY_NO},
        {0, 505, "", S3_RETRY_NO},
        {0, 200, "InternalError", S3_RETRY_YES}, /* CompleteMultipartUpload's 200 + <Error> */
        {0, 200, "SlowDown", S3_RETRY_YES},
        {0, 200, "InvalidPart", S3_RETRY_NO},
        {0, 200, "", S3_RETRY_NO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (s3_retry_decide(cases[i].transport, cases[i].status, cases[i].code) != cases[i].want)
            fail_msg("case %zu: transport=%d status=%ld code=%s", i, cases[i].transport,
                     cases[i].status, cases[i].code);
    }
}

static void transport_errors_classified(void **state)
{
    (void)state;
    assert_true(http_transport_retryable(CURLE_COULDNT_CONNECT));
    assert_true(http_transport_retryable(CURLE_OPERATION_TIMEDOUT));
    assert_true(http_transport_retryable(CURLE_GOT_NOTHING));
    assert_true(http_transport_retryable(CURLE_RECV_ERROR));
    assert_false(http_transport_retryable(CURLE_URL_MALFORMAT));
    assert_false(http_transport_retryable(CURLE_PEER_FAILED_VERIFICATION));
    assert_true(http_transport_not_sent(CURLE_COULDNT_CONNECT));
    assert_false(http_transport_not_sent(CURLE_RECV_ERROR));
}

static void backoff_doubles_caps_and_jitters(void **state)
{
    (void)state;
    for (uint32_t r = 0; r < 1000; r += 7) {
        long first = http_backoff_ms(1, 200, 10000, r);
        long third = http_backoff_ms(3, 200, 10000, r);
        long late = http_backoff_ms(30, 200, 10000, r);
        assert_in_range(first, 100, 200);
        assert_in_range(third, 400, 800);
        assert_in_range(late, 5000, 10000);
    }
    assert_int_equal(http_backoff_ms(1, 200, 10000, 0), 100);
    assert_int_equal(http_backoff_ms(1, 200, 10000, 100), 200);
    uint32_t rng = 0;
    assert_int_not_equal(http_random(&rng), http_random(&rng));
}

static void etags_and_digests(void **state)
{
    (void)state;
    char etag[S3_ETAG_SIZE], hex[S3_SHA256_HEX_SIZE], b64[S3_MD5_BASE64_SIZE];
    unsigned char md5[S3_MD5_SIZE];
    s3_etag_normalize("\"6520213D3695A344F306EFFFA2523807\"", etag);
    assert_string_equal(etag, "6520213d3695a344f306efffa2523807");
    s3_etag_normalize("W/\"abc-2\"", etag);
    assert_string_equal(etag, "abc-2");
    s3_sha256_hex("", 0, hex);
    assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    s3_md5("", 0, md5);
    s3_md5_base64(md5, b64);
    assert_string_equal(b64, "1B2M2Y8AsgTpgAmY7PhCfg==");
    /* Two parts "a" and "b": MD5(MD5("a") || MD5("b")) (value from Python hashlib). */
    unsigned char parts[2][S3_MD5_SIZE];
    s3_md5("a", 1, parts[0]);
    s3_md5("b", 1, parts[1]);
    s3_multipart_etag((const unsigned char(*)[S3_MD5_SIZE])parts, 2, etag);
    assert_string_equal(etag, "96e024ba2074fe77e8e965ba43a704be-2");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(key_encoding_keeps_only_unreserved_and_slash),
        cmocka_unit_test(query_values_encode_slash),
        cmocka_unit_test(canonical_query_is_sorted_encoded_with_bare_keys),
        cmocka_unit_test(urls_in_path_and_virtual_host_style),
        cmocka_unit_test(xml_find_and_unescape),
        cmocka_unit_test(error_document_parsed),
        cmocka_unit_test(retry_decision_table),
        cmocka_unit_test(transport_errors_classified),
        cmocka_unit_test(backoff_doubles_caps_and_jitters),
        cmocka_unit_test(etags_and_digests),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
