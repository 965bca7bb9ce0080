/* The flatten fast path's reader: walks the Avro binary encoding of a CDC envelope by its writer
 * schema, compiled once into a small skip program, and locates (without decoding into values)
 * the row images' column bytes, the op string and the source block's ts_ms, table, txId and
 * lsn. Every length, count and varint is bounds-checked; nothing is allocated per record. */
#ifndef SALESCDC_TRANSFORMER_ENVELOPE_WALK_H
#define SALESCDC_TRANSFORMER_ENVELOPE_WALK_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "flat_schema.h"

/* A run of bytes inside the walked datum. */
struct envelope_slice {
    size_t off, len;
};

/* One row image (before or after). */
struct envelope_image {
    int present;                 /* the union holds the row record (not null) */
    struct envelope_slice row;   /* the whole row record */
    struct envelope_slice *cols; /* per row field (owned by the walker) */
};

/* What a walk found. A scalar's state is 1 (value set), 0 (null, or the field is absent) or -1
 * (another type: the schema checks of flat_schema_derive() rule that out). */
struct envelope_view {
    const unsigned char *op; /* NULL when the op is not a plain string */
    size_t op_len;
    struct envelope_image before, after;
    int ts_state, txid_state, lsn_state;
    int64_t ts_ms, txid, lsn;
    const unsigned char *table; /* NULL when null */
    size_t table_len;
};

struct envelope_walker;

/* Compiles the walker for envelope writer schema SCHEMA (borrowed; avro-c's parse of the same
 * text flat_schema_derive() read) with the field positions ENV found there. Returns the walker
 * (caller frees with envelope_walker_destroy()) or NULL with errstr saying which part of the
 * schema it cannot walk. */
struct envelope_walker *envelope_walker_new(avro_schema_t schema,
                                            const struct flat_schema_envelope *env, char *errstr,
                                            size_t errstr_size);
void envelope_walker_destroy(struct envelope_walker *w);

/* Number of fields of the row record (the length of each image's cols). */
size_t envelope_walker_row_fields(const struct envelope_walker *w);

/* Walks DATUM[0..LEN) and fills VIEW (its cols arrays belong to W and are overwritten by the
 * next walk). Returns 0, or -1 with errstr ("corrupt Avro at byte N of M: ...") when the bytes
 * are not exactly one datum of the writer schema: truncated, a length or count past the end, a
 * varint longer than 10 bytes, a union branch or enum index out of range, bytes left over. */
int envelope_walk(struct envelope_walker *w, const void *datum, size_t len,
                  struct envelope_view *view, char *errstr, size_t errstr_size);

#endif
