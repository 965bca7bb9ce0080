/* The connector's start-up, main loop and graceful stop. */
#include "connector.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "connector_internal.h"
#include "log.h"
#include "xalloc.h"

/* Publication and slot: created if missing; returns the slot's confirmed position in *START. */
static int prepare_source(struct connector *c, uint64_t *start, char *errstr, size_t errstr_size)
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
        return -1;
    int exists = pgcatalog_slot_state(c->cat, c->o->slot, start, errstr, errstr_size);
    if (exists < 0)
        return -1;
    if (exists) {
        log_info("replication slot found slot=%s confirmed_flush=" LSN_FMT, c->o->slot,
                 LSN_ARGS(*start));
        return 0;
    }
    return replication_create_slot(c->repl, start, errstr, errstr_size);
}

static int startup(struct connector *c, char *errstr, size_t errstr_size)
{
    uint64_t start = 0;
    const struct connector_options *o = c->o;
    struct replication_options ro = {o->conninfo, o->slot, o->publication, 1,
                                     o->status_interval_ms};
    struct registry_client_options rgo = {o->registry_url, o->registry_user, o->registry_password,
                                          10000, 5};
    c->cat = pgcatalog_new(o->conninfo, errstr, errstr_size);
    if (!c->cat || !(c->repl = replication_new(&ro, errstr, errstr_size)) ||
        prepare_source(c, &start, errstr, errstr_size) < 0)
        return -1;
    c->dbname = xstrdup(pgcatalog_dbname(c->cat));
    c->lsn = lsn_tracker_new(start);
    c->registry = registry_client_new(&rgo);
    c->pub = publisher_new(o->cfg, c->lsn, errstr, errstr_size);
    if (!c->pub)
        return -1;
    return replication_start(c->repl, start, errstr, errstr_size);
}

/* Handles one message of the replication stream. */
static int handle_copy(struct connector *c, const struct repl_proto_msg *rm, char *errstr,
                       size_t errstr_size)
{
    struct pgoutput_msg m;
    if (rm->kind == REPL_PROTO_KEEPALIVE) {
        if (!c->in_txn)
            lsn_tracker_idle(c->lsn, rm->wal_end);
        else
            lsn_tracker_received(c->lsn, rm->wal_end);
        return rm->reply_requested ? replication_feedback(c->repl, c->lsn, 1, errstr, errstr_size)
                                   : 0;
    }
    lsn_tracker_received(c->lsn, rm->wal_start);
    c->msg_lsn = rm->wal_start;
    if (pgoutput_decode(c->dec, rm->data, rm->len, &m, errstr, errstr_size) < 0)
        return -1;
    return connector_handle(c, &m, errstr, errstr_size);
}

/* Reads and dispatches until *stop or an error. */
static int stream(struct connector *c, char *errstr, size_t errstr_size)
{
    struct repl_proto_msg rm;
    while (!*c->stop) {
        int wait = replication_feedback_due_ms(c->repl);
        int n = replication_next(c->repl, wait < 100 ? wait : 100, &rm, errstr, errstr_size);
        if (n < 0 || (n > 0 && handle_copy(c, &rm, errstr, errstr_size) < 0))
            return -1;
        publisher_poll(c->pub);
        if (publisher_failed(c->pub, errstr, errstr_size) ||
            replication_feedback(c->repl, c->lsn, 0, errstr, errstr_size) < 0)
            return -1;
    }
    return 0;
}

/* Waits for Kafka's acknowledgements, then confirms what they cover. */
static int finish(struct connector *c, char *errstr, size_t errstr_size)
{
    int rc = publisher_flush(c->pub, c->o->flush_timeout_ms, errstr, errstr_size);
    publisher_poll(c->pub);
    char err[512];
    if (publisher_failed(c->pub, err, sizeof err)) {
        snprintf(errstr, errstr_size, "%s", err);
        rc = -1;
    }
    if (replication_feedback(c->repl, c->lsn, 1, err, sizeof err) < 0) {
        log_error("%s", err);
        rc = -1;
    }
    log_info("stopped transactions=%llu events=%llu delivered=%llu confirmed_flush=" LSN_FMT,
             (unsigned long long)c->txns, (unsigned long long)c->events,
             (unsigned long long)publisher_delivered(c->pub),
             LSN_ARGS(lsn_tracker_get_confirmed(c->lsn)));
    return rc;
}

static void teardown(struct connector *c)
{
    replication_destroy(c->repl);
    publisher_destroy(c->pub);
    registry_client_destroy(c->registry);
    relcache_destroy(c->rels);
    pgoutput_decoder_destroy(c->dec);
    lsn_tracker_destroy(c->lsn);
    pgcatalog_destroy(c->cat);
    strbuf_release(&c->key);
    strbuf_release(&c->value);
    free(c->dbname);
}

int connector_run(const struct connector_options *o, volatile sig_atomic_t *stop)
{
    char err[1024];
    struct connector c = {.o = o, .stop = stop};
    c.dec = pgoutput_decoder_new();
    c.rels = relcache_new();
    int rc = startup(&c, err, sizeof err);
    if (rc == 0) {
        rc = stream(&c, err, sizeof err);
        if (rc < 0)
            log_error("%s", err);
        /* flush and confirm what was delivered even after an error: nothing undelivered is
         * confirmed, and what was delivered need not be sent again */
        if (finish(&c, err, sizeof err) < 0) {
            log_error("%s", err);
            rc = -1;
        }
    } else {
        log_error("%s", err);
    }
    teardown(&c);
    return rc < 0 ? 1 : 0;
}
