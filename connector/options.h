/* The connector's option table (drives parsing, validation and --help) and its typed view. */
#ifndef SALESCDC_CONNECTOR_OPTIONS_H
#define SALESCDC_CONNECTOR_OPTIONS_H

#include <stddef.h>

#include "config.h"

#define CONNECTOR_PROGRAM "salescdc-connector"

extern const char connector_summary[];
extern const struct config_option connector_option_table[];

/* When the existing rows are read (op 'r'). */
enum connector_snapshot_mode {
    CONNECTOR_SNAPSHOT_INITIAL,      /* when the slot is created (or a snapshot was cut short) */
    CONNECTOR_SNAPSHOT_NEVER,        /* only changes */
    CONNECTOR_SNAPSHOT_ALWAYS,       /* at every start: the slot is recreated */
    CONNECTOR_SNAPSHOT_INITIAL_ONLY, /* as initial, then stop without streaming */
};

/* Typed options; strings are borrowed from the config. */
struct connector_options {
    const struct config *cfg; /* for the kafka.* passthrough */
    const char *name;         /* connector name: transactional.id, offsets key */
    const char *conninfo;
    const char *slot, *publication, *tables;
    int all_tables;
    const char *topic_prefix;
    int tombstones;
    int numeric_special_null; /* numeric.special: null (1) or fail (0) */
    int truncate_events;      /* TRUNCATE -> op 't' event (no key) */
    const char *registry_url, *registry_user, *registry_password;
    int status_interval_ms;
    int flush_timeout_ms;
    enum connector_snapshot_mode snapshot_mode;
    int snapshot_fetch_rows;
    int snapshot_txn_max_records, snapshot_txn_timeout_ms;
    int exactly_once;
    const char *offsets_topic;
    int txn_max_records, txn_max_ms, txn_timeout_ms;
    int txn_commit_drained; /* commit the Kafka transaction whenever the stream is drained */
    int streaming;          /* pgoutput proto_version 2 with streaming 'on' (PostgreSQL >= 14) */
    const char *spool_dir;  /* spool files of streamed transactions ("": the temp dir) */
    int heartbeat_interval_ms;
    const char *heartbeat_query;
    const char *http_host;
    int http_port;
    int retry_backoff_ms, retry_backoff_max_ms, retry_max_ms;
};

/* Fills O from CFG (borrowed; must outlive O). Returns 0, or -1 with errstr naming the option. */
int connector_options_load(const struct config *cfg, struct connector_options *o, char *errstr,
                           size_t errstr_size);

/* The name of snapshot mode MODE ("initial", ...). */
const char *connector_snapshot_mode_name(enum connector_snapshot_mode mode);

#endif
