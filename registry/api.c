/* Confluent Schema Registry's REST API: routing, request bodies, content types, error bodies. */
#include "api.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"
#include "registry.h"
#include "xalloc.h"

#define API_MAX_SEGMENTS 8

static const char *const v1_type = "application/vnd.schemaregistry.v1+json";

/* A handler gets the path's wildcard segments in ARGS and returns a JSON answer, or NULL with ERR
 * filled. Raw routes answer with the text of a JSON string (e.g. a schema) as is. */
typedef json_t *(*route_fn)(struct registry *r, const struct httpd_request *req, char **args,
                            struct registry_error *err);

struct route {
    const char *method;
    const char *pattern; /* segments separated by '/', "*" matches one segment */
    route_fn fn;
    int raw;
};

static int query_bool(const struct httpd_request *req, const char *key)
{
    const char *v = httpd_request_query(req, key);
    return v && strcasecmp(v, "true") == 0;
}

/* "latest" (any case) or -1 → -1; 1..2^31-1 → itself. Returns 0, or -1 if invalid. */
static int parse_version(const char *s, int *out)
{
    if (strcasecmp(s, "latest") == 0 || strcmp(s, "-1") == 0) {
        *out = -1;
        return 0;
    }
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 1 || v > 2147483647LL || s[0] == '+' || s[0] == ' ')
        return -1;
    *out = (int)v;
    return 0;
}

static json_t *invalid_version(struct registry_error *err, const char *s)
{
    json_t *j = json_string(s);
    registry_fail(err, 422, 42202,
                  "The specified version '%s' is not a valid version id. Allowed values are "
                  "between [1, 2^31-1] and the string \"latest\"",
                  j ? s : "?");
    json_decref(j);
    return NULL;
}

static int parse_id(const char *s, int *out)
{
    char *end;
    long long v = strtoll(s, &end, 10);
    if (!*s || *end || v < 0 || v > 2147483647LL || s[0] == '+' || s[0] == ' ')
        return -1;
    *out = (int)v;
    return 0;
}

/* The request body as a JSON object, or NULL with ERR (400 malformed, 422 missing). */
static json_t *body_object(const struct httpd_request *req, struct registry_error *err)
{
    json_error_t jerr;
    if (req->body_len == 0)
        return registry_fail(err, 422, 422, "The request body is required");
    json_t *body = json_loadb(req->body, req->body_len, 0, &jerr);
    if (!body)
        return registry_fail(err, 400, 400, "Unexpected character or malformed JSON: %s",
                             jerr.text);
    if (!json_is_object(body)) {
        json_decref(body);
        return registry_fail(err, 400, 400, "The request body must be a JSON object");
    }
    return body;
}

/* The "schema" of a register/lookup/compatibility body, after checking the fields salescdc
 * does not support. Borrowed from BODY; NULL with ERR on error. */
static const char *body_schema(json_t *body, struct registry_error *err)
{
    json_t *schema = json_object_get(body, "schema");
    json_t *type = json_object_get(body, "schemaType");
    json_t *refs = json_object_get(body, "references");
    if (schema && !json_is_string(schema) && !json_is_null(schema))
        return registry_fail(err, 400, 400, "\"schema\" must be a string holding the schema"), NULL;
    if (type && !json_is_null(type) &&
        (!json_is_string(type) || strcmp(json_string_value(type), "AVRO") != 0))
        return registry_fail(err, 422, 42201,
                             "Invalid schema type: salescdc-registry serves AVRO schemas only"),
               NULL;
    if (json_array_size(refs) > 0)
        return registry_fail(err, 422, 42201,
                             "Invalid schema: schema references are not supported"),
               NULL;
    const char *s = json_string_value(schema);
    return s ? s : "";
}

