/* Consume-transform-produce with exactly-once delivery: a read_committed consumer in group
 * group.id (auto commit off), a transactional producer; each batch's output records, dead
 * letters and input offsets are committed in one Kafka transaction. An aborted transaction
 * rewinds the consumer to the committed offsets; a rebalance commits (or, when the assignment
 * was lost, aborts) the open transaction before partitions are given up. */
#ifndef SALESCDC_TRANSFORMER_PIPELINE_H
#define SALESCDC_TRANSFORMER_PIPELINE_H

#include <signal.h>
#include <stddef.h>

#include "metrics.h"
#include "options.h"
#include "process.h"
#include "schemas.h"

/* What the pipeline works with; all borrowed, all must outlive it. */
struct pipeline_deps {
    const struct transformer_options *o;
    struct processor *proc;
    struct schemas *schemas;
    struct metrics *metrics;
    volatile sig_atomic_t *stop; /* set by a signal handler: drain, commit, return */
};

struct pipeline;

/* Creates the consumer (subscribed to the input topics) and the transactional producer.
 * Returns the pipeline (caller frees with pipeline_destroy()) or NULL with errstr naming the
 * client or setting and the cause. */
struct pipeline *pipeline_new(const struct pipeline_deps *deps, char *errstr, size_t errstr_size);

/* Runs until *STOP (then commits what is open) or a fatal consumer error. Returns main()'s exit
 * code: 0, or 1 after logging the error. */
int pipeline_run(struct pipeline *p);

/* Leaves the group (an open transaction is aborted first), closes both clients. */
void pipeline_destroy(struct pipeline *p);

#endif
