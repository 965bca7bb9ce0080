/* Multipart uploads for the S3 client (create, parts, complete, abort) and the choice between a
 * single PUT and a multipart upload by size. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "s3_client.h"
#include "s3_internal.h"
#include "xalloc.h"

struct s3_multipart {
    struct s3_client *c; /* borrowed */
    char *key;
    char *upload_id;
    unsigned char (*md5s)[S3_MD5_SIZE]; /* per part, for the expected final ETag */
    char (*etags)[S3_ETAG_SIZE];        /* per part, as the server returned them */
    size_t n_parts;
    size_t cap;
    uint64_t size;
};

/* Builds "uploadId=<id>" (and "partNumber=<n>" when PART > 0) in canonical form into OUT. */
static void upload_query(const struct s3_multipart *mp, size_t part, struct strbuf *out)
{
    char number[24];
    snprintf(number, sizeof number, "%zu", part);
    struct s3_query_param q[2] = {{"uploadId", mp->upload_id}, {"partNumber", number}};
    s3_query_build(out, q, part > 0 ? 2 : 1);
}

struct s3_multipart *s3_multipart_create(struct s3_client *c, const char *key,
                                         const char *content_type, int *result, char *errstr,
                                         size_t errstr_size)
{
    struct http_response resp = {0};
    struct strbuf id = STRBUF_INIT;
    struct s3_multipart *mp = NULL;
    int rc = S3_ERR_INVALID;
    char *type_header =
        xasprintf("Content-Type: %s", content_type ? content_type : "application/octet-stream");
    const char *headers[] = {type_header, NULL};
    struct s3_call call = {.method = "POST",
                           .op = "CreateMultipartUpload",
                           .key = key,
                           .query = "uploads=",
                           .headers = headers};

    if (!key || !*key)
        s3_fail(c, rc, "CreateMultipartUpload", key, errstr, errstr_size, "empty object key");
    else
        rc = s3_call_perform(c, &call, &resp, errstr, errstr_size);
    if (rc == S3_OK && (!s3_xml_get(resp.body.data, resp.body.len, "UploadId", &id) || !id.len))
        rc = s3_fail(c, S3_ERR_PROTOCOL, "CreateMultipartUpload", key, errstr, errstr_size,
                     "no <UploadId> in the answer: %.200s", resp.body.data ? resp.body.data : "");
    if (rc == S3_OK) {
        mp = xcalloc(1, sizeof *mp);
        mp->c = c;
        mp->key = xstrdup(key);
        mp->upload_id = strbuf_detach(&id);
    }
    if (result)
        *result = rc;
    free(type_header);
    strbuf_release(&id);
    http_response_release(&resp);
    return mp;
}

/* Records part N's digest and ETag, growing the arrays as needed. */
static void add_part(struct s3_multipart *mp, const unsigned char md5[S3_MD5_SIZE],
                     const char *etag, size_t len)
{
    if (mp->n_parts == mp->cap) {
        mp->cap = mp->cap ? mp->cap * 2 : 16;
        mp->md5s = xrealloc(mp->md5s, mp->cap * sizeof *mp->md5s);
        mp->etags = xrealloc(mp->etags, mp->cap * sizeof *mp->etags);
    }
    memcpy(mp->md5s[mp->n_parts], md5, S3_MD5_SIZE);
    snprintf(mp->etags[mp->n_parts], S3_ETAG_SIZE, "%s", etag);
    mp->n_parts++;
    mp->size += len;
}

