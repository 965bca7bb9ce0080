/* One consumed record: schema, catalog declaration, partition path, buffer, flush rules. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_wire.h"
#include "http.h"
#include "log.h"
#include "object_key.h"
#include "sink_internal.h"
#include "xalloc.h"

enum { PATH_MAX_LEN = 1024 };

static struct sink_topic *topic_get(struct sink *s, const char *name)
{
    for (size_t i = 0; i < s->n_topics; i++)
        if (strcmp(s->topics[i].name, name) == 0)
            return &s->topics[i];
    char table[128], err[256];
    if (sink_table_name(name, table, sizeof table, err, sizeof err) < 0) {
        log_error("%s", err);
        return NULL;
    }
    if (s->n_topics == s->cap_topics) {
        s->cap_topics = s->cap_topics ? 2 * s->cap_topics : 8;
        s->topics = xrealloc(s->topics, s->cap_topics * sizeof *s->topics);
    }
    struct sink_topic *t = &s->topics[s->n_topics++];
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    snprintf(t->table, sizeof t->table, "%s", table);
    t->value_schema_id = t->key_schema_id = -1;
    return t;
}

/* The schema with ID, waiting out a registry that cannot be reached. NULL on a stop or a
 * schema that cannot be had (S->fatal set, the cause logged with the record's position). */
static const struct sink_schema *schema_get(struct sink *s, int32_t id, const rd_kafka_message_t *m)
{
    char err[1024];
    const struct sink_schema *schema = NULL;
    uint32_t jitter = 0;
    for (int attempt = 1;; attempt++) {
        enum registry_lookup_status st =
            sink_schema_cache_get(s->schemas, id, &schema, err, sizeof err);
        if (st == REGISTRY_LOOKUP_OK)
            return schema;
        if (st != REGISTRY_LOOKUP_UNAVAILABLE) {
            log_error("record %s[%d]@%lld: %s", rd_kafka_topic_name(m->rkt), (int)m->partition,
                      (long long)m->offset, err);
            s->fatal = 1;
            return NULL;
        }
        long wait = http_backoff_ms(attempt, 500, 30000, http_random(&jitter));
        log_warn("%s; retrying in %ld ms", err, wait);
        if (http_sleep_ms(wait, s->stop) < 0)
            return NULL;
    }
}

/* Learns the primary key columns from the record's key schema (once per key schema id). */
static void learn_key(struct sink *s, struct sink_topic *t, const rd_kafka_message_t *m)
{
    int32_t id;
    const char *payload;
    size_t len;
    char err[256];
    if (!m->key || avro_wire_parse(m->key, m->key_len, &id, &payload, &len, err, sizeof err) != 0 ||
        id == t->key_schema_id)
        return;
    const struct sink_schema *ks = schema_get(s, id, m);
    if (!ks)
        return;
    for (size_t k = 0; k < t->n_key_fields; k++)
        free(t->key_fields[k]);
    const struct sink_avro_type *root = ks->type->root;
    t->key_fields = xrealloc(t->key_fields, (root->n ? root->n : 1) * sizeof *t->key_fields);
    for (size_t k = 0; k < root->n; k++)
        t->key_fields[k] = xstrdup(root->names[k]);
    t->n_key_fields = root->n;
    t->key_schema_id = id;
    t->value_schema_id = -1; /* declare again with the keys */
}

static void declare(struct sink *s, struct sink_topic *t, const struct sink_schema *value)
{
    if (!s->catalog || t->value_schema_id == value->id)
        return;
    sink_catalog_table(s->catalog, t->table, value->text, t->key_fields, t->n_key_fields);
    t->value_schema_id = value->id;
}

/* A decoded record on its way into a buffer. */
struct routed {
    const struct sink_schema *schema;
    avro_value_t *value;
    const char *payload;
    size_t payload_len;
    int has_time;
    int64_t time_ms;
    char path[PATH_MAX_LEN];
};

