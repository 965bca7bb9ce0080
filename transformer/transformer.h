/* The transformer's run: schema registry clients, flattening, metrics server, pipeline. */
#ifndef SALESCDC_TRANSFORMER_TRANSFORMER_H
#define SALESCDC_TRANSFORMER_TRANSFORMER_H

#include <signal.h>

#include "options.h"

/* Runs with options O (borrowed) until *STOP becomes non-zero (set by a signal handler: the
 * open transaction is committed) or a fatal error. Returns main()'s exit code: 0, or 1 after
 * logging the error. */
int transformer_run(const struct transformer_options *o, volatile sig_atomic_t *stop);

#endif