int s3_multipart_upload_part(struct s3_multipart *mp, const void *data, size_t len, char *errstr,
                             size_t errstr_size)
{
    unsigned char md5[S3_MD5_SIZE];
    char md5_b64[S3_MD5_BASE64_SIZE], md5_hex[2 * S3_MD5_SIZE + 1], md5_header[64];
    char etag[S3_ETAG_SIZE];
    struct strbuf query = STRBUF_INIT;
    struct http_response resp = {0};
    size_t part = mp->n_parts + 1;

    if (part > S3_PARTS_MAX)
        return s3_fail(mp->c, S3_ERR_INVALID, "UploadPart", mp->key, errstr, errstr_size,
                       "more than %d parts", S3_PARTS_MAX);
    s3_md5(data, len, md5);
    s3_md5_base64(md5, md5_b64);
    s3_hex(md5, sizeof md5, md5_hex);
    snprintf(md5_header, sizeof md5_header, "Content-MD5: %s", md5_b64);
    upload_query(mp, part, &query);
    const char *headers[] = {md5_header, NULL};
    struct s3_call call = {.method = "PUT",
                           .op = "UploadPart",
                           .key = mp->key,
                           .query = query.data,
                           .body = data,
                           .body_len = len,
                           .headers = headers};
    int rc = s3_call_perform(mp->c, &call, &resp, errstr, errstr_size);
    if (rc == S3_OK) {
        http_response_header(&resp, "ETag", etag, sizeof etag);
        s3_etag_normalize(etag, etag);
        if (!mp->c->skip_etag_check && strcmp(etag, md5_hex) != 0)
            rc = s3_fail(mp->c, S3_ERR_INTEGRITY, "UploadPart", mp->key, errstr, errstr_size,
                         "part %zu: ETag \"%s\" is not the MD5 %s of the %zu bytes sent", part,
                         etag, md5_hex, len);
        else
            add_part(mp, md5, etag, len);
    }
    strbuf_release(&query);
    http_response_release(&resp);
    return rc;
}

/* The CompleteMultipartUpload document listing every part with its ETag. */
static void complete_body(const struct s3_multipart *mp, struct strbuf *out)
{
    strbuf_puts(out, "<CompleteMultipartUpload>");
    for (size_t i = 0; i < mp->n_parts; i++)
        strbuf_printf(out, "<Part><PartNumber>%zu</PartNumber><ETag>\"%s\"</ETag></Part>", i + 1,
                      mp->etags[i]);
    strbuf_puts(out, "</CompleteMultipartUpload>");
}

/* After a retried CompleteMultipartUpload answered NoSuchUpload: an earlier attempt may have
 * completed it and lost the answer. Returns S3_OK when the object stored under the key is ours
 * (same ETag), else RC unchanged. */
static int recover_lost_completion(struct s3_multipart *mp, const char *want_etag, int rc,
                                   char *errstr, size_t errstr_size)
{
    struct s3_object_info info;
    char head_err[256];
    if (s3_head_object(mp->c, mp->key, &info, head_err, sizeof head_err) != S3_OK ||
        strcmp(info.etag, want_etag) != 0 || info.size != mp->size)
        return rc;
    log_info("s3: CompleteMultipartUpload s3://%s/%s: an earlier attempt completed it (ETag %s)",
             mp->c->bucket, mp->key, want_etag);
    if (errstr_size)
        errstr[0] = '\0';
    return S3_OK;
}

/* Checks the ETag in a CompleteMultipartUpload answer against WANT. */
static int check_complete_etag(struct s3_multipart *mp, const struct http_response *resp,
                               const char *want, char *errstr, size_t errstr_size)
{
    struct strbuf raw = STRBUF_INIT;
    char got[S3_ETAG_SIZE];
    s3_xml_get(resp->body.data, resp->body.len, "ETag", &raw);
    s3_etag_normalize(raw.data ? raw.data : "", got);
    strbuf_release(&raw);
    if (mp->c->skip_etag_check || strcmp(got, want) == 0)
        return S3_OK;
    return s3_fail(mp->c, S3_ERR_INTEGRITY, "CompleteMultipartUpload", mp->key, errstr, errstr_size,
                   "object ETag \"%s\" is not the expected \"%s\" of %zu parts", got, want,
                   mp->n_parts);
}

