/* Avro object container file writer. avro-c's own file writer re-serialises the schema and so
 * drops logical types (decimal, timestamp-micros, date) from the header; this one writes the
 * registry's schema text verbatim and appends each record's Avro binary payload as it came from
 * Kafka (already the encoding of that schema), so values are kept bit for bit.
 *
 * File layout (Avro 1.11 specification, "Object Container Files"):
 *   "Obj" 0x01
 *   metadata map: long 2, string "avro.schema", bytes <schema JSON>, string "avro.codec",
 *                 bytes "null"|"deflate"|"snappy", long 0 (end of map)
 *   16-byte sync marker
 *   blocks: long record count, long byte size, the (compressed) records, the sync marker
 * Longs are zig-zag varints; strings and bytes are a long length and the bytes. The deflate
 * codec is raw RFC 1951 deflate per block. The snappy codec is one raw snappy block (no framing
 * format) followed by the 4-byte big-endian CRC-32 (zlib's, ISO 3309) of the uncompressed
 * records; the byte size counts both. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <snappy-c.h>
#include <zlib.h>

#include "writer.h"
#include "xalloc.h"
#include "zstream.h"

struct avro_writer {
    struct sink_writer base;
    const struct sink_schema *schema; /* borrowed */
    enum sink_avro_codec codec;
    size_t block_bytes;
    z_stream z;
    unsigned char sync[16];
    struct strbuf out;   /* the file so far */
    struct strbuf block; /* records of the block under way, uncompressed */
    long long block_records;
};

/* Appends V as an Avro long: zig-zag, then 7 bits per byte, least significant first. */
static void put_long(struct strbuf *sb, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    unsigned char buf[10];
    size_t n = 0;
    do {
        unsigned char b = z & 0x7f;
        z >>= 7;
        buf[n++] = (unsigned char)(z ? b | 0x80 : b);
    } while (z);
    strbuf_append(sb, (const char *)buf, n);
}

static void put_bytes(struct strbuf *sb, const void *data, size_t len)
{
    put_long(sb, (int64_t)len);
    strbuf_append(sb, data, len);
}

static void put_header(struct avro_writer *w)
{
    static const char magic[4] = {'O', 'b', 'j', 1};
    const char *codec = sink_avro_codec_name(w->codec);
    strbuf_append(&w->out, magic, sizeof magic);
    put_long(&w->out, 2);
    put_bytes(&w->out, "avro.schema", strlen("avro.schema"));
    put_bytes(&w->out, w->schema->text, strlen(w->schema->text));
    put_bytes(&w->out, "avro.codec", strlen("avro.codec"));
    put_bytes(&w->out, codec, strlen(codec));
    put_long(&w->out, 0);
    strbuf_append(&w->out, (const char *)w->sync, sizeof w->sync);
}

/* Appends the block under way, snappy-compressed and followed by its CRC-32, as Avro bytes. */
static void put_snappy_block(struct avro_writer *w)
{
    size_t cap = snappy_max_compressed_length(w->block.len), len = cap;
    char *packed = xmalloc(cap + 4);
    /* Only a too small output buffer fails, and CAP is snappy's own bound for this input. */
    if (snappy_compress(w->block.data, w->block.len, packed, &len) != SNAPPY_OK)
        abort();
    uint32_t crc = (uint32_t)crc32(0L, (const Bytef *)w->block.data, (uInt)w->block.len);
    packed[len++] = (char)(crc >> 24);
    packed[len++] = (char)(crc >> 16);
    packed[len++] = (char)(crc >> 8);
    packed[len++] = (char)crc;
    put_bytes(&w->out, packed, len);
    free(packed);
}

static void emit_block(struct avro_writer *w)
{
    if (w->block_records == 0)
        return;
    put_long(&w->out, w->block_records);
    if (w->codec == SINK_CODEC_DEFLATE) {
        struct strbuf packed = STRBUF_INIT;
        deflateReset(&w->z);
        sink_zstream_feed(&w->z, &packed, w->block.data, w->block.len, 1);
        put_bytes(&w->out, packed.data, packed.len);
        strbuf_release(&packed);
    } else if (w->codec == SINK_CODEC_SNAPPY) {
        put_snappy_block(w);
    } else {
        put_bytes(&w->out, w->block.data, w->block.len);
    }
    strbuf_append(&w->out, (const char *)w->sync, sizeof w->sync);
    w->block.len = 0;
    w->block_records = 0;
}

static int avro_append(struct sink_writer *base, const struct sink_writer_record *rec,
                       size_t *raw_bytes, char *errstr, size_t errstr_size)
{
    struct avro_writer *w = (struct avro_writer *)base;
    if (rec->schema != w->schema) {
        snprintf(errstr, errstr_size,
                 "an Avro file holds one writer schema: got id %d in a file of id %d",
                 (int)rec->schema->id, (int)w->schema->id);
        return -1;
    }
    strbuf_append(&w->block, rec->payload, rec->payload_len);
    w->block_records++;
    *raw_bytes = rec->payload_len;
    if (w->block.len >= w->block_bytes)
        emit_block(w);
    return 0;
}

static int avro_finish(struct sink_writer *base, struct strbuf *out, char *errstr,
                       size_t errstr_size)
{
    struct avro_writer *w = (struct avro_writer *)base;
    (void)errstr;
    (void)errstr_size;
    emit_block(w);
    strbuf_release(out);
    *out = w->out;
    w->out = (struct strbuf)STRBUF_INIT;
    return 0;
}

static void avro_destroy(struct sink_writer *base)
{
    struct avro_writer *w = (struct avro_writer *)base;
    if (w->codec == SINK_CODEC_DEFLATE)
        sink_zstream_end(&w->z);
    strbuf_release(&w->out);
    strbuf_release(&w->block);
    free(w);
}

static size_t avro_held(const struct sink_writer *base)
{
    const struct avro_writer *w = (const struct avro_writer *)base;
    return sizeof *w + w->out.cap + w->block.cap +
           (w->codec == SINK_CODEC_DEFLATE ? SINK_ZSTREAM_HELD_BYTES : 0);
}

static const struct sink_writer_ops avro_ops = {avro_append, avro_finish, avro_destroy, avro_held};

struct sink_writer *sink_writer_avro_new(const struct sink_writer_config *cfg,
                                         const struct sink_schema *schema,
                                         const unsigned char sync[16])
{
    struct avro_writer *w = xcalloc(1, sizeof *w);
    w->base.ops = &avro_ops;
    w->schema = schema;
    w->codec = cfg->avro_codec;
    w->block_bytes = cfg->avro_block_bytes ? cfg->avro_block_bytes : 64 * 1024;
    memcpy(w->sync, sync, sizeof w->sync);
    if (w->codec == SINK_CODEC_DEFLATE)
        sink_zstream_init(&w->z, SINK_ZSTREAM_RAW, cfg->compression_level);
    put_header(w);
    return &w->base;
}
