/* Validation of Avro default values against their schema. */
#include "avsc_default.h"

#include <stdint.h>
#include <string.h>

#include "avsc.h"

#define DEFAULT_MAX_DEPTH 128

static int enum_has(const json_t *e, const char *symbol)
{
    json_t *symbols = json_object_get(e, "symbols");
    for (size_t i = 0; i < json_array_size(symbols); i++)
        if (strcmp(json_string_value(json_array_get(symbols, i)), symbol) == 0)
            return 1;
    return 0;
}

static int record_valid(const struct avsc *s, const json_t *rec, const json_t *value, int depth)
{
    if (!json_is_object(value))
        return 0;
    json_t *fields = json_object_get(rec, "fields");
    for (size_t i = 0; i < json_array_size(fields); i++) {
        json_t *f = json_array_get(fields, i);
        json_t *v = json_object_get(value, json_string_value(json_object_get(f, "name")));
        if (!v)
            v = json_object_get(f, "default");
        if (!v || !avsc_default_valid(s, json_object_get(f, "type"), v, depth + 1))
            return 0;
    }
    return 1;
}

static int container_valid(const struct avsc *s, const json_t *type, const char *t,
                           const json_t *value, int depth)
{
    if (strcmp(t, "array") == 0) {
        if (!json_is_array(value))
            return 0;
        for (size_t i = 0; i < json_array_size(value); i++)
            if (!avsc_default_valid(s, json_object_get(type, "items"), json_array_get(value, i),
                                    depth + 1))
                return 0;
        return 1;
    }
    if (!json_is_object(value))
        return 0;
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)value, key, v)
    {
        if (!avsc_default_valid(s, json_object_get(type, "values"), v, depth + 1))
            return 0;
    }
    return 1;
}

int avsc_default_valid(const struct avsc *s, const json_t *type, const json_t *value, int depth)
{
    if (depth > DEFAULT_MAX_DEPTH)
        return 0;
    type = avsc_resolve(s, type);
    const char *t = avsc_type(type);
    if (!t)
        return 0;
    if (strcmp(t, "union") == 0)
        return json_array_size(type) > 0 &&
               avsc_default_valid(s, json_array_get(type, 0), value, depth + 1);
    if (strcmp(t, "null") == 0)
        return json_is_null(value);
    if (strcmp(t, "boolean") == 0)
        return json_is_boolean(value);
    if (strcmp(t, "int") == 0)
        return json_is_integer(value) && json_integer_value(value) >= INT32_MIN &&
               json_integer_value(value) <= INT32_MAX;
    if (strcmp(t, "long") == 0)
        return json_is_integer(value);
    if (strcmp(t, "float") == 0 || strcmp(t, "double") == 0)
        return json_is_number(value);
    if (!strcmp(t, "bytes") || !strcmp(t, "string") || !strcmp(t, "fixed"))
        return json_is_string(value);
    if (strcmp(t, "enum") == 0)
        return json_is_string(value) && enum_has(type, json_string_value(value));
    if (strcmp(t, "record") == 0 || strcmp(t, "error") == 0)
        return record_valid(s, type, value, depth);
    if (strcmp(t, "array") == 0 || strcmp(t, "map") == 0)
        return container_valid(s, type, t, value, depth);
    return 0;
}
