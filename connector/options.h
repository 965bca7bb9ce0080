/* The connector's option table (drives parsing, validation and --help) and its typed view. */
#ifndef SALESCDC_CONNECTOR_OPTIONS_H
#define SALESCDC_CONNECTOR_OPTIONS_H

#include <stddef.h>

#include "config.h"

#define CONNECTOR_PROGRAM "salescdc-connector"

extern const char connector_summary[];
extern const struct config_option connector_option_table[];

/* Typed options; strings are borrowed from the config. */
struct connector_options {
    const struct config *cfg; /* for the kafka.* passthrough */
    const char *conninfo;
    const char *slot, *publication, *tables;
    int all_tables;
    const char *topic_prefix;
    int tombstones;
    const char *registry_url, *registry_user, *registry_password;
    int status_interval_ms;
    int flush_timeout_ms;
};

/* Fills O from CFG (borrowed; must outlive O). Returns 0, or -1 with errstr naming the option. */
int connector_options_load(const struct config *cfg, struct connector_options *o, char *errstr,
                           size_t errstr_size);

#endif
