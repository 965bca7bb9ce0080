/* librdkafka configuration from a salescdc config: program defaults, then the user's
 * "kafka.<property>" passthrough keys (like kcat's -X). */
#ifndef SALESCDC_KAFKA_CONF_H
#define SALESCDC_KAFKA_CONF_H

#include <librdkafka/rdkafka.h>
#include <stddef.h>

#include "config.h"

/* Sets librdkafka property KEY to VALUE on CONF. Returns 0, or -1 with errstr naming the key as
 * "kafka.KEY" and the cause; values of keys that look secret are never shown. */
int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                   size_t errstr_size);

/* Returns a new configuration holding DEFAULTS (pairs "key", "value", ending with NULL; may be
 * NULL) overridden by every "kafka.*" passthrough key of CFG (borrowed). Returns NULL with errstr
 * set (naming the key, ending "Try --help") when a property is unknown or a value is invalid.
 * Caller frees with rd_kafka_conf_destroy() or hands it to rd_kafka_new(). */
rd_kafka_conf_t *kafka_conf_new(const struct config *cfg, const char *const *defaults, char *errstr,
                                size_t errstr_size);

/* Routes librdkafka's log lines and error events into common/log.c (logfmt, levels mapped). */
void kafka_conf_route_logs(rd_kafka_conf_t *conf);

#endif
