/* The transformer's configuration: the option table (which drives parsing, --help and
 * --dump-config) and its typed view, with the checks the table cannot express. */
#ifndef SALESCDC_TRANSFORMER_OPTIONS_H
#define SALESCDC_TRANSFORMER_OPTIONS_H

#include <stddef.h>

#include "columns.h"
#include "config.h"

#define TRANSFORMER_PROGRAM "salescdc-transformer"

/* The option table, ended by a NULL name. */
extern const struct config_option transformer_option_table[];
/* The --help summary. */
extern const char transformer_summary[];

enum transformer_format { TRANSFORMER_FORMAT_AVRO, TRANSFORMER_FORMAT_JSON };

/* Typed options; strings are borrowed from the config (which must outlive them) except where
 * noted. */
struct transformer_options {
    const struct config *cfg; /* for the kafka.* passthrough */
    const char *topics;       /* comma-separated list, or "" */
    const char *topics_regex;
    const char *group_id;
    const char *output_topic; /* pattern with {topic} */
    const char *dlq_topic;    /* pattern with {topic} */
    enum transformer_format format;
    int pass_tombstones;
    struct columns_rules *rules; /* owned: free with transformer_options_release() */
    const char *registry_url, *registry_user, *registry_password;
    int registry_timeout_ms;
    char *transactional_id; /* owned */
    int exactly_once;       /* 0: at-least-once, no transactions */
    int txn_max_records;
    int txn_max_ms;
    int topic_create;
    int topic_replication_factor; /* -1: the broker's default */
    const char *http_host;
    int http_port; /* -1: no HTTP server */
    int retry_backoff_max_ms;
    int timeout_ms; /* Kafka requests: init_transactions, metadata, topic creation */
};

/* Fills O from CFG (parsed). Returns 0, or -1 with errstr "option KEY: ..." (main adds
 * "Try --help"). Free with transformer_options_release(). */
int transformer_options_load(const struct config *cfg, struct transformer_options *o, char *errstr,
                             size_t errstr_size);
void transformer_options_release(struct transformer_options *o);

/* The topic named by PATTERN for input topic TOPIC: each "{topic}" replaced. Caller frees with
 * free(). */
char *transformer_topic_name(const char *pattern, const char *topic);

#endif
