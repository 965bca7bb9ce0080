/* zlib deflate streams writing into strbufs. */
#include "zstream.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sink_zstream_init(z_stream *z, enum sink_zstream_kind kind, int level)
{
    memset(z, 0, sizeof *z);
    int bits = kind == SINK_ZSTREAM_GZIP ? 15 + 16 : -15;
    if (deflateInit2(z, level, Z_DEFLATED, bits, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        fprintf(stderr, "zlib: deflateInit2 failed (out of memory)\n");
        abort();
    }
}

void sink_zstream_feed(z_stream *z, struct strbuf *out, const void *data, size_t len, int finish)
{
    unsigned char chunk[16384];
    z->next_in = (unsigned char *)(uintptr_t)data;
    z->avail_in = (uInt)len;
    for (;;) {
        z->next_out = chunk;
        z->avail_out = sizeof chunk;
        int rc = deflate(z, finish ? Z_FINISH : Z_NO_FLUSH);
        strbuf_append(out, (const char *)chunk, sizeof chunk - z->avail_out);
        if (rc == Z_STREAM_END || (!finish && z->avail_in == 0 && z->avail_out != 0))
            break;
        if (rc != Z_OK && rc != Z_BUF_ERROR) {
            fprintf(stderr, "zlib: deflate failed (%d)\n", rc);
            abort();
        }
    }
}

void sink_zstream_end(z_stream *z)
{
    deflateEnd(z);
}
