/* The S3 sink's run: consume flat topics, buffer, store objects, commit, keep the catalog. */
#ifndef SALESCDC_SINK_SINK_H
#define SALESCDC_SINK_SINK_H

#include <signal.h>

#include "options.h"

/* Runs until *STOP is raised (then flushes, commits and returns) or a fatal error. *ABORT,
 * raised by a second signal, gives up waiting for S3 during that final flush. Returns main()'s
 * exit code: 0 after a clean stop with everything stored and committed, 1 otherwise. */
int sink_run(const struct sink_options *o, volatile sig_atomic_t *stop,
             volatile sig_atomic_t *abort);

#endif
