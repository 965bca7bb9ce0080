/* Schema-by-id lookups against a Confluent-compatible registry, cached by id. */
#include "registry_lookup.h"

#include <curl/curl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http.h"
#include "xalloc.h"

struct cached_schema {
    int32_t id;
    char *text;
};

/* A handful of schemas per topic over a program's life: a linear scan of an array is enough. */
struct registry_lookup {
    char *url;
    struct curl_slist *headers;
    long timeout_ms;
    CURL *curl;
    struct cached_schema *cache;
    size_t n_cache, cap_cache;
    unsigned long fetches;
};

/* "Authorization: Basic <base64(user:password)>" (RFC 7617). Caller frees with free(). */
static char *basic_auth_header(const char *user, const char *password)
{
    char *plain = xasprintf("%s:%s", user, password ? password : "");
    size_t n = strlen(plain);
    unsigned char *b64 = xmalloc(4 * ((n + 2) / 3) + 1);
    EVP_EncodeBlock(b64, (const unsigned char *)plain, (int)n);
    char *header = xasprintf("Authorization: Basic %s", (char *)b64);
    memset(plain, 0, n);
    free(plain);
    free(b64);
    return header;
}

struct registry_lookup *registry_lookup_new(const struct registry_lookup_options *opt)
{
    struct registry_lookup *rl = xcalloc(1, sizeof *rl);
    rl->url = xstrdup(opt->url ? opt->url : "");
    size_t n = strlen(rl->url);
    while (n > 0 && rl->url[n - 1] == '/')
        rl->url[--n] = '\0';
    rl->timeout_ms = opt->timeout_ms > 0 ? opt->timeout_ms : 30000;
    rl->headers = curl_slist_append(NULL, "Accept: application/vnd.schemaregistry.v1+json, "
                                          "application/json");
    if (opt->user && *opt->user) {
        char *auth = basic_auth_header(opt->user, opt->password);
        rl->headers = curl_slist_append(rl->headers, auth);
        free(auth);
    }
    rl->curl = curl_easy_init();
    if (!rl->curl || !rl->headers) {
        fprintf(stderr, "fatal: out of memory creating a libcurl handle\n");
        abort();
    }
    return rl;
}

void registry_lookup_destroy(struct registry_lookup *rl)
{
    if (!rl)
        return;
    for (size_t i = 0; i < rl->n_cache; i++)
        free(rl->cache[i].text);
    free(rl->cache);
    curl_slist_free_all(rl->headers);
    curl_easy_cleanup(rl->curl);
    free(rl->url);
    free(rl);
}

unsigned long registry_lookup_fetches(const struct registry_lookup *rl)
{
    return rl->fetches;
}

enum registry_lookup_status registry_lookup_classify(long http_status)
{
    if (http_status >= 200 && http_status < 300)
        return REGISTRY_LOOKUP_OK;
    if (http_status == 404)
        return REGISTRY_LOOKUP_NOT_FOUND;
    if (http_status == 0 || http_status == 408 || http_status == 429 || http_status >= 500)
        return REGISTRY_LOOKUP_UNAVAILABLE;
    return REGISTRY_LOOKUP_REJECTED;
}

void registry_lookup_describe_error(long http_status, const char *body, char *out, size_t out_size)
{
    json_t *root = body ? json_loads(body, 0, NULL) : NULL;
    json_t *code = json_object_get(root, "error_code");
    json_t *message = json_object_get(root, "message");
    if (json_is_integer(code) && json_is_string(message))
        snprintf(out, out_size, "HTTP %ld, error_code %lld: %s", http_status,
                 (long long)json_integer_value(code), json_string_value(message));
    else
        snprintf(out, out_size, "HTTP %ld: '%.200s'", http_status, body ? body : "");
    json_decref(root);
}

/* Takes the schema text out of a 200 answer {"schema": "...", "schemaType"?: "AVRO",
 * "references"?: []}. Returns a copy (caller frees) or NULL with errstr naming the problem. */
static char *schema_from_answer(const char *body, char *errstr, size_t errstr_size)
{
    json_error_t jerr;
    json_t *root = json_loads(body, 0, &jerr);
    json_t *schema = json_object_get(root, "schema");
    json_t *type = json_object_get(root, "schemaType");
    json_t *refs = json_object_get(root, "references");
    char *text = NULL;
    if (!json_is_string(schema))
        snprintf(errstr, errstr_size, "answer has no \"schema\" string: '%.200s'", body);
    else if (type && !(json_is_string(type) && strcmp(json_string_value(type), "AVRO") == 0))
        snprintf(errstr, errstr_size, "schema type is %s, not AVRO",
                 json_is_string(type) ? json_string_value(type) : "(not a string)");
    else if (json_array_size(refs) > 0)
        snprintf(errstr, errstr_size, "schema references are not supported");
    else
        text = xstrdup(json_string_value(schema));
    json_decref(root);
    return text;
}

static void cache_put(struct registry_lookup *rl, int32_t id, char *text)
{
    if (rl->n_cache == rl->cap_cache) {
        rl->cap_cache = rl->cap_cache ? rl->cap_cache * 2 : 16;
        rl->cache = xrealloc(rl->cache, rl->cap_cache * sizeof *rl->cache);
    }
    rl->cache[rl->n_cache++] = (struct cached_schema){id, text};
}

/* GETs /schemas/ids/ID and caches the schema. */
static enum registry_lookup_status fetch(struct registry_lookup *rl, int32_t id,
                                         const char **schema, char *errstr, size_t errstr_size)
{
    char url[2048], err[CURL_ERROR_SIZE + 256], cause[512];
    snprintf(url, sizeof url, "%s/schemas/ids/%ld", rl->url, (long)id);
    struct http_request req = {.method = "GET",
                               .url = url,
                               .headers = rl->headers,
                               .connect_timeout_ms = rl->timeout_ms,
                               .timeout_ms = rl->timeout_ms};
    struct http_response resp = {0};
    enum registry_lookup_status st;
    if (http_perform(rl->curl, &req, &resp, err, sizeof err) < 0) {
        snprintf(errstr, errstr_size, "look up schema id %ld at %s: %s", (long)id, rl->url, err);
        st = REGISTRY_LOOKUP_UNAVAILABLE;
    } else if ((st = registry_lookup_classify(resp.status)) != REGISTRY_LOOKUP_OK) {
        registry_lookup_describe_error(resp.status, resp.body.data, cause, sizeof cause);
        snprintf(errstr, errstr_size, "look up schema id %ld at %s: %s", (long)id, rl->url, cause);
    } else {
        char *text = schema_from_answer(resp.body.data ? resp.body.data : "", cause, sizeof cause);
        if (!text) {
            snprintf(errstr, errstr_size, "look up schema id %ld at %s: %s", (long)id, rl->url,
                     cause);
            st = REGISTRY_LOOKUP_REJECTED;
        } else {
            cache_put(rl, id, text);
            rl->fetches++;
            *schema = text;
        }
    }
    http_response_release(&resp);
    return st;
}

enum registry_lookup_status registry_lookup_schema(struct registry_lookup *rl, int32_t id,
                                                   const char **schema, char *errstr,
                                                   size_t errstr_size)
{
    for (size_t i = 0; i < rl->n_cache; i++) {
        if (rl->cache[i].id == id) {
            *schema = rl->cache[i].text;
            return REGISTRY_LOOKUP_OK;
        }
    }
    return fetch(rl, id, schema, errstr, errstr_size);
}