static json_t *with_schema(struct registry *r, const struct httpd_request *req, char **args,
                           struct registry_error *err, int op)
{
    json_t *body = body_object(req, err), *out = NULL;
    const char *schema = body ? body_schema(body, err) : NULL;
    int version = -1;
    json_t *id = json_object_get(body, "id");
    if (!schema)
        out = NULL;
    else if (op == 0 && json_is_integer(id) && json_integer_value(id) >= 0)
        registry_fail(err, 422, 42205, "Subject %s is not in import mode", args[0]);
    else if (op == 0)
        out = registry_register(r, args[0], schema, err);
    else if (op == 1)
        out = registry_lookup(r, args[0], schema, query_bool(req, "deleted"), err);
    else if (args[1] && parse_version(args[1], &version) < 0)
        invalid_version(err, args[1]);
    else
        out = registry_check(r, args[0], version, args[1] == NULL, schema,
                             query_bool(req, "verbose"), err);
    json_decref(body);
    return out;
}

static json_t *h_register(struct registry *r, const struct httpd_request *req, char **args,
                          struct registry_error *err)
{
    return with_schema(r, req, args, err, 0);
}

static json_t *h_lookup(struct registry *r, const struct httpd_request *req, char **args,
                        struct registry_error *err)
{
    return with_schema(r, req, args, err, 1);
}

static json_t *h_check(struct registry *r, const struct httpd_request *req, char **args,
                       struct registry_error *err)
{
    return with_schema(r, req, args, err, 2);
}

static json_t *h_root(struct registry *r, const struct httpd_request *req, char **args,
                      struct registry_error *err)
{
    (void)r, (void)req, (void)args, (void)err;
    return json_object();
}

static json_t *h_types(struct registry *r, const struct httpd_request *req, char **args,
                       struct registry_error *err)
{
    (void)r, (void)req, (void)args, (void)err;
    return json_pack("[s]", "AVRO");
}

static json_t *h_mode(struct registry *r, const struct httpd_request *req, char **args,
                      struct registry_error *err)
{
    (void)r, (void)req, (void)args, (void)err;
    return json_pack("{s:s}", "mode", "READWRITE");
}

/* GET /schemas/ids/{id}[/schema|/subjects|/versions]: WHICH picks the answer. */
static json_t *by_id(struct registry *r, const struct httpd_request *req, char **args,
                     struct registry_error *err, int which)
{
    int id;
    if (parse_id(args[0], &id) < 0)
        return registry_fail(err, 404, 40403, "Schema not found");
    int deleted = query_bool(req, "deleted");
    if (which == 2)
        return registry_id_subjects(r, id, deleted, err);
    if (which == 3)
        return registry_id_versions(r, id, deleted, err);
    json_t *out = registry_schema_by_id(r, id, err);
    if (out && which == 1) {
        json_t *text = json_incref(json_object_get(out, "schema"));
        json_decref(out);
        out = text;
    }
    return out;
}

static json_t *h_id(struct registry *r, const struct httpd_request *req, char **args,
                    struct registry_error *err)
{
    return by_id(r, req, args, err, 0);
}

static json_t *h_id_schema(struct registry *r, const struct httpd_request *req, char **args,
                           struct registry_error *err)
{
    return by_id(r, req, args, err, 1);
}

static json_t *h_id_subjects(struct registry *r, const struct httpd_request *req, char **args,
                             struct registry_error *err)
{
    return by_id(r, req, args, err, 2);
}

static json_t *h_id_versions(struct registry *r, const struct httpd_request *req, char **args,
                             struct registry_error *err)
{
    return by_id(r, req, args, err, 3);
}

static json_t *h_subjects(struct registry *r, const struct httpd_request *req, char **args,
                          struct registry_error *err)
{
    (void)args, (void)err;
    return registry_subjects(r, httpd_request_query(req, "subjectPrefix"),
                             query_bool(req, "deleted"));
}

static json_t *h_delete_subject(struct registry *r, const struct httpd_request *req, char **args,
                                struct registry_error *err)
{
    return registry_delete_subject(r, args[0], query_bool(req, "permanent"), err);
}

static json_t *h_versions(struct registry *r, const struct httpd_request *req, char **args,
                          struct registry_error *err)
{
    return registry_versions(r, args[0], query_bool(req, "deleted"), err);
}

