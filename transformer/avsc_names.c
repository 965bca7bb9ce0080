/* Named-type table of an Avro schema (JSON), by the specification's namespace rules. */
#include "avsc_names.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct named {
    char *fullname;
    json_t *def; /* borrowed */
};

/* A schema defines a handful of names: a linear scan is enough. */
struct avsc_names {
    struct named *items;
    size_t n, cap;
};

static const char *const primitives[] = {"null",  "boolean", "int",   "long",
                                         "float", "double",  "bytes", "string"};

int avsc_names_is_primitive(const char *name)
{
    for (size_t i = 0; i < sizeof primitives / sizeof *primitives; i++)
        if (strcmp(name, primitives[i]) == 0)
            return 1;
    return 0;
}

int avsc_names_is_complex(const char *type)
{
    static const char *const complex[] = {"record", "error", "enum", "fixed", "array", "map"};
    for (size_t i = 0; i < sizeof complex / sizeof *complex; i++)
        if (strcmp(type, complex[i]) == 0)
            return 1;
    return 0;
}

const char *avsc_names_name_of(const struct avsc_names *names, const json_t *def)
{
    for (size_t i = 0; i < names->n; i++)
        if (names->items[i].def == def)
            return names->items[i].fullname;
    return NULL;
}

char *avsc_names_fullname(const char *name, const char *ns)
{
    if (strchr(name, '.') || !ns || !*ns)
        return xstrdup(name);
    return xasprintf("%s.%s", ns, name);
}

char *avsc_names_namespace_of(const char *fullname)
{
    const char *dot = strrchr(fullname, '.');
    return dot ? xasprintf("%.*s", (int)(dot - fullname), fullname) : xstrdup("");
}

char *avsc_names_definition_fullname(json_t *def, const char *ns)
{
    const char *name = json_string_value(json_object_get(def, "name"));
    json_t *own_ns = json_object_get(def, "namespace");
    if (!name)
        return NULL;
    return avsc_names_fullname(name, json_is_string(own_ns) ? json_string_value(own_ns) : ns);
}

json_t *avsc_names_lookup(const struct avsc_names *names, const char *name, const char *ns)
{
    char *full = avsc_names_fullname(name, ns);
    json_t *found = NULL;
    for (size_t i = 0; i < names->n && !found; i++)
        if (strcmp(names->items[i].fullname, full) == 0)
            found = names->items[i].def;
    /* A short name not found in NS may name a type of the null namespace. */
    for (size_t i = 0; i < names->n && !found && !strchr(name, '.'); i++)
        if (strcmp(names->items[i].fullname, name) == 0)
            found = names->items[i].def;
    free(full);
    return found;
}

static int add(struct avsc_names *names, char *fullname, json_t *def, char *errstr,
               size_t errstr_size)
{
    if (avsc_names_lookup(names, fullname, NULL)) {
        snprintf(errstr, errstr_size, "type name %s is defined twice", fullname);
        free(fullname);
        return -1;
    }
    if (names->n == names->cap) {
        names->cap = names->cap ? names->cap * 2 : 8;
        names->items = xrealloc(names->items, names->cap * sizeof *names->items);
    }
    names->items[names->n++] = (struct named){fullname, def};
    return 0;
}

static int collect(struct avsc_names *names, json_t *schema, const char *ns, char *errstr,
                   size_t errstr_size);

static int collect_named(struct avsc_names *names, json_t *def, const char *type, const char *ns,
                         char *errstr, size_t errstr_size)
{
    char *full = avsc_names_definition_fullname(def, ns);
    if (!full) {
        snprintf(errstr, errstr_size, "a %s type has no name", type);
        return -1;
    }
    char *inner_ns = avsc_names_namespace_of(full);
    int rc = add(names, full, def, errstr, errstr_size);
    size_t i;
    json_t *field;
    if (rc == 0 && (strcmp(type, "record") == 0 || strcmp(type, "error") == 0)) {
        json_array_foreach(json_object_get(def, "fields"), i, field)
        {
            if (rc == 0)
                rc = collect(names, json_object_get(field, "type"), inner_ns, errstr, errstr_size);
        }
    }
    free(inner_ns);
    return rc;
}

/* Walks SCHEMA (defined inside namespace NS) and adds each named type it defines. */
static int collect(struct avsc_names *names, json_t *schema, const char *ns, char *errstr,
                   size_t errstr_size)
{
    size_t i;
    json_t *branch;
    if (json_is_array(schema)) {
        json_array_foreach(schema, i, branch)
        {
            if (collect(names, branch, ns, errstr, errstr_size) < 0)
                return -1;
        }
        return 0;
    }
    if (!json_is_object(schema))
        return 0;
    const char *type = json_string_value(json_object_get(schema, "type"));
    if (!type)
        return collect(names, json_object_get(schema, "type"), ns, errstr, errstr_size);
    if (strcmp(type, "record") == 0 || strcmp(type, "error") == 0 || strcmp(type, "enum") == 0 ||
        strcmp(type, "fixed") == 0)
        return collect_named(names, schema, type, ns, errstr, errstr_size);
    if (strcmp(type, "array") == 0)
        return collect(names, json_object_get(schema, "items"), ns, errstr, errstr_size);
    if (strcmp(type, "map") == 0)
        return collect(names, json_object_get(schema, "values"), ns, errstr, errstr_size);
    return 0;
}

struct avsc_names *avsc_names_new(json_t *schema, char *errstr, size_t errstr_size)
{
    struct avsc_names *names = xcalloc(1, sizeof *names);
    if (collect(names, schema, "", errstr, errstr_size) < 0) {
        avsc_names_destroy(names);
        return NULL;
    }
    return names;
}

void avsc_names_destroy(struct avsc_names *names)
{
    if (!names)
        return;
    for (size_t i = 0; i < names->n; i++)
        free(names->items[i].fullname);
    free(names->items);
    free(names);
}
