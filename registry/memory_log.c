/* A registry_log kept in memory, for tests. */
#include "memory_log.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct record {
    char *key, *value;
};

struct memory_log {
    pthread_mutex_t lock;
    struct record *records;
    size_t n, cap;
    int fail_appends;
};

struct reader {
    struct memory_log *log;
    size_t next; /* index of the next record to deliver */
};

struct memory_log *memory_log_new(void)
{
    struct memory_log *m = xcalloc(1, sizeof *m);
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

void memory_log_destroy(struct memory_log *m)
{
    if (!m)
        return;
    for (size_t i = 0; i < m->n; i++) {
        free(m->records[i].key);
        free(m->records[i].value);
    }
    free(m->records);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static int append(void *ctx, const char *key, const char *value, int64_t *offset, char *errstr,
                  size_t errstr_size)
{
    struct memory_log *m = ((struct reader *)ctx)->log;
    pthread_mutex_lock(&m->lock);
    int rc = 0;
    if (m->fail_appends) {
        if (m->fail_appends > 0)
            m->fail_appends--;
        snprintf(errstr, errstr_size, "memory log: append failed (simulated)");
        rc = -1;
    } else {
        if (m->n == m->cap) {
            m->cap = m->cap ? 2 * m->cap : 16;
            m->records = xrealloc(m->records, m->cap * sizeof *m->records);
        }
        m->records[m->n] = (struct record){xstrdup(key), value ? xstrdup(value) : NULL};
        *offset = (int64_t)m->n++;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

static int read_until(void *ctx, int64_t until, int timeout_ms, registry_record_fn fn, void *arg,
                      char *errstr, size_t errstr_size)
{
    (void)timeout_ms, (void)errstr, (void)errstr_size;
    struct reader *rd = ctx;
    for (;;) {
        pthread_mutex_lock(&rd->log->lock);
        size_t end = rd->log->n;
        struct record rec = rd->next < end ? rd->log->records[rd->next] : (struct record){0, 0};
        pthread_mutex_unlock(&rd->log->lock);
        if (rd->next >= end || (until >= 0 && (int64_t)rd->next > until))
            return until < 0 || (int64_t)rd->next > until ? 1 : 0;
        fn(arg, rec.key, strlen(rec.key), rec.value, rec.value ? strlen(rec.value) : 0);
        rd->next++;
    }
}

struct registry_log memory_log_reader(struct memory_log *m)
{
    struct reader *rd = xcalloc(1, sizeof *rd);
    rd->log = m;
    return (struct registry_log){rd, append, read_until};
}

void memory_log_reader_destroy(struct registry_log *log)
{
    free(log->ctx);
    log->ctx = NULL;
}

void memory_log_fail_appends(struct memory_log *m, int n)
{
    pthread_mutex_lock(&m->lock);
    m->fail_appends = n;
    pthread_mutex_unlock(&m->lock);
}

size_t memory_log_size(struct memory_log *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->n;
    pthread_mutex_unlock(&m->lock);
    return n;
}