/* GET/DELETE /subjects/{s}/versions/{v}[/schema|/referencedby]: WHICH picks the answer. */
static json_t *one_version(struct registry *r, const struct httpd_request *req, char **args,
                           struct registry_error *err, int which)
{
    int version;
    if (parse_version(args[1], &version) < 0)
        return invalid_version(err, args[1]);
    if (which == 3)
        return registry_delete_version(r, args[0], version, query_bool(req, "permanent"), err);
    json_t *out =
        registry_version(r, args[0], version, query_bool(req, "deleted") || which == 2, err);
    if (out && which == 1) {
        json_t *text = json_incref(json_object_get(out, "schema"));
        json_decref(out);
        return text;
    }
    if (out && which == 2) { /* references are not supported, so nothing refers to it */
        json_decref(out);
        return json_array();
    }
    return out;
}

static json_t *h_version(struct registry *r, const struct httpd_request *req, char **args,
                         struct registry_error *err)
{
    return one_version(r, req, args, err, 0);
}

static json_t *h_version_schema(struct registry *r, const struct httpd_request *req, char **args,
                                struct registry_error *err)
{
    return one_version(r, req, args, err, 1);
}

static json_t *h_referenced_by(struct registry *r, const struct httpd_request *req, char **args,
                               struct registry_error *err)
{
    return one_version(r, req, args, err, 2);
}

static json_t *h_delete_version(struct registry *r, const struct httpd_request *req, char **args,
                                struct registry_error *err)
{
    return one_version(r, req, args, err, 3);
}

static json_t *h_get_config(struct registry *r, const struct httpd_request *req, char **args,
                            struct registry_error *err)
{
    return registry_get_config(r, args[0], query_bool(req, "defaultToGlobal"), err);
}

static json_t *h_put_config(struct registry *r, const struct httpd_request *req, char **args,
                            struct registry_error *err)
{
    json_t *body = body_object(req, err), *out = NULL;
    if (body) {
        json_t *level = json_object_get(body, "compatibility");
        if (!level) /* the name GET answers with is accepted too */
            level = json_object_get(body, "compatibilityLevel");
        out = registry_set_config(r, args[0], json_string_value(level), err);
    }
    json_decref(body);
    return out;
}

static json_t *h_delete_config(struct registry *r, const struct httpd_request *req, char **args,
                               struct registry_error *err)
{
    (void)req;
    return registry_delete_config(r, args[0], err);
}

static const struct route routes[] = {
    {"GET", "", h_root, 0},
    {"GET", "schemas/types", h_types, 0},
    {"GET", "schemas/ids/*", h_id, 0},
    {"GET", "schemas/ids/*/schema", h_id_schema, 1},
    {"GET", "schemas/ids/*/subjects", h_id_subjects, 0},
    {"GET", "schemas/ids/*/versions", h_id_versions, 0},
    {"GET", "subjects", h_subjects, 0},
    {"POST", "subjects/*", h_lookup, 0},
    {"DELETE", "subjects/*", h_delete_subject, 0},
    {"GET", "subjects/*/versions", h_versions, 0},
    {"POST", "subjects/*/versions", h_register, 0},
    {"GET", "subjects/*/versions/*", h_version, 0},
    {"DELETE", "subjects/*/versions/*", h_delete_version, 0},
    {"GET", "subjects/*/versions/*/schema", h_version_schema, 1},
    {"GET", "subjects/*/versions/*/referencedby", h_referenced_by, 0},
    {"GET", "config", h_get_config, 0},
    {"PUT", "config", h_put_config, 0},
    {"GET", "config/*", h_get_config, 0},
    {"PUT", "config/*", h_put_config, 0},
    {"DELETE", "config/*", h_delete_config, 0},
    {"POST", "compatibility/subjects/*/versions", h_check, 0},
    {"POST", "compatibility/subjects/*/versions/*", h_check, 0},
    {"GET", "mode", h_mode, 0},
};

/* Splits PATH into at most API_MAX_SEGMENTS non-empty segments (in BUF); returns the count, or
 * -1 when there are more. */
