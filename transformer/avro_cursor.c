/* Bounds-checked reads of Avro binary data (see avro_cursor.h). */
#include "avro_cursor.h"

#include <stdio.h>

int avro_cursor_fail(struct avro_cursor *c, const char *what)
{
    snprintf(c->errstr, c->errstr_size, "corrupt Avro at byte %zu of %zu: %s", c->pos, c->len,
             what);
    return -1;
}

int avro_cursor_read_long(struct avro_cursor *c, int64_t *out)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 70; shift += 7) {
        if (c->pos >= c->len)
            return avro_cursor_fail(c, "the data ends inside a number");
        unsigned char b = c->p[c->pos++];
        v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *out = (int64_t)(v >> 1) ^ -(int64_t)(v & 1);
            return 0;
        }
    }
    return avro_cursor_fail(c, "a number is longer than 10 bytes");
}

int avro_cursor_sized(struct avro_cursor *c, size_t *at, size_t *size)
{
    int64_t n;
    if (avro_cursor_read_long(c, &n) < 0)
        return -1;
    if (at)
        *at = c->pos;
    if (size)
        *size = (size_t)n;
    return avro_cursor_skip(c, n, "a length is negative or runs past the end");
}

int avro_cursor_block(struct avro_cursor *c, int64_t *count)
{
    int64_t n, bytes;
    if (avro_cursor_read_long(c, &n) < 0)
        return -1;
    if (n == 0)
        return 0;
    if (n < 0) {
        n = n == INT64_MIN ? INT64_MAX : -n;
        if (avro_cursor_read_long(c, &bytes) < 0)
            return -1;
        if (bytes < 0 || (uint64_t)bytes > c->len - c->pos)
            return avro_cursor_fail(c, "a block size is negative or runs past the end");
    }
    if ((uint64_t)n > c->len - c->pos)
        return avro_cursor_fail(c, "a block count exceeds the bytes left");
    *count = n;
    return 1;
}

int avro_cursor_skip(struct avro_cursor *c, int64_t n, const char *what)
{
    if (n < 0 || (uint64_t)n > c->len - c->pos)
        return avro_cursor_fail(c, what);
    c->pos += (size_t)n;
    return 0;
}
