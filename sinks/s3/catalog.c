/* The catalog thread: pending tables and partitions, retried until Trino takes them. */
#include "catalog.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "catalog_jobs.h"
#include "log.h"
#include "object_key.h"
#include "xalloc.h"

struct cat_table {
    char *table, *changes, *view, *location;
    char *schema_text; /* latest declared value schema */
    char **keys;
    size_t n_keys;
    unsigned version; /* bumped by every change of the declaration */
    unsigned done;    /* version brought into Trino */
    int synced;       /* sync_partition_metadata ran in this process */
};

struct cat_part {
    char *table, *path;
};

struct sink_catalog {
    struct sink_catalog_options o; /* strings owned */
    struct trino_client *trino;    /* used by the thread only */
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct cat_table *tables;
    size_t n_tables, cap_tables;
    struct cat_part *parts; /* pending partitions, in arrival order */
    size_t n_parts, cap_parts;
    char **seen; /* "table\npath" of every partition declared (dedup) */
    size_t n_seen, cap_seen;
    int64_t retry_at_ms; /* after a failure: no work before this */
    int stopping, finished;
    int64_t drain_until_ms;
    volatile sig_atomic_t abort; /* stops a statement under way (trino stop flag) */
};

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void update_pending(struct sink_catalog *cat)
{
    int64_t n = (int64_t)cat->n_parts;
    for (size_t i = 0; i < cat->n_tables; i++)
        n += cat->tables[i].done != cat->tables[i].version;
    atomic_store(&cat->o.metrics->catalog_pending, n);
}

static struct cat_table *find_table(struct sink_catalog *cat, const char *table)
{
    for (size_t i = 0; i < cat->n_tables; i++)
        if (strcmp(cat->tables[i].table, table) == 0)
            return &cat->tables[i];
    return NULL;
}

/* A job copied out of the shared state, so the thread can run it without the lock. */
struct job {
    struct cat_table t; /* copies of the strings */
    char *path;         /* a partition job; NULL: a table job */
    unsigned version;
    int sync;
};

static void job_release(struct job *j)
{
    free(j->t.table);
    free(j->t.changes);
    free(j->t.view);
    free(j->t.location);
    free(j->t.schema_text);
    for (size_t k = 0; k < j->t.n_keys; k++)
        free(j->t.keys[k]);
    free(j->t.keys);
    free(j->path);
}

static void copy_table(const struct cat_table *t, struct job *j)
{
    j->t.table = xstrdup(t->table);
    j->t.changes = xstrdup(t->changes);
    j->t.view = xstrdup(t->view);
    j->t.location = xstrdup(t->location);
    j->t.schema_text = xstrdup(t->schema_text);
    j->t.n_keys = t->n_keys;
    j->t.keys = xcalloc(t->n_keys ? t->n_keys : 1, sizeof *j->t.keys);
    for (size_t k = 0; k < t->n_keys; k++)
        j->t.keys[k] = xstrdup(t->keys[k]);
    j->version = t->version;
    j->sync = !t->synced;
}

/* Picks the next job under the lock: tables first, then partitions of tables in Trino. */
static int next_job(struct sink_catalog *cat, struct job *j)
{
    memset(j, 0, sizeof *j);
    for (size_t i = 0; i < cat->n_tables; i++)
        if (cat->tables[i].done != cat->tables[i].version) {
            copy_table(&cat->tables[i], j);
            return 1;
        }
    for (size_t i = 0; i < cat->n_parts; i++) {
        struct cat_table *t = find_table(cat, cat->parts[i].table);
        if (t && t->done != 0) {
            copy_table(t, j);
            j->path = xstrdup(cat->parts[i].path);
            return 1;
        }
    }
    return 0;
}

static void job_done(struct sink_catalog *cat, const struct job *j)
{
    struct cat_table *t = find_table(cat, j->t.table);
    if (!j->path) {
        if (j->version > t->done)
            t->done = j->version;
        t->synced |= j->sync;
        return;
    }
    for (size_t i = 0; i < cat->n_parts; i++)
        if (strcmp(cat->parts[i].table, j->t.table) == 0 &&
            strcmp(cat->parts[i].path, j->path) == 0) {
            free(cat->parts[i].table);
            free(cat->parts[i].path);
            memmove(&cat->parts[i], &cat->parts[i + 1],
                    (cat->n_parts - i - 1) * sizeof *cat->parts);
            cat->n_parts--;
            break;
        }
}

