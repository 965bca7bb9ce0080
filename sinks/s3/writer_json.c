/* JSON Lines writer: one JSON object per record and line, optionally gzip-compressed. */
#include <stdlib.h>
#include <zlib.h>

#include "record_json.h"
#include "writer.h"
#include "xalloc.h"
#include "zstream.h"

enum { PENDING_MAX = 64 * 1024 }; /* text compressed in chunks of this size */

struct json_writer {
    struct sink_writer base;
    int gzip;
    z_stream z;
    struct strbuf out;     /* the object so far */
    struct strbuf pending; /* gzip: text not yet compressed */
};

static void compress_pending(struct json_writer *w, int finish)
{
    sink_zstream_feed(&w->z, &w->out, w->pending.data, w->pending.len, finish);
    w->pending.len = 0;
}

static int json_append(struct sink_writer *base, const struct sink_writer_record *rec,
                       size_t *raw_bytes, char *errstr, size_t errstr_size)
{
    struct json_writer *w = (struct json_writer *)base;
    struct strbuf *text = w->gzip ? &w->pending : &w->out;
    size_t before = text->len;
    if (sink_record_json(text, rec->schema->type->root, rec->value, errstr, errstr_size) != 0) {
        text->len = before;
        return -1;
    }
    strbuf_append(text, "\n", 1);
    *raw_bytes = text->len - before;
    if (w->gzip && w->pending.len >= PENDING_MAX)
        compress_pending(w, 0);
    return 0;
}

static int json_finish(struct sink_writer *base, struct strbuf *out, char *errstr,
                       size_t errstr_size)
{
    struct json_writer *w = (struct json_writer *)base;
    (void)errstr;
    (void)errstr_size;
    if (w->gzip)
        compress_pending(w, 1);
    strbuf_release(out);
    *out = w->out;
    w->out = (struct strbuf)STRBUF_INIT;
    return 0;
}

static void json_destroy(struct sink_writer *base)
{
    struct json_writer *w = (struct json_writer *)base;
    if (w->gzip)
        sink_zstream_end(&w->z);
    strbuf_release(&w->out);
    strbuf_release(&w->pending);
    free(w);
}

static size_t json_held(const struct sink_writer *base)
{
    const struct json_writer *w = (const struct json_writer *)base;
    return sizeof *w + w->out.cap + w->pending.cap + (w->gzip ? SINK_ZSTREAM_HELD_BYTES : 0);
}

static const struct sink_writer_ops json_ops = {json_append, json_finish, json_destroy, json_held};

struct sink_writer *sink_writer_json_new(const struct sink_writer_config *cfg)
{
    struct json_writer *w = xcalloc(1, sizeof *w);
    w->base.ops = &json_ops;
    w->gzip = cfg->gzip;
    if (w->gzip)
        sink_zstream_init(&w->z, SINK_ZSTREAM_GZIP, cfg->compression_level);
    return &w->base;
}
