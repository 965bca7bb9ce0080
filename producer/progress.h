/* Progress reporting: a line redrawn in place on a terminal (rows, rate, elapsed, ETA when the
 * run is bounded), or a logfmt line every few seconds when stderr is not a terminal. */
#ifndef SALESCDC_PRODUCER_PROGRESS_H
#define SALESCDC_PRODUCER_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

enum progress_mode { PROGRESS_OFF, PROGRESS_LINE, PROGRESS_LOG };

struct progress_bounds {
    uint64_t count;    /* operations to do; 0: unbounded */
    double duration_s; /* seconds to run; 0: unbounded */
};

struct progress;

/* Creates a reporter writing to stderr; INTERVAL_S is the log mode's period. START is the run's
 * start (monotonic seconds). Caller frees with progress_destroy(). */
struct progress *progress_new(enum progress_mode mode, struct progress_bounds bounds,
                              double interval_s, double start);
void progress_destroy(struct progress *p);
/* Reports OPS operations done at NOW if a report is due. */
void progress_update(struct progress *p, double now, uint64_t ops);
/* When the next report is due (for the caller's sleep), or a far future time when off. */
double progress_next_time(const struct progress *p);
/* Ends the in-place line (if any) so later output starts on a fresh line. */
void progress_finish(struct progress *p);

/* Renders "12,345/100,000 orders (12.3%)  9,876/s  elapsed 1.2s  ETA 8.8s" into OUT; the share
 * and ETA appear only for bounded runs. Returns OUT. */
char *progress_format(char *out, size_t size, uint64_t ops, double elapsed,
                      struct progress_bounds bounds);

#endif
