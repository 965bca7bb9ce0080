/* ListObjectsV2 for the S3 client: one page, its XML, and paging through a whole prefix. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "s3_client.h"
#include "s3_internal.h"
#include "xalloc.h"

/* Decodes the text of <TAG> in [XML, XML+LEN) into a new string (caller frees), or NULL. */
static char *xml_strdup(const char *xml, size_t len, const char *tag)
{
    struct strbuf sb = STRBUF_INIT;
    if (!s3_xml_get(xml, len, tag, &sb))
        return NULL;
    return strbuf_detach(&sb);
}

/* Parses one <Contents> element (its inner text) into E. Returns 0, or -1 without a <Key>. */
static int parse_entry(const char *xml, size_t len, struct s3_list_entry *e)
{
    char *size = xml_strdup(xml, len, "Size");
    char *etag = xml_strdup(xml, len, "ETag");
    char *modified = xml_strdup(xml, len, "LastModified");
    e->key = xml_strdup(xml, len, "Key");
    e->size = size ? strtoull(size, NULL, 10) : 0;
    s3_etag_normalize(etag ? etag : "", e->etag);
    snprintf(e->last_modified, sizeof e->last_modified, "%s", modified ? modified : "");
    free(size);
    free(etag);
    free(modified);
    return e->key ? 0 : -1;
}

/* Appends every <Contents> of the LEN bytes at XML to PAGE. Returns 0, or -1 on one without a
 * key. */
static int parse_entries(const char *xml, size_t len, struct s3_list_page *page)
{
    const char *p = xml, *end = xml + len, *inner;
    size_t inner_len, cap = 0;
    while ((p = s3_xml_find(p, (size_t)(end - p), "Contents", &inner, &inner_len))) {
        if (page->n_entries == cap) {
            cap = cap ? cap * 2 : 64;
            page->entries = xrealloc(page->entries, cap * sizeof *page->entries);
        }
        struct s3_list_entry *e = &page->entries[page->n_entries];
        memset(e, 0, sizeof *e);
        page->n_entries++;
        if (parse_entry(inner, inner_len, e) != 0)
            return -1;
    }
    return 0;
}

/* Appends the <Prefix> of every <CommonPrefixes> of the LEN bytes at XML to PAGE. */
static void parse_prefixes(const char *xml, size_t len, struct s3_list_page *page)
{
    const char *p = xml, *end = xml + len, *inner;
    size_t inner_len;
    while ((p = s3_xml_find(p, (size_t)(end - p), "CommonPrefixes", &inner, &inner_len))) {
        char *prefix = xml_strdup(inner, inner_len, "Prefix");
        if (!prefix)
            continue;
        page->common_prefixes =
            xrealloc(page->common_prefixes, (page->n_prefixes + 1) * sizeof(char *));
        page->common_prefixes[page->n_prefixes++] = prefix;
    }
}

int s3_list_page_parse(const char *xml, size_t len, struct s3_list_page *page, char *errstr,
                       size_t errstr_size)
{
    const char *inner;
    size_t inner_len;
    s3_list_page_release(page);
    if (!xml || !s3_xml_find(xml, len, "ListBucketResult", &inner, &inner_len)) {
        snprintf(errstr, errstr_size, "no <ListBucketResult> in the %zu-byte answer", len);
        return -1;
    }
    if (parse_entries(inner, inner_len, page) != 0) {
        snprintf(errstr, errstr_size, "a <Contents> element without <Key>");
        s3_list_page_release(page);
        return -1;
    }
    parse_prefixes(inner, inner_len, page);
    /* Neither tag occurs inside <Contents> or <CommonPrefixes>: the first match is the page's. */
    char *truncated = xml_strdup(inner, inner_len, "IsTruncated");
    page->is_truncated = truncated && strcmp(truncated, "true") == 0;
    free(truncated);
    page->next_token = xml_strdup(inner, inner_len, "NextContinuationToken");
    if (page->is_truncated && (!page->next_token || !*page->next_token)) {
        snprintf(errstr, errstr_size, "a truncated listing without <NextContinuationToken>");
        s3_list_page_release(page);
        return -1;
    }
    return 0;
}

void s3_list_page_release(struct s3_list_page *page)
{
    for (size_t i = 0; i < page->n_entries; i++)
        free(page->entries[i].key);
    for (size_t i = 0; i < page->n_prefixes; i++)
        free(page->common_prefixes[i]);
    free(page->entries);
    free(page->common_prefixes);
    free(page->next_token);
    memset(page, 0, sizeof *page);
}

/* Builds the canonical query of a ListObjectsV2 request for PARAMS into OUT. */
static void list_query(const struct s3_list_params *params, struct strbuf *out)
{
    struct s3_query_param q[6];
    size_t n = 0;
    char max_keys[16];
    q[n++] = (struct s3_query_param){"list-type", "2"};
    if (params->prefix && *params->prefix)
        q[n++] = (struct s3_query_param){"prefix", params->prefix};
    if (params->delimiter && *params->delimiter)
        q[n++] = (struct s3_query_param){"delimiter", params->delimiter};
    if (params->start_after && *params->start_after)
        q[n++] = (struct s3_query_param){"start-after", params->start_after};
    if (params->continuation_token && *params->continuation_token)
        q[n++] = (struct s3_query_param){"continuation-token", params->continuation_token};
    if (params->max_keys > 0) {
        snprintf(max_keys, sizeof max_keys, "%d", params->max_keys);
        q[n++] = (struct s3_query_param){"max-keys", max_keys};
    }
    s3_query_build(out, q, n);
}

int s3_list_objects_v2(struct s3_client *c, const struct s3_list_params *params,
                       struct s3_list_page *page, char *errstr, size_t errstr_size)
{
    struct strbuf query = STRBUF_INIT;
    struct http_response resp = {0};
    char cause[256];
    const char *what = params->prefix ? params->prefix : "";

    s3_list_page_release(page);
    list_query(params, &query);
    struct s3_call call = {
        .method = "GET", .op = "ListObjectsV2", .shown_key = what, .query = query.data};
    int rc = s3_call_perform(c, &call, &resp, errstr, errstr_size);
    if (rc == S3_OK &&
        s3_list_page_parse(resp.body.data, resp.body.len, page, cause, sizeof cause) != 0)
        rc = s3_fail(c, S3_ERR_PROTOCOL, "ListObjectsV2", what, errstr, errstr_size,
                     "unexpected answer: %s", cause);
    strbuf_release(&query);
    http_response_release(&resp);
    return rc;
}

int s3_list_each(struct s3_client *c, const struct s3_list_params *params, s3_list_fn fn, void *arg,
                 char *errstr, size_t errstr_size)
{
    struct s3_list_params p = *params;
    struct s3_list_page page = {0};
    char *token = NULL;
    int rc;
    for (;;) {
        p.continuation_token = token;
        rc = s3_list_objects_v2(c, &p, &page, errstr, errstr_size);
        for (size_t i = 0; rc == 0 && i < page.n_entries; i++)
            rc = fn(arg, &page.entries[i]);
        if (rc != 0 || !page.is_truncated)
            break;
        free(token);
        token = page.next_token;
        page.next_token = NULL;
    }
    free(token);
    s3_list_page_release(&page);
    return rc;
}
