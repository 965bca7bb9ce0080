/* The run loop: pacing dispatches to generation, writing and progress. */
#include "producer.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "batch.h"
#include "generator.h"
#include "log.h"
#include "pacer.h"
#include "progress.h"
#include "writer.h"

struct run {
    const struct producer_options *o;
    volatile sig_atomic_t *stop;
    struct generator *gen;
    struct batch *batch;
    struct writer *writer;
    struct progress *progress;
    struct pacer pacer;
    struct writer_counts totals;
    uint64_t written; /* operations committed */
    uint64_t seed;
    double start;
};

static double monotonic_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t random_seed(void)
{
    uint64_t v = 0;
    if (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v)
        v = (uint64_t)time(NULL) ^ ((uint64_t)clock() << 20);
    return v & INT64_MAX;
}

static int limit_reached(const struct run *r, double now)
{
    const struct producer_options *o = r->o;
    if (o->has_count && generator_count(r->gen) >= o->count)
        return 1;
    return o->duration_s > 0 && now - r->start >= o->duration_s;
}

/* Sleeps until the next operation or progress report is due, or the run's end; a signal cuts
 * the sleep short. */
static void wait_for_work(const struct run *r, double now)
{
    double until = fmin(pacer_next_time(&r->pacer), progress_next_time(r->progress));
    if (r->o->duration_s > 0)
        until = fmin(until, r->start + r->o->duration_s);
    double s = until - now;
    if (s <= 0)
        return;
    struct timespec ts = {(time_t)s, (long)((s - floor(s)) * 1e9)};
    nanosleep(&ts, NULL);
}

/* Generates N operations into the batch and writes them in one transaction. */
static enum writer_result write_batch(struct run *r, uint64_t n, char *errstr, size_t errstr_size)
{
    batch_reset(r->batch);
    for (uint64_t i = 0; i < n; i++)
        generator_next(r->gen, batch_add(r->batch));
    batch_seal(r->batch);
    pacer_done(&r->pacer, n);
    enum writer_result res = writer_write(r->writer, r->batch, &r->totals, errstr, errstr_size);
    if (res == WRITER_OK)
        r->written += n;
    return res;
}

/* Returns 0 when a limit or the stop flag ended the run, 1 on a failure (logged). */
static int run_loop(struct run *r)
{
    char err[2048];
    for (;;) {
        double now = monotonic_now();
        progress_update(r->progress, now, r->written);
        if (*r->stop || limit_reached(r, now))
            return 0;
        uint64_t max = r->o->batch;
        if (r->o->has_count && r->o->count - generator_count(r->gen) < max)
            max = r->o->count - generator_count(r->gen);
        uint64_t due = pacer_due(&r->pacer, now, max);
        if (due == 0) {
            wait_for_work(r, now);
            continue;
        }
        switch (write_batch(r, due, err, sizeof err)) {
        case WRITER_OK: break;
        case WRITER_STOPPED:
            log_warn("%s; the last %" PRIu64 " orders were not written", err, due);
            return 0;
        case WRITER_FAILED: log_error("%s", err); return 1;
        }
    }
}

static void print_summary(const struct run *r)
{
    const struct writer_stats *s = writer_stats(r->writer);
    double elapsed = monotonic_now() - r->start;
    printf("summary mode=%s seed=%" PRIu64 " run_id=%" PRIu64 " orders=%" PRIu64
           " inserted=%" PRIu64 " updated=%" PRIu64 " deleted=%" PRIu64 " unchanged=%" PRIu64
           " transactions=%" PRIu64 " retries=%" PRIu64 " reconnects=%" PRIu64
           " commits_resolved=%" PRIu64 " elapsed_s=%.3f orders_per_s=%.0f\n",
           r->o->mode == GENERATOR_SEED ? "seed" : "lifecycle", r->seed, writer_run_id(r->writer),
           r->written, r->totals.inserted, r->totals.updated, r->totals.deleted,
           r->totals.unchanged, s->transactions, s->retries, s->reconnects, s->resolved, elapsed,
           elapsed > 0 ? (double)r->written / elapsed : 0.0);
    fflush(stdout);
}

static struct generator *make_generator(const struct producer_options *o, uint64_t seed)
{
    struct generator_config g = {
        .mode = o->mode,
        .seed = seed,
        .delete_percent = o->delete_percent,
        .time_start_us = o->time_start_us,
        .time_step_us = o->time_step_us,
    };
    return generator_new(&g);
}

int producer_run(const struct producer_options *o, volatile sig_atomic_t *stop)
{
    char err[2048], seed_text[32];
    struct run r = {.o = o, .stop = stop};
    r.seed = o->has_seed ? o->seed : random_seed();
    snprintf(seed_text, sizeof seed_text, "%" PRIu64, r.seed);
    struct writer_config wc = {
        .conninfo = o->conninfo,
        .schema = o->schema,
        .init = o->init,
        .reconnect_timeout_s = o->reconnect_timeout_s,
        .mode = o->mode == GENERATOR_SEED ? "seed" : "lifecycle",
        .seed = seed_text,
        .fault_commit_lost_every = o->fault_commit_lost_every,
        .stop = stop,
    };
    r.writer = writer_new(&wc);
    int rc = 1;
    if (writer_start(r.writer, err, sizeof err) < 0) {
        log_error("%s", err);
        goto cleanup;
    }
    log_info("started mode=%s seed=%s schema=%s rate=%.0f batch=%zu run_id=%" PRIu64, wc.mode,
             seed_text, o->schema, o->rate, o->batch, writer_run_id(r.writer));
    r.gen = make_generator(o, r.seed);
    r.batch = batch_new(o->has_count && o->count < o->batch ? (size_t)(o->count ? o->count : 1)
                                                            : o->batch);
    r.start = monotonic_now();
    pacer_init(&r.pacer, o->rate, r.start);
    struct progress_bounds bounds = {o->has_count ? o->count : 0, o->duration_s};
    r.progress = progress_new(o->progress, bounds, o->progress_interval_s, r.start);
    rc = run_loop(&r);
    progress_finish(r.progress);
    print_summary(&r);
cleanup:
    progress_destroy(r.progress);
    batch_destroy(r.batch);
    generator_destroy(r.gen);
    writer_destroy(r.writer);
    return rc;
}
