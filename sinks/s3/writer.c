/* The writer interface: format names, extensions and dispatch. */
#include "writer.h"

#include <string.h>

int sink_format_parse(const char *name, enum sink_format *out)
{
    if (strcmp(name, "json") == 0)
        *out = SINK_FORMAT_JSON;
    else if (strcmp(name, "avro") == 0)
        *out = SINK_FORMAT_AVRO;
    else
        return -1;
    return 0;
}

static const char *const avro_codec_names[] = {"null", "deflate", "snappy"};

int sink_avro_codec_parse(const char *name, enum sink_avro_codec *out)
{
    for (size_t i = 0; i < sizeof avro_codec_names / sizeof avro_codec_names[0]; i++) {
        if (strcmp(name, avro_codec_names[i]) == 0) {
            *out = (enum sink_avro_codec)i;
            return 0;
        }
    }
    return -1;
}

const char *sink_avro_codec_name(enum sink_avro_codec codec)
{
    return avro_codec_names[codec];
}

const char *sink_writer_extension(const struct sink_writer_config *cfg)
{
    if (cfg->format == SINK_FORMAT_AVRO)
        return "avro";
    return cfg->gzip ? "json.gz" : "json";
}

const char *sink_writer_content_type(const struct sink_writer_config *cfg)
{
    if (cfg->format == SINK_FORMAT_AVRO)
        return "application/avro";
    return cfg->gzip ? "application/gzip" : "application/x-ndjson";
}

struct sink_writer *sink_writer_new(const struct sink_writer_config *cfg,
                                    const struct sink_schema *schema, const unsigned char sync[16])
{
    if (cfg->format == SINK_FORMAT_AVRO)
        return sink_writer_avro_new(cfg, schema, sync);
    return sink_writer_json_new(cfg);
}

int sink_writer_append(struct sink_writer *w, const struct sink_writer_record *rec,
                       size_t *raw_bytes, char *errstr, size_t errstr_size)
{
    return w->ops->append(w, rec, raw_bytes, errstr, errstr_size);
}

int sink_writer_finish(struct sink_writer *w, struct strbuf *out, char *errstr, size_t errstr_size)
{
    return w->ops->finish(w, out, errstr, errstr_size);
}

size_t sink_writer_held(const struct sink_writer *w)
{
    return w->ops->held(w);
}

void sink_writer_destroy(struct sink_writer *w)
{
    if (w)
        w->ops->destroy(w);
}