static int run_job(struct sink_catalog *cat, struct job *j, char *errstr, size_t errstr_size)
{
    struct sink_avro_schema *value = sink_avro_schema_parse(j->t.schema_text, errstr, errstr_size);
    if (!value)
        return -1;
    struct sink_table_def d = {
        cat->o.catalog, cat->o.schema, j->t.changes,          j->t.view,
        j->t.location,  cat->o.format, cat->o.partition_mode, cat->o.partition_column,
        value->root,    j->t.keys,     j->t.n_keys,
    };
    int rc = j->path ? sink_catalog_register(cat->trino, &d, j->path, cat->o.metrics, errstr,
                                             errstr_size)
                     : sink_catalog_ensure_table(cat->trino, &d, j->sync, cat->o.metrics, errstr,
                                                 errstr_size);
    if (rc == 0 && !j->path)
        log_info("catalog: %s.%s.%s and view %s are up to date", cat->o.catalog, cat->o.schema,
                 j->t.changes, j->t.view);
    else if (rc == 0)
        log_info("catalog: registered partition %s of %s", j->path, j->t.changes);
    sink_avro_schema_destroy(value);
    return rc;
}

static int has_work(const struct sink_catalog *cat)
{
    for (size_t i = 0; i < cat->n_tables; i++)
        if (cat->tables[i].done != cat->tables[i].version)
            return 1;
    return cat->n_parts > 0;
}

static void wait_until(struct sink_catalog *cat, int64_t wait_ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    ts.tv_sec += wait_ms / 1000;
    ts.tv_nsec += (wait_ms % 1000) * 1000000;
    if (ts.tv_nsec >= 1000000000) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000;
    }
    pthread_cond_timedwait(&cat->cv, &cat->mu, &ts);
}

/* Waits (lock held) for runnable work, the retry time or a stop. Returns 1 with J filled, or 0
 * when the thread should end. */
static int wait_job(struct sink_catalog *cat, struct job *j)
{
    for (;;) {
        int64_t now = now_ms();
        if (cat->stopping && now >= cat->drain_until_ms)
            return 0;
        if (now >= cat->retry_at_ms && next_job(cat, j))
            return 1;
        if (cat->stopping && !has_work(cat))
            return 0;
        int64_t wait = cat->retry_at_ms > now ? cat->retry_at_ms - now : 1000;
        if (cat->stopping && cat->drain_until_ms - now < wait)
            wait = cat->drain_until_ms - now;
        wait_until(cat, wait);
    }
}

static void *catalog_thread(void *arg)
{
    struct sink_catalog *cat = arg;
    char err[1024];
    struct job j;
    pthread_mutex_lock(&cat->mu);
    while (wait_job(cat, &j)) {
        pthread_mutex_unlock(&cat->mu);
        int rc = run_job(cat, &j, err, sizeof err);
        pthread_mutex_lock(&cat->mu);
        if (rc == 0) {
            job_done(cat, &j);
        } else {
            log_warn("catalog: %s; retrying in %ld ms (objects keep landing)", err,
                     cat->o.retry_ms);
            cat->retry_at_ms = now_ms() + cat->o.retry_ms;
        }
        update_pending(cat);
        job_release(&j);
    }
    cat->finished = 1;
    pthread_cond_broadcast(&cat->cv);
    pthread_mutex_unlock(&cat->mu);
    return NULL;
}

static void copy_options(struct sink_catalog *cat, const struct sink_catalog_options *o)
{
    cat->o = *o;
    cat->o.catalog = xstrdup(o->catalog);
    cat->o.schema = xstrdup(o->schema);
    cat->o.table_prefix = xstrdup(o->table_prefix);
    cat->o.changes_suffix = xstrdup(o->changes_suffix);
    cat->o.bucket = xstrdup(o->bucket);
    cat->o.s3_prefix = xstrdup(o->s3_prefix);
    cat->o.partition_column = xstrdup(o->partition_column ? o->partition_column : "");
}

static void free_options(struct sink_catalog_options *o)
{
    free((char *)o->catalog);
    free((char *)o->schema);
    free((char *)o->table_prefix);
    free((char *)o->changes_suffix);
    free((char *)o->bucket);
    free((char *)o->s3_prefix);
    free((char *)o->partition_column);
}

struct sink_catalog *sink_catalog_start(const struct sink_catalog_options *o, char *errstr,
                                        size_t errstr_size)
{
    struct sink_catalog *cat = xcalloc(1, sizeof *cat);
    struct trino_config tc = o->trino;
    tc.stop = &cat->abort;
    cat->trino = trino_client_new(&tc, errstr, errstr_size);
    if (!cat->trino) {
        free(cat);
        return NULL;
    }
    copy_options(cat, o);
    pthread_mutex_init(&cat->mu, NULL);
    pthread_cond_init(&cat->cv, NULL);
    if (pthread_create(&cat->thread, NULL, catalog_thread, cat) != 0) {
        snprintf(errstr, errstr_size, "cannot start the catalog thread");
        trino_client_destroy(cat->trino);
        free_options(&cat->o);
        free(cat);
        return NULL;
    }
    return cat;
}

static int same_keys(const struct cat_table *t, char *const *keys, size_t n)
{
    if (t->n_keys != n)
        return 0;
    for (size_t k = 0; k < n; k++)
        if (strcmp(t->keys[k], keys[k]) != 0)
            return 0;
    return 1;
}

