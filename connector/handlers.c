/* The connector's change handlers: one per pgoutput message type, each turning a change into
 * Kafka records (envelope, tombstone) counted against its transaction in the LSN tracker. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connector_internal.h"
#include "log.h"
#include "xalloc.h"

static void table_free(void *ext)
{
    struct connector_table *t = ext;
    avroenc_destroy(t->enc);
    free(t->topic);
    free(t);
}

/* "<prefix>.<schema>.<table>" with characters Kafka does not allow in topic names as '_'. */
static char *topic_name(const char *prefix, const struct relcache_rel *rel)
{
    char *topic = xasprintf("%s.%s.%s", prefix, rel->nspname, rel->relname);
    for (char *p = topic; *p; p++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-", *p))
            *p = '_';
    return topic;
}

/* Registers T's key and value schemas. A refusal (409 incompatible, 422 invalid) is fatal: it
 * stays until someone changes the table or the subject; an outage (no answer, 5xx) passes. */
static int register_schemas(struct connector *c, struct connector_table *t,
                            const struct relcache_rel *rel, char *errstr, size_t errstr_size)
{
    char subject[512];
    snprintf(subject, sizeof subject, "%s-key", t->topic);
    int rc = registry_client_register(c->registry, subject, avroenc_key_schema(t->enc), &t->key_id,
                                      errstr, errstr_size);
    if (rc == 0) {
        snprintf(subject, sizeof subject, "%s-value", t->topic);
        rc = registry_client_register(c->registry, subject, avroenc_value_schema(t->enc),
                                      &t->value_id, errstr, errstr_size);
    }
    long status = registry_client_last_status(c->registry);
    if (rc < 0 && status >= 400 && status < 500 && status != 408 && status != 429) {
        c->fatal = 1;
        size_t n = strlen(errstr);
        if (status == 409)
            snprintf(errstr + n, errstr_size - n,
                     "; table %s.%s changed (ALTER TABLE?) in a way subject %s does not accept: "
                     "undo the change, or relax the subject's compatibility (PUT /config/%s "
                     "{\"compatibility\": \"NONE\"}) and start the connector again",
                     rel->nspname, rel->relname, subject, subject);
    }
    return rc;
}

/* Builds the table's encoder and registers its key and value schemas. */
static int table_setup(struct connector *c, struct relcache_rel *rel, char *errstr,
                       size_t errstr_size)
{
    char err[512], name[512];
    if (pgcatalog_describe(c->cat, rel, err, sizeof err) < 0)
        log_warn("table not described from the catalog, using the replica identity as key "
                 "table=%s.%s error=\"%s\"",
                 rel->nspname, rel->relname, err);
    struct connector_table *t = xcalloc(1, sizeof *t);
    t->topic = topic_name(c->o->topic_prefix, rel);
    t->enc = avroenc_new(rel, c->o->topic_prefix, errstr, errstr_size);
    c->fatal = !t->enc;
    if (t->enc)
        avroenc_set_special_decimal_null(t->enc, c->o->numeric_special_null);
    if (!t->enc || register_schemas(c, t, rel, errstr, errstr_size) < 0) {
        table_free(t);
        return -1;
    }
    snprintf(name, sizeof name, "%s.%s", rel->nspname, rel->relname);
    t->metrics = metrics_table(c->metrics, name);
    rel->ext = t;
    rel->ext_free = table_free;
    log_info("table ready table=%s.%s topic=%s key_schema_id=%d value_schema_id=%d generation=%u",
             rel->nspname, rel->relname, t->topic, (int)t->key_id, (int)t->value_id,
             rel->generation);
    return 0;
}

static int on_relation(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                       size_t errstr_size)
{
    int changed;
    struct relcache_rel *rel = relcache_update(c->rels, m, &changed);
    if (!changed && rel->ext)
        return 0;
    return table_setup(c, rel, errstr, errstr_size);
}

/* The relation of a change, ready to encode; NULL with errstr if no Relation message came. */
static struct relcache_rel *table_of(struct connector *c, uint32_t relid, char *errstr,
                                     size_t errstr_size)
{
    struct relcache_rel *rel = relcache_get(c->rels, relid);
    if (!rel || !rel->ext) {
        c->fatal = 1;
        snprintf(errstr, errstr_size,
                 "change for relation id %u at " LSN_FMT " without a Relation message first", relid,
                 LSN_ARGS(c->msg_lsn));
        return NULL;
    }
    return rel;
}

static void strbuf_clear(struct strbuf *sb)
{
    sb->len = 0;
    if (sb->data)
        sb->data[0] = '\0';
}

/* Produces one envelope (op OP) of REL with key from KEY_ROW (NULL: no key), then a tombstone
 * when TOMBSTONE is set. */
static int emit(struct connector *c, struct relcache_rel *rel, const struct pgoutput_tuple *before,
                const struct pgoutput_tuple *after, char op, const struct pgoutput_tuple *key_row,
                int tombstone, char *errstr, size_t errstr_size)
{
    struct connector_table *t = rel->ext;
    struct avroenc_source src = {SALESCDC_VERSION,    "postgresql",       c->o->topic_prefix,
                                 c->dbname,           c->commit_ms,       c->src_txid,
                                 (int64_t)c->msg_lsn, connector_wall_ms()};
    const char *col;
    uint64_t specials = avroenc_special_decimal_nulls(t->enc, NULL);
    strbuf_clear(&c->key);
    strbuf_clear(&c->value);
    if ((key_row &&
         avroenc_key(t->enc, rel, key_row, t->key_id, &c->key, errstr, errstr_size) < 0) ||
        avroenc_envelope(t->enc, rel, before, after, op, &src, t->value_id, &c->value, errstr,
                         errstr_size) < 0) {
        c->fatal = 1; /* the same row would fail again */
        return -1;
    }
    if (avroenc_special_decimal_nulls(t->enc, &col) != specials)
        log_warn("numeric NaN/Infinity has no Avro decimal form: written as null "
                 "(numeric.special=null) table=%s.%s column=%s lsn=" LSN_FMT,
                 rel->nspname, rel->relname, col, LSN_ARGS(c->msg_lsn));
    const void *key = key_row ? c->key.data : NULL;
    if (publisher_send(c->pub, t->topic, key, c->key.len, c->value.data, c->value.len, c->txn_seq,
                       errstr, errstr_size) < 0 ||
        (tombstone && publisher_send(c->pub, t->topic, key, c->key.len, NULL, 0, c->txn_seq, errstr,
                                     errstr_size) < 0))
        return -1;
    c->events++;
    metrics_event(t->metrics, op);
    return 0;
}

/* True if the key columns of A and B differ (an UPDATE that changed the primary key). */
static int key_changed(const struct relcache_rel *rel, const struct pgoutput_tuple *a,
                       const struct pgoutput_tuple *b)
{
    if (a->ncols != rel->ncols || b->ncols != rel->ncols)
        return 0;
    for (int i = 0; i < rel->ncols; i++) {
        const struct pgoutput_value *x = &a->cols[i], *y = &b->cols[i];
        if (rel->cols[i].key && (x->kind != y->kind || x->len != y->len ||
                                 (x->len && memcmp(x->data, y->data, x->len))))
            return 1;
    }
    return 0;
}

static int on_update(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                     size_t errstr_size)
{
    struct relcache_rel *rel = table_of(c, m->u.update.relid, errstr, errstr_size);
    const struct pgoutput_tuple *old = m->u.update.old_kind ? &m->u.update.old_tuple : NULL;
    const struct pgoutput_tuple *new_row = &m->u.update.new_tuple;
    if (!rel)
        return -1;
    /* A changed key is, as in Debezium, a delete of the old key and a create of the new one. */
    if (old && key_changed(rel, old, new_row))
        return emit(c, rel, old, NULL, 'd', old, c->o->tombstones, errstr, errstr_size) < 0
                   ? -1
                   : emit(c, rel, NULL, new_row, 'c', new_row, 0, errstr, errstr_size);
    return emit(c, rel, m->u.update.old_kind == 'O' ? old : NULL, new_row, 'u', new_row, 0, errstr,
                errstr_size);
}

static int on_truncate(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                       size_t errstr_size)
{
    for (uint32_t i = 0; i < m->u.truncate.nrelids; i++) {
        struct relcache_rel *rel = table_of(c, m->u.truncate.relids[i], errstr, errstr_size);
        if (!rel)
            return -1;
        if (!c->o->truncate_events) {
            log_info("truncate not published (truncate.events=false) table=%s.%s lsn=" LSN_FMT,
                     rel->nspname, rel->relname, LSN_ARGS(c->msg_lsn));
            continue;
        }
        if (emit(c, rel, NULL, NULL, 't', NULL, 0, errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

static int on_row(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                  size_t errstr_size)
{
    struct relcache_rel *rel;
    if (c->skipping)
        return 0;
    if (m->type == PGOUTPUT_INSERT) {
        rel = table_of(c, m->u.insert.relid, errstr, errstr_size);
        return rel ? emit(c, rel, NULL, &m->u.insert.new_tuple, 'c', &m->u.insert.new_tuple, 0,
                          errstr, errstr_size)
                   : -1;
    }
    if (m->type == PGOUTPUT_DELETE) {
        rel = table_of(c, m->u.delete_.relid, errstr, errstr_size);
        return rel ? emit(c, rel, &m->u.delete_.old_tuple, NULL, 'd', &m->u.delete_.old_tuple,
                          c->o->tombstones, errstr, errstr_size)
                   : -1;
    }
    return m->type == PGOUTPUT_UPDATE ? on_update(c, m, errstr, errstr_size)
                                      : on_truncate(c, m, errstr, errstr_size);
}

/* A transaction that committed below the stored LSN is already in Kafka: it is skipped whole. */
int connector_begin(struct connector *c, const struct pgoutput_msg *m, uint64_t seq, char *errstr,
                    size_t errstr_size)
{
    c->in_txn = 1;
    c->txn_seq = seq;
    c->src_txid = m->xid;
    c->commit_ms = (m->u.begin.commit_time + PGOUTPUT_EPOCH_OFFSET_US) / 1000;
    c->skipping = m->u.begin.final_lsn < c->skip_before;
    if (c->skipping) {
        log_debug("transaction skipped: already in Kafka xid=%u commit_lsn=" LSN_FMT
                  " stored_lsn=" LSN_FMT,
                  m->xid, LSN_ARGS(m->u.begin.final_lsn), LSN_ARGS(c->skip_before));
        return 0;
    }
    return txnbatch_source_begin(c->batch, c->txn_seq, errstr, errstr_size);
}

static int on_commit(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                     size_t errstr_size)
{
    lsn_tracker_commit(c->lsn, c->txn_seq, m->u.commit.end_lsn);
    c->in_txn = 0;
    if (c->skipping) {
        c->skipping = 0;
        c->skipped++;
        metrics_count(c->metrics, METRICS_TRANSACTIONS_SKIPPED);
        return 0;
    }
    c->txns++;
    metrics_count(c->metrics, METRICS_TRANSACTIONS);
    int64_t lag = connector_wall_ms() - c->commit_ms;
    metrics_set(c->metrics, METRICS_LAG_MS, lag > 0 ? (uint64_t)lag : 0);
    log_debug("transaction decoded xid=%lld commit_lsn=" LSN_FMT " end_lsn=" LSN_FMT,
              (long long)c->src_txid, LSN_ARGS(m->u.commit.commit_lsn),
              LSN_ARGS(m->u.commit.end_lsn));
    txnbatch_source_commit(c->batch, c->txn_seq, m->u.commit.commit_lsn, m->u.commit.end_lsn);
    return txnbatch_due_ms(c->batch) == 0 ? connector_commit_batch(c, errstr, errstr_size) : 0;
}

int connector_emit_read(struct connector *c, uint32_t relid, const struct pgoutput_tuple *row,
                        char *errstr, size_t errstr_size)
{
    struct relcache_rel *rel = table_of(c, relid, errstr, errstr_size);
    return rel ? emit(c, rel, NULL, row, 'r', row, 0, errstr, errstr_size) : -1;
}

int connector_handle(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                     size_t errstr_size)
{
    switch (m->type) {
    case PGOUTPUT_BEGIN:
        return connector_begin(c, m, lsn_tracker_begin(c->lsn), errstr, errstr_size);
    case PGOUTPUT_COMMIT: return on_commit(c, m, errstr, errstr_size);
    case PGOUTPUT_RELATION: return on_relation(c, m, errstr, errstr_size);
    case PGOUTPUT_TYPE: relcache_set_type(c->rels, m); return 0;
    case PGOUTPUT_INSERT:
    case PGOUTPUT_UPDATE:
    case PGOUTPUT_DELETE:
    case PGOUTPUT_TRUNCATE:
        if (!c->in_txn) {
            c->fatal = 1;
            snprintf(errstr, errstr_size, "%s at " LSN_FMT " outside a transaction",
                     pgoutput_msg_type_name(m->type), LSN_ARGS(c->msg_lsn));
            return -1;
        }
        return on_row(c, m, errstr, errstr_size);
    case PGOUTPUT_ORIGIN:
    case PGOUTPUT_MESSAGE: return 0; /* nothing to publish */
    default:
        c->fatal = 1;
        snprintf(errstr, errstr_size,
                 "unexpected pgoutput %s message at " LSN_FMT
                 " (the connector does not ask for two-phase)",
                 pgoutput_msg_type_name(m->type), LSN_ARGS(c->msg_lsn));
        return -1;
    }
}
