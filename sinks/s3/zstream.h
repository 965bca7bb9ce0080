/* zlib deflate into a strbuf, for gzip JSON objects and deflate-coded Avro blocks. */
#ifndef SALESCDC_SINK_ZSTREAM_H
#define SALESCDC_SINK_ZSTREAM_H

#include <stddef.h>
#include <zlib.h>

#include "strbuf.h"

enum sink_zstream_kind {
    SINK_ZSTREAM_GZIP, /* RFC 1952 member: header (mtime 0, so output is deterministic) */
    SINK_ZSTREAM_RAW,  /* RFC 1951 raw deflate, as Avro's deflate codec wants */
};

/* Memory one deflate stream holds (windowBits 15, memLevel 8): zlib's documented
 * (1 << (windowBits + 2)) + (1 << (memLevel + 9)), plus its state, rounded up. */
enum { SINK_ZSTREAM_HELD_BYTES = 272 * 1024 };

/* Initialises Z for KIND at zlib LEVEL (1-9). Aborts on zlib failure (out of memory). */
void sink_zstream_init(z_stream *z, enum sink_zstream_kind kind, int level);

/* Compresses DATA[0..LEN) and appends what zlib emits to OUT; FINISH ends the stream (reset
 * it with deflateReset() to start another). */
void sink_zstream_feed(z_stream *z, struct strbuf *out, const void *data, size_t len, int finish);

/* Frees Z's state. */
void sink_zstream_end(z_stream *z);

#endif
