/* Include/exclude/rename rules for flat-record columns. */
#include "columns.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct name_list {
    char **items;
    size_t n;
};

struct columns_rules {
    struct name_list include, exclude, rename_from, rename_to;
};

int columns_valid_name(const char *name)
{
    if (!(isalpha((unsigned char)name[0]) || name[0] == '_'))
        return 0;
    for (const char *p = name + 1; *p; p++)
        if (!(isalnum((unsigned char)*p) || *p == '_'))
            return 0;
    return 1;
}

static void list_add(struct name_list *l, const char *s, size_t n)
{
    l->items = xrealloc(l->items, (l->n + 1) * sizeof *l->items);
    l->items[l->n++] = xasprintf("%.*s", (int)n, s);
}

static long list_find(const struct name_list *l, const char *s)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->items[i], s) == 0)
            return (long)i;
    return -1;
}

static void list_free(struct name_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
}

/* Splits TEXT at commas into trimmed items appended to L. Returns 0, or -1 on an empty item. */
static int split(const char *text, struct name_list *l)
{
    if (!text)
        return 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, ',');
        const char *stop = end ? end : p + strlen(p);
        const char *a = p, *b = stop;
        while (a < b && isspace((unsigned char)*a))
            a++;
        while (b > a && isspace((unsigned char)b[-1]))
            b--;
        if (a == b) {
            if (!end && l->n == 0 && p == text)
                return 0; /* the whole text is blank */
            return -1;
        }
        list_add(l, a, (size_t)(b - a));
        p = end ? end + 1 : stop;
    }
    return 0;
}

/* Splits each "old:new" item of PAIRS into RULES' rename lists. */
static int parse_renames(struct columns_rules *r, struct name_list *pairs, char *errstr,
                         size_t errstr_size)
{
    for (size_t i = 0; i < pairs->n; i++) {
        char *item = pairs->items[i], *colon = strchr(item, ':');
        if (!colon || colon == item || !colon[1]) {
            snprintf(errstr, errstr_size, "option columns.rename: '%s' is not old:new", item);
            return -1;
        }
        *colon = '\0';
        const char *to = colon + 1;
        if (!columns_valid_name(to) || strncmp(to, "__", 2) == 0) {
            snprintf(errstr, errstr_size,
                     "option columns.rename: new name '%s' is not a valid Avro name, or starts "
                     "with __ (kept for metadata)",
                     to);
            return -1;
        }
        if (list_find(&r->rename_from, item) >= 0 || list_find(&r->rename_to, to) >= 0) {
            snprintf(errstr, errstr_size, "option columns.rename: '%s' or '%s' appears twice", item,
                     to);
            return -1;
        }
        list_add(&r->rename_from, item, strlen(item));
        list_add(&r->rename_to, to, strlen(to));
    }
    return 0;
}

struct columns_rules *columns_rules_new(const char *include, const char *exclude,
                                        const char *rename, char *errstr, size_t errstr_size)
{
    struct columns_rules *r = xcalloc(1, sizeof *r);
    struct name_list pairs = {0};
    int rc = 0;
    if (split(include, &r->include) < 0) {
        snprintf(errstr, errstr_size, "option columns.include: empty column name in '%s'", include);
        rc = -1;
    } else if (split(exclude, &r->exclude) < 0) {
        snprintf(errstr, errstr_size, "option columns.exclude: empty column name in '%s'", exclude);
        rc = -1;
    } else if (split(rename, &pairs) < 0) {
        snprintf(errstr, errstr_size, "option columns.rename: empty item in '%s'", rename);
        rc = -1;
    } else {
        rc = parse_renames(r, &pairs, errstr, errstr_size);
    }
    list_free(&pairs);
    if (rc < 0) {
        columns_rules_destroy(r);
        return NULL;
    }
    return r;
}

void columns_rules_destroy(struct columns_rules *rules)
{
    if (!rules)
        return;
    list_free(&rules->include);
    list_free(&rules->exclude);
    list_free(&rules->rename_from);
    list_free(&rules->rename_to);
    free(rules);
}

const char *columns_rules_apply(const struct columns_rules *rules, const char *name)
{
    if (!rules)
        return name;
    if (rules->include.n && list_find(&rules->include, name) < 0)
        return NULL;
    if (list_find(&rules->exclude, name) >= 0)
        return NULL;
    long i = list_find(&rules->rename_from, name);
    return i >= 0 ? rules->rename_to.items[i] : name;
}
