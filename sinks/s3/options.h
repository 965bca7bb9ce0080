/* The S3 sink's configuration: the option table (parsing, --help, --dump-config) and its typed
 * view with the checks the table cannot express. */
#ifndef SALESCDC_SINK_OPTIONS_H
#define SALESCDC_SINK_OPTIONS_H

#include <stddef.h>

#include "config.h"
#include "flush_rules.h"
#include "partitioner.h"
#include "s3_client.h"
#include "writer.h"

#define SINK_PROGRAM "salescdc-s3-sink"

/* The option table, ended by a NULL name, and the --help summary. */
extern const struct config_option sink_option_table[];
extern const char sink_summary[];

struct sink_options {
    const struct config *cfg; /* borrowed: kafka.* passthrough */
    const char *topics_regex;
    const char *group_id;
    const char *registry_url;
    const char *registry_user;     /* "" : no authentication */
    const char *registry_password; /* secret */
    struct s3_config s3;           /* strings borrowed from the config or the environment */
    char s3_endpoint_buf[256];
    const char *s3_prefix;
    size_t multipart_threshold, part_size;
    struct sink_writer_config writer;
    struct sink_partitioner partitioner;
    struct sink_flush_rules rules;
    long upload_backoff_initial_ms, upload_backoff_max_ms;
    long shutdown_timeout_ms;
    const char *trino_url; /* "" : no catalog */
    const char *trino_user, *trino_catalog, *trino_schema, *trino_table_prefix;
    const char *trino_changes_suffix;
    long trino_retry_ms;
    const char *http_host;
    int http_port; /* -1: no HTTP server (/metrics, /healthz) */
};

/* Fills O from CFG (parsed; must outlive O), completing the S3 settings from AWS_* variables.
 * Returns 0, or -1 with errstr "option KEY: ...". */
int sink_options_load(const struct config *cfg, struct sink_options *o, char *errstr,
                      size_t errstr_size);

#endif
