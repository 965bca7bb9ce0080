/* Rate limiting: how many operations are due at a given time for a target rate. Operation k of a
 * schedule is due at start + k/rate, so at rate 1 the first is written at once and then one per
 * second, like the seed. Pure arithmetic on caller-supplied times (seconds, monotonic). */
#ifndef SALESCDC_PRODUCER_PACER_H
#define SALESCDC_PRODUCER_PACER_H

#include <stdint.h>

struct pacer {
    double rate;        /* operations per second; 0 = unlimited */
    double base_time;   /* start of the current schedule */
    uint64_t base_done; /* operations done when the schedule started */
    uint64_t done;      /* operations done in total */
};

/* After a stall longer than this, the schedule restarts instead of bursting to catch up. */
#define PACER_MAX_LAG_S 1.0

/* Starts a schedule at NOW for RATE operations per second (0: unlimited). */
void pacer_init(struct pacer *p, double rate, double now);
/* Number of operations due at NOW, at most MAX (all MAX when unlimited). */
uint64_t pacer_due(struct pacer *p, double now, uint64_t max);
/* Time at which the next operation is due (NOW or earlier if one is due already). */
double pacer_next_time(const struct pacer *p);
/* Records N operations as done. */
void pacer_done(struct pacer *p, uint64_t n);

#endif