static struct cat_table *add_table(struct sink_catalog *cat, const char *table)
{
    if (cat->n_tables == cat->cap_tables) {
        cat->cap_tables = cat->cap_tables ? 2 * cat->cap_tables : 8;
        cat->tables = xrealloc(cat->tables, cat->cap_tables * sizeof *cat->tables);
    }
    struct cat_table *t = &cat->tables[cat->n_tables++];
    memset(t, 0, sizeof *t);
    char *loc = sink_table_location(cat->o.s3_prefix, table);
    t->table = xstrdup(table);
    t->changes = xasprintf("%s%s%s", cat->o.table_prefix, table, cat->o.changes_suffix);
    t->view = xasprintf("%s%s", cat->o.table_prefix, table);
    t->location = xasprintf("s3://%s/%s", cat->o.bucket, loc);
    t->schema_text = xstrdup("");
    t->keys = xcalloc(1, sizeof *t->keys);
    free(loc);
    return t;
}

void sink_catalog_table(struct sink_catalog *cat, const char *table, const char *value_schema,
                        char *const *key_fields, size_t n_keys)
{
    pthread_mutex_lock(&cat->mu);
    struct cat_table *t = find_table(cat, table);
    if (!t)
        t = add_table(cat, table);
    int changed = strcmp(t->schema_text, value_schema) != 0 ||
                  (n_keys > 0 && !same_keys(t, key_fields, n_keys));
    if (changed) {
        free(t->schema_text);
        t->schema_text = xstrdup(value_schema);
        if (n_keys > 0) {
            for (size_t k = 0; k < t->n_keys; k++)
                free(t->keys[k]);
            t->keys = xrealloc(t->keys, n_keys * sizeof *t->keys);
            for (size_t k = 0; k < n_keys; k++)
                t->keys[k] = xstrdup(key_fields[k]);
            t->n_keys = n_keys;
        }
        t->version++;
        update_pending(cat);
        pthread_cond_signal(&cat->cv);
    }
    pthread_mutex_unlock(&cat->mu);
}

void sink_catalog_partition(struct sink_catalog *cat, const char *table, const char *path)
{
    if (cat->o.partition_mode == SINK_PARTITION_NONE)
        return;
    char *id = xasprintf("%s\n%s", table, path);
    pthread_mutex_lock(&cat->mu);
    for (size_t i = 0; i < cat->n_seen; i++)
        if (strcmp(cat->seen[i], id) == 0) {
            pthread_mutex_unlock(&cat->mu);
            free(id);
            return;
        }
    if (cat->n_seen == cat->cap_seen) {
        cat->cap_seen = cat->cap_seen ? 2 * cat->cap_seen : 64;
        cat->seen = xrealloc(cat->seen, cat->cap_seen * sizeof *cat->seen);
    }
    cat->seen[cat->n_seen++] = id;
    if (cat->n_parts == cat->cap_parts) {
        cat->cap_parts = cat->cap_parts ? 2 * cat->cap_parts : 16;
        cat->parts = xrealloc(cat->parts, cat->cap_parts * sizeof *cat->parts);
    }
    cat->parts[cat->n_parts].table = xstrdup(table);
    cat->parts[cat->n_parts++].path = xstrdup(path);
    update_pending(cat);
    pthread_cond_signal(&cat->cv);
    pthread_mutex_unlock(&cat->mu);
}

static void free_state(struct sink_catalog *cat)
{
    for (size_t i = 0; i < cat->n_tables; i++) {
        struct job j = {.t = cat->tables[i]};
        job_release(&j);
    }
    for (size_t i = 0; i < cat->n_parts; i++) {
        free(cat->parts[i].table);
        free(cat->parts[i].path);
    }
    for (size_t i = 0; i < cat->n_seen; i++)
        free(cat->seen[i]);
    free(cat->tables);
    free(cat->parts);
    free(cat->seen);
}

void sink_catalog_stop(struct sink_catalog *cat, long drain_ms)
{
    if (!cat)
        return;
    pthread_mutex_lock(&cat->mu);
    cat->stopping = 1;
    cat->drain_until_ms = now_ms() + drain_ms;
    pthread_cond_broadcast(&cat->cv);
    while (!cat->finished && now_ms() < cat->drain_until_ms)
        wait_until(cat, cat->drain_until_ms - now_ms());
    cat->abort = 1; /* a statement still under way gives up */
    if (has_work(cat))
        log_warn("catalog: %zu partition(s) and some table work not done in Trino; the next "
                 "start registers them (sync_partition_metadata)",
                 cat->n_parts);
    pthread_mutex_unlock(&cat->mu);
    pthread_join(cat->thread, NULL);
    free_state(cat);
    trino_client_destroy(cat->trino);
    pthread_cond_destroy(&cat->cv);
    pthread_mutex_destroy(&cat->mu);
    free_options(&cat->o);
    free(cat);
}
