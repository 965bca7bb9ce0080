/* State shared by the connector's start-up (connector.c) and its change handlers (handlers.c). */
#ifndef SALESCDC_CONNECTOR_INTERNAL_H
#define SALESCDC_CONNECTOR_INTERNAL_H

#include <signal.h>
#include <stdint.h>

#include "avro_encode.h"
#include "lsn_tracker.h"
#include "options.h"
#include "pgcatalog.h"
#include "pgoutput.h"
#include "publisher.h"
#include "registry_client.h"
#include "relcache.h"
#include "replication.h"
#include "strbuf.h"

/* Per captured table (relcache ext): its encoder, topic and registered schema ids. */
struct connector_table {
    struct avroenc *enc;
    char *topic;
    int32_t key_id, value_id;
};

struct connector {
    const struct connector_options *o;
    volatile sig_atomic_t *stop;
    struct pgcatalog *cat;
    struct replication *repl;
    struct pgoutput_decoder *dec;
    struct relcache *rels;
    struct lsn_tracker *lsn;
    struct registry_client *registry;
    struct publisher *pub;
    char *dbname;
    struct strbuf key, value; /* reused encoding buffers */
    /* the transaction being decoded */
    int in_txn;
    uint64_t txn_seq;
    uint32_t xid;
    int64_t commit_ms;
    uint64_t msg_lsn; /* XLogData start of the message being handled */
    uint64_t events, txns;
};

/* Handles one decoded pgoutput message. Returns 0, or -1 with errstr (fatal). */
int connector_handle(struct connector *c, const struct pgoutput_msg *m, char *errstr,
                     size_t errstr_size);

#endif
