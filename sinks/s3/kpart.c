/* Per-Kafka-partition buffers. */
#include "kpart.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct sink_kpart *sink_kpart_new(const char *topic, int32_t partition, const char *table)
{
    struct sink_kpart *kp = xcalloc(1, sizeof *kp);
    kp->topic = xstrdup(topic);
    kp->partition = partition;
    snprintf(kp->table, sizeof kp->table, "%s", table);
    kp->next_offset = -1;
    kp->uncommitted = -1;
    return kp;
}

void sink_kpart_reset(struct sink_kpart *kp)
{
    for (size_t i = 0; i < kp->n_buffers; i++) {
        sink_writer_destroy(kp->buffers[i].writer);
        free(kp->buffers[i].path);
    }
    kp->n_buffers = 0;
    kp->held_bytes = 0;
}

void sink_kpart_destroy(struct sink_kpart *kp)
{
    if (!kp)
        return;
    sink_kpart_reset(kp);
    free(kp->buffers);
    free(kp->topic);
    free(kp);
}

struct sink_buffer *sink_kpart_find(struct sink_kpart *kp, const char *path)
{
    for (size_t i = 0; i < kp->n_buffers; i++)
        if (strcmp(kp->buffers[i].path, path) == 0)
            return &kp->buffers[i];
    return NULL;
}

void sink_kpart_sync_marker(const char *topic, int32_t partition, const char *path,
                            int64_t first_offset, unsigned char sync[16])
{
    char *id = xasprintf("%s\n%d\n%s\n%lld", topic, (int)partition, path, (long long)first_offset);
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(id, strlen(id), md, &len, EVP_md5(), NULL);
    memcpy(sync, md, 16);
    free(id);
}

struct sink_buffer *sink_kpart_open(struct sink_kpart *kp, const char *path, int64_t first_offset,
                                    const struct sink_schema *schema,
                                    const struct sink_writer_config *cfg)
{
    if (kp->n_buffers == kp->cap_buffers) {
        kp->cap_buffers = kp->cap_buffers ? 2 * kp->cap_buffers : 4;
        kp->buffers = xrealloc(kp->buffers, kp->cap_buffers * sizeof *kp->buffers);
    }
    unsigned char sync[16];
    sink_kpart_sync_marker(kp->topic, kp->partition, path, first_offset, sync);
    struct sink_buffer *b = &kp->buffers[kp->n_buffers++];
    memset(b, 0, sizeof *b);
    b->path = xstrdup(path);
    b->first_offset = first_offset;
    b->schema = schema;
    b->writer = sink_writer_new(cfg, schema, sync);
    return b;
}

uint64_t sink_kpart_buffered(const struct sink_kpart *kp)
{
    uint64_t n = 0;
    for (size_t i = 0; i < kp->n_buffers; i++)
        n += kp->buffers[i].st.records;
    return n;
}
