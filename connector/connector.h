/* The connector: sessions (preflight, publication, slot, snapshot, registry, Kafka, stream)
 * retried with backoff after lost connections, the metrics server, and the graceful stop. */
#ifndef SALESCDC_CONNECTOR_H
#define SALESCDC_CONNECTOR_H

#include <signal.h>

#include "options.h"

/* Runs until *STOP is set (then flushes, commits, confirms and returns 0), snapshot.mode
 * initial_only completed its snapshot (0), or a fatal error or retry.max.ms without progress
 * (logged; returns 1). O is borrowed. */
int connector_run(const struct connector_options *o, volatile sig_atomic_t *stop);

#endif
