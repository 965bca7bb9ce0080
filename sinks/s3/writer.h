/* Record writers behind one interface: each builds one object in memory from the records of one
 * buffer. JSON Lines (optionally gzip) and Avro object container files (null, deflate or snappy);
 * Parquet would be a third implementation of the same operations. */
#ifndef SALESCDC_SINK_WRITER_H
#define SALESCDC_SINK_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "schema_cache.h"
#include "strbuf.h"

enum sink_format { SINK_FORMAT_JSON, SINK_FORMAT_AVRO };

/* Avro block codecs, named as in the file header's avro.codec. */
enum sink_avro_codec { SINK_CODEC_NULL, SINK_CODEC_DEFLATE, SINK_CODEC_SNAPPY };

struct sink_writer_config {
    enum sink_format format;
    int gzip;                        /* JSON: gzip the object (extension json.gz) */
    enum sink_avro_codec avro_codec; /* Avro: block codec */
    int compression_level;           /* zlib level 1-9 */
    size_t avro_block_bytes;         /* Avro: uncompressed bytes per block */
};

/* One record to append: its schema, its decoded value and its Avro binary payload. */
struct sink_writer_record {
    const struct sink_schema *schema;
    avro_value_t *value;
    const void *payload;
    size_t payload_len;
};

struct sink_writer;

/* The operations every format implements. */
struct sink_writer_ops {
    /* Appends REC; *RAW_BYTES gets the uncompressed bytes it added (for flush.bytes). */
    int (*append)(struct sink_writer *w, const struct sink_writer_record *rec, size_t *raw_bytes,
                  char *errstr, size_t errstr_size);
    /* Completes the object and moves its bytes into OUT (previous content released). */
    int (*finish)(struct sink_writer *w, struct strbuf *out, char *errstr, size_t errstr_size);
    void (*destroy)(struct sink_writer *w);
    /* Bytes of memory the writer holds now (buffers' capacity and compressor state). */
    size_t (*held)(const struct sink_writer *w);
};

struct sink_writer {
    const struct sink_writer_ops *ops;
};

/* Parses format "json" or "avro". Returns 0 or -1. */
int sink_format_parse(const char *name, enum sink_format *out);
/* Parses an Avro codec "null", "deflate" or "snappy". Returns 0 or -1. */
int sink_avro_codec_parse(const char *name, enum sink_avro_codec *out);
/* The codec's name in the file header. */
const char *sink_avro_codec_name(enum sink_avro_codec codec);

/* The object key extension: "json", "json.gz" or "avro" (Trino detects gzip by ".gz"). */
const char *sink_writer_extension(const struct sink_writer_config *cfg);
/* The Content-Type the object is stored with. */
const char *sink_writer_content_type(const struct sink_writer_config *cfg);

/* Creates a writer for one object whose records have SCHEMA (borrowed; Avro files carry its
 * text verbatim). SYNC is the Avro sync marker (16 bytes; derive it from the object key so a
 * rewrite is byte-identical). Caller frees with sink_writer_destroy(). */
struct sink_writer *sink_writer_new(const struct sink_writer_config *cfg,
                                    const struct sink_schema *schema, const unsigned char sync[16]);

int sink_writer_append(struct sink_writer *w, const struct sink_writer_record *rec,
                       size_t *raw_bytes, char *errstr, size_t errstr_size);
int sink_writer_finish(struct sink_writer *w, struct strbuf *out, char *errstr, size_t errstr_size);
/* NULL is a no-op. */
void sink_writer_destroy(struct sink_writer *w);
/* Bytes of memory W holds now: what buffer.max.bytes bounds. */
size_t sink_writer_held(const struct sink_writer *w);

/* The implementations (used by sink_writer_new()). */
struct sink_writer *sink_writer_json_new(const struct sink_writer_config *cfg);
struct sink_writer *sink_writer_avro_new(const struct sink_writer_config *cfg,
                                         const struct sink_schema *schema,
                                         const unsigned char sync[16]);

#endif
