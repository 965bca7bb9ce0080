/* Unit tests of s3_list_page_parse(): ListObjectsV2 answers as MinIO wrote them (captured from
 * the local stack), with escaped keys, continuation tokens and common prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "s3_client.h"

/* max-keys=2 of four objects: truncated, with a base64 token that needs encoding when sent. */
static const char TRUNCATED[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>salescdc</Name>"
    "<Prefix>probe2/</Prefix><NextContinuationToken>cHJvYmUyL2R0PTEveFttaW5pb19jYWNoZTp2MixyZXR1"
    "cm46XQ==</NextContinuationToken><KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true"
    "</IsTruncated><Contents><Key>probe2/a&amp;b&lt;c&gt;.txt</Key><LastModified>2026-11-25T17:"
    "37:32.692Z</LastModified><ETag>&#34;6520213d3695a344f306efffa2523807&#34;</ETag><Size>3"
    "</Size><StorageClass>STANDARD</StorageClass></Contents><Contents><Key>probe2/dt=1/x</Key>"
    "<LastModified>2026-11-25T17:37:32.702Z</LastModified><ETag>&#34;6520213d3695a344f306efffa25"
    "23807-2&#34;</ETag><Size>10485760</Size><StorageClass>STANDARD</StorageClass></Contents>"
    "</ListBucketResult>";

/* delimiter=/ over the same objects: two files and two "directories". */
static const char DELIMITED[] =
    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
    "<ListBucketResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><Name>salescdc</Name>"
    "<Prefix>probe2/</Prefix><KeyCount>4</KeyCount><MaxKeys>1000</MaxKeys><Delimiter>/"
    "</Delimiter><IsTruncated>false</IsTruncated><Contents><Key>probe2/a&amp;b&lt;c&gt;.txt</Key>"
    "<LastModified>2026-11-25T17:37:32.692Z</LastModified><ETag>&#34;6520213d3695a344f306efffa25"
    "23807&#34;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass></Contents><Contents>"
    "<Key>probe2/z</Key><LastModified>2026-11-25T17:37:32.720Z</LastModified><ETag>&#34;6520213d"
    "3695a344f306efffa2523807&#34;</ETag><Size>3</Size><StorageClass>STANDARD</StorageClass>"
    "</Contents><CommonPrefixes><Prefix>probe2/dt=1/</Prefix></CommonPrefixes><CommonPrefixes>"
    "<Prefix>probe2/dt=2/</Prefix></CommonPrefixes></ListBucketResult>";

static void truncated_page_has_entries_and_token(void **state)
{
    (void)state;
    struct s3_list_page page = {0};
    char err[256];
    assert_int_equal(s3_list_page_parse(TRUNCATED, strlen(TRUNCATED), &page, err, sizeof err), 0);
    assert_int_equal(page.n_entries, 2);
    assert_string_equal(page.entries[0].key, "probe2/a&b<c>.txt");
    assert_int_equal(page.entries[0].size, 3);
    assert_string_equal(page.entries[0].etag, "6520213d3695a344f306efffa2523807");
    assert_string_equal(page.entries[0].last_modified, "2026-11-25T17:37:32.692Z");
    assert_string_equal(page.entries[1].key, "probe2/dt=1/x");
    assert_int_equal(page.entries[1].size, 10485760);
    assert_string_equal(page.entries[1].etag, "6520213d3695a344f306efffa2523807-2");
    assert_true(page.is_truncated);
    assert_string_equal(page.next_token, "cHJvYmUyL2R0PTEveFttaW5pb19jYWNoZTp2MixyZXR1cm46XQ==");
    assert_int_equal(page.n_prefixes, 0);
    s3_list_page_release(&page);
    assert_null(page.entries);
}

static void delimited_page_has_common_prefixes(void **state)
{
    (void)state;
    struct s3_list_page page = {0};
    char err[256];
    assert_int_equal(s3_list_page_parse(DELIMITED, strlen(DELIMITED), &page, err, sizeof err), 0);
    assert_int_equal(page.n_entries, 2);
    assert_string_equal(page.entries[1].key, "probe2/z");
    assert_int_equal(page.n_prefixes, 2);
    assert_string_equal(page.common_prefixes[0], "probe2/dt=1/");
    assert_string_equal(page.common_prefixes[1], "probe2/dt=2/");
    assert_false(page.is_truncated);
    assert_null(page.next_token);
    /* Parsing again into the same page replaces its content (no leak under ASan). */
    assert_int_equal(s3_list_page_parse(TRUNCATED, strlen(TRUNCATED), &page, err, sizeof err), 0);
    assert_int_equal(page.n_prefixes, 0);
    s3_list_page_release(&page);
}

static void empty_listing(void **state)
{
    (void)state;
    static const char xml[] = "<ListBucketResult><Name>b</Name><KeyCount>0</KeyCount>"
                              "<IsTruncated>false</IsTruncated></ListBucketResult>";
    struct s3_list_page page = {0};
    char err[256];
    assert_int_equal(s3_list_page_parse(xml, strlen(xml), &page, err, sizeof err), 0);
    assert_int_equal(page.n_entries, 0);
    assert_false(page.is_truncated);
    s3_list_page_release(&page);
}

static void malformed_listings_are_errors(void **state)
{
    (void)state;
    struct s3_list_page page = {0};
    char err[256];
    static const char no_key[] = "<ListBucketResult><Contents><Size>1</Size></Contents>"
                                 "</ListBucketResult>";
    static const char no_token[] = "<ListBucketResult><IsTruncated>true</IsTruncated>"
                                   "</ListBucketResult>";
    static const char html[] = "<html><body>proxy error</body></html>";
    assert_int_equal(s3_list_page_parse(no_key, strlen(no_key), &page, err, sizeof err), -1);
    assert_non_null(strstr(err, "<Key>"));
    assert_int_equal(s3_list_page_parse(no_token, strlen(no_token), &page, err, sizeof err), -1);
    assert_non_null(strstr(err, "NextContinuationToken"));
    assert_int_equal(s3_list_page_parse(html, strlen(html), &page, err, sizeof err), -1);
    assert_non_null(strstr(err, "ListBucketResult"));
    assert_int_equal(s3_list_page_parse(NULL, 0, &page, err, sizeof err), -1);
    assert_null(page.entries);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(truncated_page_has_entries_and_token),
        cmocka_unit_test(delimited_page_has_common_prefixes),
        cmocka_unit_test(empty_listing),
        cmocka_unit_test(malformed_listings_are_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