static int route(struct sink *s, const rd_kafka_message_t *m, struct routed *r)
{
    int32_t id;
    char err[1024];
    if (avro_wire_parse(m->payload, m->len, &id, &r->payload, &r->payload_len, err, sizeof err) !=
        0)
        goto fail;
    r->schema = schema_get(s, id, m);
    if (!r->schema)
        return -1;
    r->value = sink_schema_decode(r->schema, r->payload, r->payload_len, err, sizeof err);
    if (!r->value)
        goto fail;
    const struct sink_avro_type *root = r->schema->type->root;
    const struct sink_partitioner *p = &s->o->partitioner;
    if (sink_record_time_ms(root, r->value, p->time_field, &r->time_ms, &r->has_time, err,
                            sizeof err) != 0) {
        if (p->mode == SINK_PARTITION_TIME)
            goto fail;
        r->has_time = 0; /* no record time: rotate.interval does not apply */
    }
    if (sink_partition_path(p, root, r->value, r->has_time, r->time_ms, r->path, sizeof r->path,
                            err, sizeof err) != 0)
        goto fail;
    return 0;
fail:
    log_error("record %s[%d]@%lld cannot be written: %s (fix the record or the settings; the "
              "sink stops rather than skip it)",
              rd_kafka_topic_name(m->rkt), (int)m->partition, (long long)m->offset, err);
    s->fatal = 1;
    return -1;
}

/* Appends R to KP's buffer for its path, cutting before and after by the rules. */
static void buffer_record(struct sink *s, struct sink_kpart *kp, const rd_kafka_message_t *m,
                          struct routed *r)
{
    const struct sink_flush_rules *rules = &s->o->rules;
    struct sink_buffer *b = sink_kpart_find(kp, r->path);
    enum sink_flush_reason why =
        b ? sink_flush_before(rules, &b->st, r->has_time, r->time_ms, r->schema->id)
          : SINK_FLUSH_NONE;
    if (why != SINK_FLUSH_NONE && sink_flush_kpart(s, kp, why) != 0)
        return;
    if (why != SINK_FLUSH_NONE || !b)
        b = sink_kpart_open(kp, r->path, m->offset, r->schema, &s->o->writer);
    struct sink_writer_record rec = {r->schema, r->value, r->payload, r->payload_len};
    size_t raw = 0;
    char err[512];
    /* A buffer's first record also counts the memory its writer took when it was opened. */
    size_t held = b->st.records == 0 ? 0 : sink_writer_held(b->writer);
    int rc = sink_writer_append(b->writer, &rec, &raw, err, sizeof err);
    held = sink_writer_held(b->writer) - held;
    kp->held_bytes += held;
    atomic_fetch_add(&s->metrics.buffered_bytes, (int64_t)held);
    if (rc != 0) {
        log_error("record %s[%d]@%lld: %s", kp->topic, (int)kp->partition, (long long)m->offset,
                  err);
        s->fatal = 1;
        return;
    }
    sink_flush_account(&b->st, raw, r->has_time, r->time_ms, r->schema->id);
    kp->next_offset = m->offset + 1;
    kp->last_record_ms = sink_now_ms();
    atomic_fetch_add(&s->metrics.records, 1);
    atomic_fetch_add(&s->metrics.buffered_records, 1);
    why = sink_flush_after(rules, &b->st);
    if (why != SINK_FLUSH_NONE)
        sink_flush_kpart(s, kp, why);
}

void sink_consume_message(struct sink *s, const rd_kafka_message_t *m)
{
    if (m->err) {
        log_warn("consumer: %s", rd_kafka_message_errstr(m));
        return;
    }
    if (s->rejoining)
        return; /* fetched before the membership was lost: re-read once assigned again */
    const char *topic = rd_kafka_topic_name(m->rkt);
    struct sink_kpart *kp = sink_kpart_get(s, topic, m->partition);
    struct sink_topic *t = topic_get(s, topic);
    if (!kp || !t) {
        s->fatal = 1;
        return;
    }
    if (kp->uncommitted < 0)
        kp->uncommitted = m->offset;
    if (!m->payload) { /* a tombstone: nothing to store; committed with the next flush */
        atomic_fetch_add(&s->metrics.tombstones, 1);
        kp->next_offset = m->offset + 1;
        return;
    }
    learn_key(s, t, m);
    struct routed r;
    if (route(s, m, &r) != 0)
        return;
    declare(s, t, r.schema);
    buffer_record(s, kp, m, &r);
    sink_flush_memory(s);
}
