/* The connector's metrics: atomics written by the streaming thread, rendered by HTTP threads. */
#include "metrics.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

static const char ops[] = "cudrt";
#define NOPS (sizeof ops - 1)

struct metrics_table {
    char *name;
    _Atomic uint64_t events[NOPS];
    struct metrics_table *next;
};

struct metrics {
    pthread_mutex_t lock; /* guards the table list (not the counters) */
    struct metrics_table *tables;
    _Atomic uint64_t counters[METRICS_COUNTER_COUNT];
    _Atomic uint64_t gauges[METRICS_GAUGE_COUNT];
    _Atomic int state;
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
    for (struct metrics_table *t = m->tables, *next; t; t = next) {
        next = t->next;
        free(t->name);
        free(t);
    }
    pthread_mutex_destroy(&m->lock);
    free(m);
}

struct metrics_table *metrics_table(struct metrics *m, const char *name)
{
    pthread_mutex_lock(&m->lock);
    struct metrics_table *t = m->tables, **tail = &m->tables;
    for (; t && strcmp(t->name, name) != 0; t = t->next)
        tail = &t->next;
    if (!t) {
        t = xcalloc(1, sizeof *t);
        t->name = xstrdup(name);
        *tail = t;
    }
    pthread_mutex_unlock(&m->lock);
    return t;
}

void metrics_event(struct metrics_table *t, char op)
{
    const char *p = strchr(ops, op);
    if (p && *p)
        atomic_fetch_add_explicit(&t->events[p - ops], 1, memory_order_relaxed);
}

void metrics_count(struct metrics *m, enum metrics_counter c)
{
    atomic_fetch_add_explicit(&m->counters[c], 1, memory_order_relaxed);
}

void metrics_set(struct metrics *m, enum metrics_gauge g, uint64_t value)
{
    atomic_store_explicit(&m->gauges[g], value, memory_order_relaxed);
}

void metrics_set_state(struct metrics *m, enum metrics_state s)
{
    atomic_store(&m->state, (int)s);
}

int metrics_ready(struct metrics *m)
{
    int s = atomic_load(&m->state);
    return s == METRICS_STATE_STREAMING || s == METRICS_STATE_SNAPSHOT;
}

static const struct {
    const char *name, *type, *help;
} counter_info[METRICS_COUNTER_COUNT] = {
    {"salescdc_connector_transactions_total", "counter", "Source transactions published."},
    {"salescdc_connector_transactions_skipped_total", "counter",
     "Source transactions skipped on replay: already committed to Kafka."},
    {"salescdc_connector_kafka_commits_total", "counter", "Kafka transactions committed."},
    {"salescdc_connector_kafka_aborts_total", "counter", "Kafka transactions aborted."},
    {"salescdc_connector_errors_total", "counter", "Failures that ended a session."},
    {"salescdc_connector_reconnects_total", "counter", "Sessions started after a failure."},
    {"salescdc_connector_heartbeats_total", "counter", "Heartbeats sent while idle."},
};

static const struct {
    const char *name, *help;
} gauge_info[METRICS_GAUGE_COUNT] = {
    {"salescdc_connector_received_lsn", "Last WAL position seen in the replication stream."},
    {"salescdc_connector_confirmed_lsn",
     "Last WAL position confirmed to the slot as flushed (everything before it is in Kafka)."},
    {"salescdc_connector_server_lsn", "The server's current WAL position."},
    {"salescdc_connector_lag_ms",
     "Milliseconds between the commit of the last source transaction and its processing."},
};

static void render_events(struct metrics *m, struct strbuf *out)
{
    strbuf_puts(out, "# HELP salescdc_connector_events_total Change events produced, by table "
                     "and op.\n# TYPE salescdc_connector_events_total counter\n");
    pthread_mutex_lock(&m->lock);
    for (struct metrics_table *t = m->tables; t; t = t->next)
        for (size_t i = 0; i < NOPS; i++)
            strbuf_printf(out, "salescdc_connector_events_total{table=\"%s\",op=\"%c\"} %llu\n",
                          t->name, ops[i], (unsigned long long)atomic_load(&t->events[i]));
    pthread_mutex_unlock(&m->lock);
}

void metrics_render(struct metrics *m, struct strbuf *out)
{
    uint64_t g[METRICS_GAUGE_COUNT];
    for (int i = 0; i < METRICS_GAUGE_COUNT; i++)
        g[i] = atomic_load(&m->gauges[i]);
    render_events(m, out);
    for (int i = 0; i < METRICS_COUNTER_COUNT; i++)
        strbuf_printf(out, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", counter_info[i].name,
                      counter_info[i].help, counter_info[i].name, counter_info[i].type,
                      counter_info[i].name, (unsigned long long)atomic_load(&m->counters[i]));
    for (int i = 0; i < METRICS_GAUGE_COUNT; i++)
        strbuf_printf(out, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", gauge_info[i].name,
                      gauge_info[i].help, gauge_info[i].name, gauge_info[i].name,
                      (unsigned long long)g[i]);
    uint64_t server = g[METRICS_SERVER_LSN], confirmed = g[METRICS_CONFIRMED_LSN];
    strbuf_printf(
        out,
        "# HELP salescdc_connector_lag_bytes WAL bytes between the server's current "
        "position and the slot's confirmed position.\n# TYPE salescdc_connector_lag_bytes "
        "gauge\nsalescdc_connector_lag_bytes %llu\n",
        (unsigned long long)(server > confirmed ? server - confirmed : 0));
    strbuf_printf(out,
                  "# HELP salescdc_connector_state 0 starting, 1 snapshot, 2 streaming, 3 "
                  "retrying, 4 stopping.\n# TYPE salescdc_connector_state gauge\n"
                  "salescdc_connector_state %d\n",
                  atomic_load(&m->state));
}
