/* The connector: start-up (preflight, publication, slot, registry, Kafka), the main loop that
 * dispatches each replication message to its handler, and the graceful stop. */
#ifndef SALESCDC_CONNECTOR_H
#define SALESCDC_CONNECTOR_H

#include <signal.h>

#include "options.h"

/* Runs until *STOP is set (then flushes, confirms and returns 0) or a fatal error (logged;
 * returns 1). O is borrowed. */
int connector_run(const struct connector_options *o, volatile sig_atomic_t *stop);

#endif
