/* Rate limiting arithmetic. */
#include "pacer.h"

#include <math.h>

void pacer_init(struct pacer *p, double rate, double now)
{
    p->rate = rate;
    p->base_time = now;
    p->base_done = 0;
    p->done = 0;
}

double pacer_next_time(const struct pacer *p)
{
    if (p->rate <= 0)
        return p->base_time;
    return p->base_time + (double)(p->done - p->base_done) / p->rate;
}

uint64_t pacer_due(struct pacer *p, double now, uint64_t max)
{
    if (p->rate <= 0)
        return max;
    if (now - pacer_next_time(p) > PACER_MAX_LAG_S) {
        p->base_time = now;
        p->base_done = p->done;
    }
    double scheduled = floor((now - p->base_time) * p->rate) + 1;
    double owed = scheduled - (double)(p->done - p->base_done);
    if (owed <= 0)
        return 0;
    return owed < (double)max ? (uint64_t)owed : max;
}

void pacer_done(struct pacer *p, uint64_t n)
{
    p->done += n;
}
