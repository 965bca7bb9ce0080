/* One connector session: connections (catalog, replication, Kafka), preflight, the offsets
 * record, then the source (slot, snapshot) and the stream; everything is released at the end so
 * that a retry starts clean. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "connector_internal.h"
#include "log.h"
#include "xalloc.h"

int64_t connector_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t connector_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Preflight and publication. A failure on a live connection is the user's to fix (fatal); on a
 * broken one it is an outage (retried). */
static int check_source(struct connector *c, char *errstr, size_t errstr_size)
{
    struct pgcatalog_table *tables = NULL;
    int n =
        c->o->all_tables ? 0 : pgcatalog_parse_tables(c->o->tables, &tables, errstr, errstr_size);
    int rc = n < 0 ? -1 : 0;
    if (rc == 0)
        rc = pgcatalog_preflight(c->cat, tables, n, c->o->slot, errstr, errstr_size);
    if (rc == 0)
        rc = pgcatalog_ensure_publication(c->cat, c->o->publication, tables, n, c->o->all_tables,
                                          errstr, errstr_size);
    pgcatalog_tables_free(tables, n < 0 ? 0 : n);
    if (rc < 0)
        c->fatal = n < 0 || pgcatalog_connected(c->cat);
    return rc;
}

/* How long a slot busy with another process counts as a dead connector's walsender that is still
 * exiting (retried) before it counts as another running connector (fatal). */
#define SLOT_BUSY_GRACE_MS 15000

/* Finds out whether the slot exists (and its confirmed position), before Kafka is touched: a
 * second instance must not fence the transactional producer of the one streaming. */
static int slot_lookup(struct connector *c, char *errstr, size_t errstr_size)
{
    int st = pgcatalog_slot_state(c->cat, c->o->slot, &c->slot_confirmed, errstr, errstr_size);
    if (st == PGCATALOG_SLOT_BUSY) {
        int64_t now = connector_mono_ms();
        if (!c->slot_busy_since_ms)
            c->slot_busy_since_ms = now;
        c->fatal = now - c->slot_busy_since_ms >= SLOT_BUSY_GRACE_MS;
        return -1;
    }
    c->slot_busy_since_ms = 0;
    if (st < 0)
        c->fatal = pgcatalog_connected(c->cat);
    c->slot_exists = st > 0;
    return st < 0 ? -1 : 0;
}

int connector_open_kafka(struct connector *c, int txn_timeout_ms, char *errstr, size_t errstr_size)
{
    char *txn_id = c->o->exactly_once ? xasprintf("salescdc-connector-%s", c->o->name) : NULL;
    publisher_destroy(c->pub);
    c->pub = publisher_new(c->o->cfg, c->lsn, txn_id, txn_timeout_ms, errstr, errstr_size);
    free(txn_id);
    if (!c->pub) {
        c->fatal = 1; /* a configuration error */
        return -1;
    }
    if (c->batch)
        txnbatch_set_publisher(c->batch, c->pub);
    if (c->o->exactly_once &&
        publisher_init_transactions(c->pub, c->o->txn_timeout_ms, errstr, errstr_size) < 0)
        return -1;
    return 0;
}

/* Reads the offsets record (after init_transactions: it is final) into the batcher. */
static int load_offsets(struct connector *c, char *errstr, size_t errstr_size)
{
    struct offsets_record rec = {0};
    int found = offsets_read(c->o->cfg, c->o->offsets_topic, c->o->name, c->o->txn_timeout_ms, &rec,
                             errstr, errstr_size);
    if (found < 0)
        return -1;
    c->have_offsets = found;
    struct txnbatch_options bo = {c->o->name,         c->o->offsets_topic,
                                  c->o->exactly_once, c->o->txn_max_records,
                                  c->o->txn_max_ms,   c->o->txn_timeout_ms};
    c->batch = txnbatch_new(&bo, c->pub, NULL, &rec);
    return 0;
}

static int open_session(struct connector *c, char *errstr, size_t errstr_size)
{
    struct replication_options ro = {c->o->conninfo, c->o->slot, c->o->publication,
                                     c->o->streaming ? 2 : 1, c->o->status_interval_ms};
    c->cat = pgcatalog_new(c->o->conninfo, errstr, errstr_size);
    if (!c->cat || check_source(c, errstr, errstr_size) < 0 ||
        slot_lookup(c, errstr, errstr_size) < 0)
        return -1;
    c->dbname = xstrdup(pgcatalog_dbname(c->cat));
    c->repl = replication_new(&ro, errstr, errstr_size);
    if (!c->repl ||
        replication_identify(c->repl, c->system_id, sizeof c->system_id, errstr, errstr_size) < 0)
        return -1;
    if (connector_open_kafka(c, 0, errstr, errstr_size) < 0 ||
        load_offsets(c, errstr, errstr_size) < 0)
        return -1;
    c->dec = pgoutput_decoder_new();
    c->rels = relcache_new();
    c->spool = spool_set_new(c->o->spool_dir);
    return 0;
}

static void close_session(struct connector *c)
{
    replication_destroy(c->repl);
    txnbatch_destroy(c->batch);
    publisher_destroy(c->pub);
    relcache_destroy(c->rels);
    pgoutput_decoder_destroy(c->dec);
    spool_set_destroy(c->spool);
    lsn_tracker_destroy(c->lsn);
    pgcatalog_destroy(c->cat);
    strbuf_release(&c->key);
    strbuf_release(&c->value);
    free(c->dbname);
    c->repl = NULL;
    c->batch = NULL;
    c->pub = NULL;
    c->rels = NULL;
    c->dec = NULL;
    c->spool = NULL;
    c->lsn = NULL;
    c->cat = NULL;
    c->dbname = NULL;
    c->in_txn = c->skipping = c->in_stream = 0;
}

/* A fenced producer: either the broker aborted a Kafka transaction that outlived
 * transaction.timeout.ms (Kafka stalled or restarted, or the connector was paused), and the next
 * session's new producer and the offsets topic recover from that; or another connector with the
 * same name took over, which is fatal. The broker times out only a transaction older than the
 * timeout, so a fence of a younger one is the other connector. (A second connector on the same
 * slot is also refused by slot_lookup().) */
static void on_fenced(struct connector *c, char *errstr, size_t errstr_size)
{
    int64_t age = c->batch ? txnbatch_age_ms(c->batch) : -1;
    int timeout = publisher_txn_timeout_ms(c->pub);
    c->fatal = age < 0 || timeout <= 0 || age < timeout;
    size_t n = strlen(errstr);
    snprintf(errstr + n, errstr_size - n,
             " (the producer was fenced: a Kafka transaction outlived "
             "kafka.transaction.timeout.ms, or another connector runs with name %s; the "
             "transaction was %lld ms old, the timeout is %d ms: %s)",
             c->o->name, (long long)age, timeout,
             c->fatal ? "another connector" : "re-initialising the producer");
}

int connector_session(struct connector *c, char *errstr, size_t errstr_size)
{
    c->sessions++;
    c->fatal = c->streamed = 0;
    metrics_set_state(c->metrics, METRICS_STATE_STARTING);
    int rc = open_session(c, errstr, errstr_size);
    if (rc == 0)
        rc = connector_source_prepare(c, errstr, errstr_size);
    if (rc == 0 && !c->finished && !*c->stop)
        rc = connector_stream(c, errstr, errstr_size);
    if (rc < 0 && c->pub && publisher_fenced(c->pub))
        on_fenced(c, errstr, errstr_size);
    close_session(c);
    return rc;
}
