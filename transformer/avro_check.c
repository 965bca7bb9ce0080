/* Bounds check of an Avro binary datum against its schema (no allocation). */
#include "avro_check.h"
#include "avro_cursor.h"

#include <stdint.h>
#include <stdio.h>

#define MAX_DEPTH 64

/* string and bytes: a long length, then that many bytes. */
static int check(struct avro_cursor *c, avro_schema_t s, int depth);

/* Arrays and maps: blocks of (count, items); a negative count -n is followed by the block's
 * size in bytes; a zero count ends the value. A map item is a string key, then the value. */
static int check_blocks(struct avro_cursor *c, avro_schema_t items, int is_map, int depth)
{
    int64_t count;
    int more;
    while ((more = avro_cursor_block(c, &count)) > 0)
        for (int64_t i = 0; i < count; i++)
            if ((is_map && avro_cursor_sized(c, NULL, NULL) < 0) || check(c, items, depth + 1) < 0)
                return -1;
    return more;
}

static int check_union(struct avro_cursor *c, avro_schema_t s, int depth)
{
    int64_t branch;
    if (avro_cursor_read_long(c, &branch) < 0)
        return -1;
    if (branch < 0 || (uint64_t)branch >= avro_schema_union_size(s))
        return avro_cursor_fail(c, "a union branch index is out of range");
    return check(c, avro_schema_union_branch(s, (int)branch), depth + 1);
}

static int check_record(struct avro_cursor *c, avro_schema_t s, int depth)
{
    size_t n = avro_schema_record_size(s);
    for (size_t i = 0; i < n; i++)
        if (check(c, avro_schema_record_field_get_by_index(s, (int)i), depth + 1) < 0)
            return -1;
    return 0;
}

static int check(struct avro_cursor *c, avro_schema_t s, int depth)
{
    int64_t n;
    if (depth > MAX_DEPTH)
        return avro_cursor_fail(c, "values nest deeper than 64 levels");
    switch (avro_typeof(s)) {
    case AVRO_NULL: return 0;
    case AVRO_BOOLEAN: return avro_cursor_skip(c, 1, "the data ends inside a boolean");
    case AVRO_INT32:
    case AVRO_INT64: return avro_cursor_read_long(c, &n);
    case AVRO_FLOAT: return avro_cursor_skip(c, 4, "the data ends inside a float");
    case AVRO_DOUBLE: return avro_cursor_skip(c, 8, "the data ends inside a double");
    case AVRO_STRING:
    case AVRO_BYTES: return avro_cursor_sized(c, NULL, NULL);
    case AVRO_FIXED:
        return avro_cursor_skip(c, avro_schema_fixed_size(s), "the data ends inside a fixed");
    case AVRO_ENUM:
        if (avro_cursor_read_long(c, &n) < 0)
            return -1;
        if (n < 0 || n >= avro_schema_enum_number_of_symbols(s))
            return avro_cursor_fail(c, "an enum symbol index is out of range");
        return 0;
    case AVRO_RECORD: return check_record(c, s, depth);
    case AVRO_UNION: return check_union(c, s, depth);
    case AVRO_ARRAY: return check_blocks(c, avro_schema_array_items(s), 0, depth);
    case AVRO_MAP: return check_blocks(c, avro_schema_map_values(s), 1, depth);
    case AVRO_LINK: return check(c, avro_schema_link_target(s), depth + 1);
    default: return avro_cursor_fail(c, "the schema has a type this check does not know");
    }
}

int avro_check_datum(avro_schema_t schema, const void *buf, size_t len, char *errstr,
                     size_t errstr_size)
{
    struct avro_cursor c = {buf, len, 0, errstr, errstr_size};
    if (check(&c, schema, 0) < 0)
        return -1;
    if (c.pos != len) {
        snprintf(errstr, errstr_size, "corrupt Avro: %zu bytes left over after the datum's %zu",
                 len - c.pos, c.pos);
        return -1;
    }
    return 0;
}
