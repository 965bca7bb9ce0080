/* Schema compatibility by the Avro schema-resolution rules, and compatibility levels. */
#include "avsc_compat.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "avsc.h"
#include "xalloc.h"

static const char *const level_names[] = {
    "NONE", "BACKWARD",        "BACKWARD_TRANSITIVE", "FORWARD", "FORWARD_TRANSITIVE",
    "FULL", "FULL_TRANSITIVE",
};

int avsc_compat_level_parse(const char *name, enum avsc_compat_level *out)
{
    for (size_t i = 0; name && i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum avsc_compat_level)i;
            return 0;
        }
    }
    return -1;
}

const char *avsc_compat_level_name(enum avsc_compat_level level)
{
    return level_names[level];
}

/* A pair of records being compared further up: meeting it again (a recursive type) means
 * "compatible so far", which ends the recursion. */
struct pair {
    const json_t *reader, *writer;
    const struct pair *up;
};

struct walk {
    const struct avsc *reader, *writer;
    const char *rrole, *wrole;
    char path[512];
    int quiet;    /* > 0 while trying union branches: failures are not reported */
    char *detail; /* the first reported incompatibility */
};

static void report(struct walk *wk, const char *type, const char *info, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void report(struct walk *wk, const char *type, const char *info, const char *fmt, ...)
{
    if (wk->quiet || wk->detail)
        return;
    char desc[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(desc, sizeof desc, fmt, ap);
    va_end(ap);
    wk->detail =
        xasprintf("{errorType:'%s', description:'%s', additionalInfo:'%s'}", type, desc, info);
}

/* Appends a segment to the path; returns the previous length, for path_pop(). */
static size_t path_push(struct walk *wk, const char *fmt, const char *s, size_t i)
{
    size_t len = strlen(wk->path);
    char seg[256];
    if (s)
        snprintf(seg, sizeof seg, fmt, s);
    else
        snprintf(seg, sizeof seg, fmt, i);
    snprintf(wk->path + len, sizeof wk->path - len, "%s", seg);
    return len;
}

static void path_pop(struct walk *wk, size_t len)
{
    wk->path[len] = '\0';
}

static const char *path_or_root(const struct walk *wk)
{
    return wk->path[0] ? wk->path : "/";
}

static int promotable(const char *w, const char *r)
{
    if (strcmp(w, "int") == 0)
        return !strcmp(r, "long") || !strcmp(r, "float") || !strcmp(r, "double");
    if (strcmp(w, "long") == 0)
        return !strcmp(r, "float") || !strcmp(r, "double");
    if (strcmp(w, "float") == 0)
        return !strcmp(r, "double");
    if (strcmp(w, "string") == 0)
        return !strcmp(r, "bytes");
    if (strcmp(w, "bytes") == 0)
        return !strcmp(r, "string");
    return 0;
}

static const char *short_name(const char *full)
{
    const char *dot = strrchr(full, '.');
    return dot ? dot + 1 : full;
}

/* Named types match by unqualified name, or when a reader alias names the writer type. */
static int names_match(const json_t *r, const json_t *w)
{
    const char *rn = json_string_value(json_object_get(r, "name"));
    const char *wn = json_string_value(json_object_get(w, "name"));
    if (!rn || !wn)
        return 0;
    if (strcmp(short_name(rn), short_name(wn)) == 0)
        return 1;
    json_t *aliases = json_object_get(r, "aliases");
    for (size_t i = 0; i < json_array_size(aliases); i++) {
        const char *a = json_string_value(json_array_get(aliases, i));
        if (a && (strcmp(a, wn) == 0 || strcmp(a, short_name(wn)) == 0))
            return 1;
    }
    return 0;
}

static int check(struct walk *wk, const json_t *r, const json_t *w, const struct pair *up);

/* The writer field the reader field F reads: same name, or one of F's aliases. */
static const json_t *writer_field(const json_t *wfields, const json_t *f, size_t *index)
{
    const char *name = json_string_value(json_object_get(f, "name"));
    json_t *aliases = json_object_get(f, "aliases");
    for (size_t i = 0; i < json_array_size(wfields); i++) {
        const json_t *wf = json_array_get(wfields, i);
        const char *wn = json_string_value(json_object_get(wf, "name"));
        int match = strcmp(wn, name) == 0;
        for (size_t a = 0; !match && a < json_array_size(aliases); a++)
            match = json_is_string(json_array_get(aliases, a)) &&
                    strcmp(json_string_value(json_array_get(aliases, a)), wn) == 0;
        if (match) {
            *index = i;
            return wf;
        }
    }
    return NULL;
}

static int check_record(struct walk *wk, const json_t *r, const json_t *w, const struct pair *up)
{
    for (const struct pair *p = up; p; p = p->up)
        if (p->reader == r && p->writer == w)
            return 1;
    struct pair here = {r, w, up};
    json_t *rfields = json_object_get(r, "fields"), *wfields = json_object_get(w, "fields");
    int ok = 1;
    for (size_t i = 0; ok && i < json_array_size(rfields); i++) {
        const json_t *f = json_array_get(rfields, i);
        const char *name = json_string_value(json_object_get(f, "name"));
        size_t wi = 0;
        const json_t *wf = writer_field(wfields, f, &wi);
        size_t len = path_push(wk, "/fields/%zu", NULL, i);
        if (wf) {
            path_push(wk, "/type", "", 0);
            ok = check(wk, json_object_get(f, "type"), json_object_get(wf, "type"), &here);
        } else if (!json_object_get(f, "default")) {
            report(wk, "READER_FIELD_MISSING_DEFAULT_VALUE", name,
                   "The field '%s' at path '%s' in the %s schema has no default value and is "
                   "missing in the %s schema",
                   name, wk->path, wk->rrole, wk->wrole);
            ok = 0;
        }
        path_pop(wk, len);
    }
    return ok;
}

static int check_enum(struct walk *wk, const json_t *r, const json_t *w)
{
    if (json_object_get(r, "default"))
        return 1; /* unknown writer symbols read as the reader's default */
    json_t *rs = json_object_get(r, "symbols"), *ws = json_object_get(w, "symbols");
    for (size_t i = 0; i < json_array_size(ws); i++) {
        const char *sym = json_string_value(json_array_get(ws, i));
        int found = 0;
        for (size_t j = 0; !found && j < json_array_size(rs); j++)
            found = strcmp(sym, json_string_value(json_array_get(rs, j))) == 0;
        if (!found) {
            report(wk, "MISSING_ENUM_SYMBOLS", sym,
                   "The %s schema is missing enum symbols '%s' at path '%s' in the %s schema",
                   wk->rrole, sym, path_or_root(wk), wk->wrole);
            return 0;
        }
    }
    return 1;
}

static int decimal_scale(const json_t *node, long long *scale)
{
    const char *lt = json_string_value(json_object_get(node, "logicalType"));
    if (!lt || strcmp(lt, "decimal") != 0 || !json_is_integer(json_object_get(node, "precision")))
        return 0;
    json_t *s = json_object_get(node, "scale");
    *scale = json_is_integer(s) ? json_integer_value(s) : 0;
    return 1;
}

/* Both decimals: the scale gives the unscaled integer its meaning, so it must not change. */
static int check_decimal(struct walk *wk, const json_t *r, const json_t *w)
{
    long long rs, ws;
    if (!decimal_scale(r, &rs) || !decimal_scale(w, &ws) || rs == ws)
        return 1;
    report(wk, "TYPE_MISMATCH", "decimal scale",
           "The decimal scale at path '%s' is %lld in the %s schema and %lld in the %s schema",
           path_or_root(wk), rs, wk->rrole, ws, wk->wrole);
    return 0;
}

/* Reader is a union: some branch must read W. */
static int check_reader_union(struct walk *wk, const json_t *r, const json_t *w,
                              const struct pair *up)
{
    wk->quiet++;
    int ok = 0;
    for (size_t i = 0; !ok && i < json_array_size(r); i++)
        ok = check(wk, json_array_get(r, i), w, up);
    wk->quiet--;
    if (!ok)
        report(wk, "MISSING_UNION_BRANCH", avsc_type(w),
               "The %s schema is missing a type inside a union field at path '%s' in the %s "
               "schema",
               wk->rrole, path_or_root(wk), wk->wrole);
    return ok;
}

/* Writer is a union: every branch it may have written must be readable. */
static int check_writer_union(struct walk *wk, const json_t *r, const json_t *w,
                              const struct pair *up)
{
    int ok = 1;
    for (size_t i = 0; ok && i < json_array_size(w); i++) {
        size_t len = path_push(wk, "/%zu", NULL, i);
        ok = check(wk, r, json_array_get(w, i), up);
        path_pop(wk, len);
    }
    return ok;
}

static int type_mismatch(struct walk *wk, const char *rt, const char *wt)
{
    char info[128];
    snprintf(info, sizeof info, "%s", wt);
    report(wk, "TYPE_MISMATCH", info,
           "The type (path '%s') of a field in the %s schema (%s) does not match with the %s "
           "schema (%s)",
           path_or_root(wk), wk->rrole, rt, wk->wrole, wt);
    return 0;
}

static int check_named(struct walk *wk, const json_t *r, const json_t *w, const char *t,
                       const struct pair *up)
{
    if (!names_match(r, w)) {
        report(wk, "NAME_MISMATCH", json_string_value(json_object_get(r, "name")),
               "The name of the schema has changed (path '%s')", path_or_root(wk));
        return 0;
    }
    if (strcmp(t, "enum") == 0)
        return check_enum(wk, r, w);
    if (strcmp(t, "fixed") == 0) {
        if (!json_equal(json_object_get(r, "size"), json_object_get(w, "size"))) {
            report(wk, "FIXED_SIZE_MISMATCH", "size",
                   "The size of FIXED type field at path '%s' in the %s schema does not match "
                   "with the %s schema",
                   path_or_root(wk), wk->rrole, wk->wrole);
            return 0;
        }
        return check_decimal(wk, r, w);
    }
    return check_record(wk, r, w, up);
}

static const char *kind(const char *t)
{
    return strcmp(t, "error") == 0 ? "record" : t;
}

static int check(struct walk *wk, const json_t *r, const json_t *w, const struct pair *up)
{
    r = avsc_resolve(wk->reader, r);
    w = avsc_resolve(wk->writer, w);
    const char *rt = avsc_type(r), *wt = avsc_type(w);
    if (!rt || !wt)
        return type_mismatch(wk, rt ? rt : "?", wt ? wt : "?");
    if (strcmp(wt, "union") == 0)
        return check_writer_union(wk, r, w, up);
    if (strcmp(rt, "union") == 0)
        return check_reader_union(wk, r, w, up);
    if (strcmp(kind(rt), kind(wt)) != 0)
        return promotable(wt, rt) ? 1 : type_mismatch(wk, rt, wt);
    if (avsc_is_primitive(rt))
        return check_decimal(wk, r, w);
    if (strcmp(rt, "array") == 0 || strcmp(rt, "map") == 0) {
        const char *attr = strcmp(rt, "array") == 0 ? "items" : "values";
        size_t len = path_push(wk, "/%s", attr, 0);
        int ok = check(wk, json_object_get(r, attr), json_object_get(w, attr), up);
        path_pop(wk, len);
        return ok;
    }
    return check_named(wk, r, w, kind(rt), up);
}

int avsc_can_read(const struct avsc *reader, const struct avsc *writer, const char *reader_role,
                  const char *writer_role, char **detail)
{
    struct walk wk = {reader, writer, reader_role, writer_role, "", 0, NULL};
    int ok = check(&wk, avsc_root(reader), avsc_root(writer), NULL);
    if (ok) {
        free(wk.detail);
        wk.detail = NULL;
    } else if (!wk.detail) {
        wk.detail = xstrdup("{errorType:'TYPE_MISMATCH'}");
    }
    if (detail)
        *detail = wk.detail;
    else
        free(wk.detail);
    return ok;
}

/* One candidate/existing pair under the level's direction(s). */
static int check_one(enum avsc_compat_level level, const struct avsc *cand, const struct avsc *old,
                     char **detail)
{
    int backward = level == AVSC_COMPAT_BACKWARD || level == AVSC_COMPAT_BACKWARD_TRANSITIVE ||
                   level == AVSC_COMPAT_FULL || level == AVSC_COMPAT_FULL_TRANSITIVE;
    int forward = level == AVSC_COMPAT_FORWARD || level == AVSC_COMPAT_FORWARD_TRANSITIVE ||
                  level == AVSC_COMPAT_FULL || level == AVSC_COMPAT_FULL_TRANSITIVE;
    if (backward && !avsc_can_read(cand, old, "new", "old", detail))
        return 0;
    if (forward && !avsc_can_read(old, cand, "old", "new", detail))
        return 0;
    return 1;
}

int avsc_compat_check(enum avsc_compat_level level, const struct avsc *candidate,
                      const struct avsc *const *existing, size_t n, char **detail,
                      size_t *failed_index)
{
    if (detail)
        *detail = NULL;
    if (level == AVSC_COMPAT_NONE || n == 0)
        return 1;
    int transitive = level == AVSC_COMPAT_BACKWARD_TRANSITIVE ||
                     level == AVSC_COMPAT_FORWARD_TRANSITIVE ||
                     level == AVSC_COMPAT_FULL_TRANSITIVE;
    size_t first = transitive ? 0 : n - 1;
    for (size_t i = n; i-- > first;) { /* latest first, as Confluent reports */
        if (!check_one(level, candidate, existing[i], detail)) {
            if (failed_index)
                *failed_index = i;
            return 0;
        }
    }
    return 1;
}
