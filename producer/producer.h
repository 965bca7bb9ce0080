/* The producer's run: generate, pace, write in batches, report progress, print the summary. */
#ifndef SALESCDC_PRODUCER_PRODUCER_H
#define SALESCDC_PRODUCER_PRODUCER_H

#include <signal.h>

#include "options.h"

/* Runs with options O (borrowed) until a limit is reached, *STOP becomes non-zero (set by a
 * signal handler; the batch in flight is still committed), or an error. Prints the summary line
 * on stdout in every case after start-up. Returns main()'s exit code: 0, or 1 on an error (one
 * error line logged). */
int producer_run(const struct producer_options *o, volatile sig_atomic_t *stop);

#endif
