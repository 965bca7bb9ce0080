/* Published counters and lag, rendered in Prometheus' text format. */
#include "metrics.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct metrics {
    pthread_mutex_t lock;
    struct metrics_counts counts;
    struct metrics_lag *lags;
    size_t n_lags;
    int ready;
};

struct metrics *metrics_new(void)
{
    struct metrics *m = xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void metrics_destroy(struct metrics *m)
{
    if (!m)
        return;
    pthread_mutex_destroy(&m->lock);
    free(m->lags);
    free(m);
}

void metrics_publish(struct metrics *m, const struct metrics_counts *c)
{
    pthread_mutex_lock(&m->lock);
    m->counts = *c;
    pthread_mutex_unlock(&m->lock);
}

void metrics_publish_lag(struct metrics *m, const struct metrics_lag *lags, size_t n)
{
    struct metrics_lag *copy = n ? xmalloc(n * sizeof *copy) : NULL;
    if (n)
        memcpy(copy, lags, n * sizeof *copy);
    pthread_mutex_lock(&m->lock);
    free(m->lags);
    m->lags = copy;
    m->n_lags = n;
    pthread_mutex_unlock(&m->lock);
}

void metrics_set_ready(struct metrics *m, int ready)
{
    pthread_mutex_lock(&m->lock);
    m->ready = ready;
    pthread_mutex_unlock(&m->lock);
}

int metrics_ready(struct metrics *m)
{
    pthread_mutex_lock(&m->lock);
    int ready = m->ready;
    pthread_mutex_unlock(&m->lock);
    return ready;
}

static void counter(struct strbuf *out, const char *name, const char *help, uint64_t value)
{
    strbuf_printf(out,
                  "# HELP salescdc_transformer_%s %s\n# TYPE salescdc_transformer_%s counter\n"
                  "salescdc_transformer_%s %" PRIu64 "\n",
                  name, help, name, name, value);
}

void metrics_render(struct metrics *m, struct strbuf *out)
{
    pthread_mutex_lock(&m->lock);
    const struct metrics_counts *c = &m->counts;
    counter(out, "records_in_total", "Input records processed and committed.", c->records_in);
    counter(out, "records_out_total", "Flat records (and passed tombstones) committed.",
            c->records_out);
    counter(out, "records_dlq_total", "Records committed to dead-letter topics.", c->records_dlq);
    counter(out, "records_dropped_total", "Dropped tombstones and truncate events.",
            c->records_dropped);
    counter(out, "transactions_committed_total", "Kafka transactions committed.", c->txn_committed);
    counter(out, "transactions_aborted_total", "Kafka transactions aborted.", c->txn_aborted);
    counter(out, "producer_resets_total", "Transactional producers re-created after fatal errors.",
            c->producer_resets);
    counter(out, "retries_total", "Waits for an unavailable registry or Kafka metadata.",
            c->registry_retries);
    counter(out, "schemas_registered_total", "Flat schemas registered or found by subject.",
            c->schemas_registered);
    strbuf_puts(out, "# HELP salescdc_transformer_consumer_lag Records behind the high watermark "
                     "per assigned input partition.\n# TYPE salescdc_transformer_consumer_lag "
                     "gauge\n");
    for (size_t i = 0; i < m->n_lags; i++)
        strbuf_printf(
            out, "salescdc_transformer_consumer_lag{topic=\"%s\",partition=\"%d\"} %" PRId64 "\n",
            m->lags[i].topic, (int)m->lags[i].partition, m->lags[i].lag);
    strbuf_printf(out, "# TYPE salescdc_transformer_ready gauge\nsalescdc_transformer_ready %d\n",
                  m->ready);
    pthread_mutex_unlock(&m->lock);
}