static int split_path(const char *path, char *buf, size_t size, char **seg)
{
    snprintf(buf, size, "%s", path);
    int n = 0;
    for (char *save = NULL, *s = strtok_r(buf, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
        if (n == API_MAX_SEGMENTS)
            return -1;
        seg[n++] = s;
    }
    return n;
}

/* True if SEG matches PATTERN; wildcard segments go to ARGS (NULL-terminated). */
static int match(const char *pattern, char **seg, int n, char **args)
{
    char buf[128], *p[API_MAX_SEGMENTS];
    int m = split_path(pattern, buf, sizeof buf, p), a = 0;
    if (m != n)
        return 0;
    for (int i = 0; i < n; i++) {
        if (strcmp(p[i], "*") == 0)
            args[a++] = seg[i];
        else if (strcmp(p[i], seg[i]) != 0)
            return 0;
    }
    args[a] = NULL;
    return 1;
}

static void answer_error(struct httpd_response *resp, int status, int code, const char *message)
{
    json_t *j = json_pack("{s:i, s:s}", "error_code", code, "message", message);
    if (!j) /* not valid UTF-8: never echo it */
        j = json_pack("{s:i, s:s}", "error_code", code, "message", "invalid request");
    resp->status = status;
    resp->body = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
}

/* Confluent answers in the v1 type unless the client asks for plain JSON only. */
static const char *response_type(const struct httpd_request *req)
{
    const char *accept = httpd_request_header(req, "Accept");
    if (!accept || strstr(accept, "vnd.schemaregistry") || strstr(accept, "*/*") ||
        !strstr(accept, "application/json"))
        return v1_type;
    return "application/json";
}

/* Request bodies may be Confluent's types, plain JSON, or octet-stream (as Jersey accepts). */
static int acceptable_body_type(const struct httpd_request *req)
{
    static const char *const ok[] = {"application/vnd.schemaregistry.v1+json",
                                     "application/vnd.schemaregistry+json", "application/json",
                                     "application/octet-stream"};
    const char *ct = httpd_request_header(req, "Content-Type");
    if (!ct || req->body_len == 0)
        return 1;
    size_t n = strcspn(ct, "; ");
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        if (strlen(ok[i]) == n && strncasecmp(ct, ok[i], n) == 0)
            return 1;
    return 0;
}

/* Subjects are stored as JSON strings: valid UTF-8 without control characters. */
static int valid_subject(const char *s)
{
    json_t *j = json_string(s);
    json_decref(j);
    for (const char *p = s; j && *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            return 0;
    return j != NULL;
}

static void run_route(struct registry *r, const struct route *rt, const struct httpd_request *req,
                      char **args, struct httpd_response *resp)
{
    struct registry_error err = {500, 500, "internal error"};
    /* The first wildcard is a subject on every route but /schemas/ids/{id}. */
    if (args[0] && strncmp(rt->pattern, "schemas/", 8) != 0 && !valid_subject(args[0])) {
        answer_error(resp, 422, 42208, "The specified subject is not valid.");
        return;
    }
    json_t *out = rt->fn(r, req, args, &err);
    if (!out) {
        answer_error(resp, err.status, err.code, err.message);
        return;
    }
    resp->status = 200;
    if (rt->raw && json_is_string(out))
        resp->body = xstrdup(json_string_value(out));
    else
        resp->body = json_dumps(out, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
    json_decref(out);
}

void api_handle(void *arg, const struct httpd_request *req, struct httpd_response *resp)
{
    struct registry *r = arg;
    char buf[4096], *seg[API_MAX_SEGMENTS], *args[API_MAX_SEGMENTS + 1];
    resp->content_type = response_type(req);
    int n = strlen(req->path) < sizeof buf ? split_path(req->path, buf, sizeof buf, seg) : -1;
    int path_known = 0;
    for (size_t i = 0; n >= 0 && i < sizeof routes / sizeof routes[0]; i++) {
        if (!match(routes[i].pattern, seg, n, args))
            continue;
        path_known = 1;
        if (strcmp(routes[i].method, req->method) != 0)
            continue;
        if (!registry_is_ready(r))
            answer_error(resp, 503, 503, "The registry is still reading its schemas log");
        else if (!acceptable_body_type(req))
            answer_error(resp, 415, 415, "HTTP 415 Unsupported Media Type");
        else
            run_route(r, &routes[i], req, args, resp);
        log_debug("http %s %s -> %d", req->method, req->path, resp->status);
        return;
    }
    if (path_known)
        answer_error(resp, 405, 405, "HTTP 405 Method Not Allowed");
    else
        answer_error(resp, 404, 404, "HTTP 404 Not Found");
}