int s3_multipart_complete(struct s3_multipart *mp, struct s3_object_info *info, char *errstr,
                          size_t errstr_size)
{
    struct strbuf query = STRBUF_INIT, body = STRBUF_INIT;
    struct http_response resp = {0};
    char want[S3_ETAG_SIZE];
    if (mp->n_parts == 0)
        return s3_fail(mp->c, S3_ERR_INVALID, "CompleteMultipartUpload", mp->key, errstr,
                       errstr_size, "no part was uploaded");
    s3_multipart_etag((const unsigned char(*)[S3_MD5_SIZE])mp->md5s, mp->n_parts, want);
    upload_query(mp, 0, &query);
    complete_body(mp, &body);
    const char *headers[] = {"Content-Type: application/xml", NULL};
    struct s3_call call = {.method = "POST",
                           .op = "CompleteMultipartUpload",
                           .key = mp->key,
                           .query = query.data,
                           .body = body.data,
                           .body_len = body.len,
                           .headers = headers,
                           .error_in_200 = 1};
    int rc = s3_call_perform(mp->c, &call, &resp, errstr, errstr_size);
    if (rc == S3_OK)
        rc = check_complete_etag(mp, &resp, want, errstr, errstr_size);
    else if (rc == S3_ERR_NOT_FOUND && call.attempts > 1 &&
             strcmp(call.err.code, "NoSuchUpload") == 0)
        rc = recover_lost_completion(mp, want, rc, errstr, errstr_size);
    if (rc == S3_OK && info) {
        memset(info, 0, sizeof *info);
        info->size = mp->size;
        snprintf(info->etag, sizeof info->etag, "%s", want);
    }
    strbuf_release(&query);
    strbuf_release(&body);
    http_response_release(&resp);
    return rc;
}

int s3_multipart_abort(struct s3_multipart *mp, char *errstr, size_t errstr_size)
{
    struct strbuf query = STRBUF_INIT;
    struct http_response resp = {0};
    upload_query(mp, 0, &query);
    struct s3_call call = {
        .method = "DELETE", .op = "AbortMultipartUpload", .key = mp->key, .query = query.data};
    int rc = s3_call_perform(mp->c, &call, &resp, errstr, errstr_size);
    /* A retried abort whose first attempt went through finds nothing left to abort. */
    if (rc == S3_ERR_NOT_FOUND && call.attempts > 1 && strcmp(call.err.code, "NoSuchUpload") == 0)
        rc = S3_OK;
    strbuf_release(&query);
    http_response_release(&resp);
    return rc;
}

const char *s3_multipart_upload_id(const struct s3_multipart *mp)
{
    return mp->upload_id;
}

void s3_multipart_destroy(struct s3_multipart *mp)
{
    if (!mp)
        return;
    free(mp->key);
    free(mp->upload_id);
    free(mp->md5s);
    free(mp->etags);
    free(mp);
}

/* Uploads DATA in parts of PART_SIZE and completes; aborts the upload when anything fails. */
static int put_multipart(struct s3_client *c, const char *key, const unsigned char *data,
                         size_t len, const char *content_type, size_t part_size,
                         struct s3_object_info *info, char *errstr, size_t errstr_size)
{
    int rc;
    struct s3_multipart *mp = s3_multipart_create(c, key, content_type, &rc, errstr, errstr_size);
    if (!mp)
        return rc;
    for (size_t off = 0; rc == S3_OK && off < len; off += part_size) {
        size_t n = len - off < part_size ? len - off : part_size;
        rc = s3_multipart_upload_part(mp, data + off, n, errstr, errstr_size);
    }
    if (rc == S3_OK)
        rc = s3_multipart_complete(mp, info, errstr, errstr_size);
    if (rc != S3_OK) {
        char abort_err[256];
        if (s3_multipart_abort(mp, abort_err, sizeof abort_err) != S3_OK)
            log_warn("s3: could not abort multipart upload of s3://%s/%s: %s", c->bucket, key,
                     abort_err);
    }
    s3_multipart_destroy(mp);
    return rc;
}

int s3_put_object_auto(struct s3_client *c, const char *key, const void *data, size_t len,
                       const char *content_type, size_t threshold, size_t part_size,
                       struct s3_object_info *info, char *errstr, size_t errstr_size)
{
    if (len <= threshold)
        return s3_put_object(c, key, data, len, content_type, info, errstr, errstr_size);
    if (part_size < S3_PART_MIN)
        return s3_fail(c, S3_ERR_INVALID, "PUT", key, errstr, errstr_size,
                       "multipart part size %zu is below S3's minimum of %d bytes", part_size,
                       S3_PART_MIN);
    if ((len + part_size - 1) / part_size > S3_PARTS_MAX)
        return s3_fail(c, S3_ERR_INVALID, "PUT", key, errstr, errstr_size,
                       "%zu bytes in parts of %zu would exceed %d parts", len, part_size,
                       S3_PARTS_MAX);
    return put_multipart(c, key, data, len, content_type, part_size, info, errstr, errstr_size);
}
