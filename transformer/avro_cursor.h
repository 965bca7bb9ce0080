/* A bounds-checked read position in an Avro binary datum, shared by the datum check
 * (avro_check.c) and the envelope walker (envelope_walk.c). Every read fails with errstr naming
 * the byte offset instead of reading past the end. */
#ifndef SALESCDC_TRANSFORMER_AVRO_CURSOR_H
#define SALESCDC_TRANSFORMER_AVRO_CURSOR_H

#include <stddef.h>
#include <stdint.h>

struct avro_cursor {
    const unsigned char *p;
    size_t len, pos;
    char *errstr;
    size_t errstr_size;
};

/* Writes "corrupt Avro at byte POS of LEN: WHAT" into errstr; returns -1. */
int avro_cursor_fail(struct avro_cursor *c, const char *what);

/* A long: zig-zag varint, 7 bits per byte, low group first, high bit = more follows; at most
 * 10 bytes. Returns 0, or -1 at the end of the data or on an over-long number. */
int avro_cursor_read_long(struct avro_cursor *c, int64_t *out);

/* Moves N bytes on; -1 (naming WHAT) when N is negative or beyond the end. */
int avro_cursor_skip(struct avro_cursor *c, int64_t n, const char *what);

/* string and bytes: a long length, then that many bytes. *AT and *SIZE (either may be NULL) get
 * where they start and how many; -1 when the length is negative or runs past the end. */
int avro_cursor_sized(struct avro_cursor *c, size_t *at, size_t *size);

/* Arrays and maps come in blocks: a count of items (a negative count -n is followed by the
 * block's size in bytes), a zero count ends the value. Reads one block header: returns 1 with
 * *COUNT items to follow, 0 at the end of the value, -1 on a corrupt header. */
int avro_cursor_block(struct avro_cursor *c, int64_t *count);

#endif
