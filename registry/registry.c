/* The schema registry's life cycle: replay of the log, the write path, metrics. */
#include "registry.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "avsc.h"
#include "log.h"
#include "registry_internal.h"
#include "store_record.h"
#include "xalloc.h"

struct registry *registry_new(const struct registry_log *log, enum avsc_compat_level default_level,
                              int write_timeout_ms)
{
    struct registry *r = xcalloc(1, sizeof *r);
    r->log = *log;
    r->write_timeout_ms = write_timeout_ms;
    pthread_rwlock_init(&r->state_lock, NULL);
    pthread_mutex_init(&r->write_lock, NULL);
    r->store = store_new(default_level);
    atomic_init(&r->ready, 0);
    return r;
}

void registry_destroy(struct registry *r)
{
    if (!r)
        return;
    store_destroy(r->store);
    pthread_rwlock_destroy(&r->state_lock);
    pthread_mutex_destroy(&r->write_lock);
    free(r);
}

/* registry_record_fn: applies one record read from the log. */
static void apply_record(void *arg, const char *key, size_t key_len, const char *value,
                         size_t value_len)
{
    struct registry *r = arg;
    char err[512];
    pthread_rwlock_wrlock(&r->state_lock);
    int rc = store_record_apply(r->store, key, key_len, value, value_len, err, sizeof err);
    pthread_rwlock_unlock(&r->state_lock);
    if (rc < 0)
        log_warn("skipping a record of the schemas log: %s", err);
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int registry_load(struct registry *r, int timeout_ms, int (*stop)(void *), void *stop_arg,
                  char *errstr, size_t errstr_size)
{
    long long deadline = now_ms() + timeout_ms;
    char err[512] = "no answer yet";
    for (;;) {
        long long left = deadline - now_ms();
        int rc =
            r->log.read_until(r->log.ctx, -1, (int)(left < 1000 ? (left > 0 ? left : 0) : 1000),
                              apply_record, r, err, sizeof err);
        if (rc == 1)
            break;
        if (rc < 0)
            log_warn("reading the schemas log: %s; retrying", err);
        if (stop && stop(stop_arg)) {
            snprintf(errstr, errstr_size, "stopped while reading the schemas log");
            return -1;
        }
        if (now_ms() >= deadline) {
            snprintf(errstr, errstr_size,
                     "could not read the schemas log to its end within %d ms (%s); is Kafka up?",
                     timeout_ms, err);
            return -1;
        }
    }
    pthread_rwlock_rdlock(&r->state_lock);
    log_info("schemas log replayed: %zu schemas, %zu subjects, highest id %d",
             store_schema_count(r->store), store_live_subject_count(r->store),
             store_max_id(r->store));
    pthread_rwlock_unlock(&r->state_lock);
    atomic_store(&r->ready, 1);
    return 0;
}

int registry_is_ready(const struct registry *r)
{
    return atomic_load(&((struct registry *)r)->ready);
}

void registry_metrics(struct registry *r, struct strbuf *out)
{
    pthread_rwlock_rdlock(&r->state_lock);
    size_t schemas = store_schema_count(r->store), subjects = store_live_subject_count(r->store);
    int max_id = store_max_id(r->store);
    pthread_rwlock_unlock(&r->state_lock);
    strbuf_printf(out,
                  "# HELP salescdc_registry_ready 1 once the schemas log has been replayed.\n"
                  "# TYPE salescdc_registry_ready gauge\nsalescdc_registry_ready %d\n"
                  "# HELP salescdc_registry_schemas Distinct schemas (ids) held.\n"
                  "# TYPE salescdc_registry_schemas gauge\nsalescdc_registry_schemas %zu\n"
                  "# HELP salescdc_registry_subjects Subjects with a live version.\n"
                  "# TYPE salescdc_registry_subjects gauge\nsalescdc_registry_subjects %zu\n"
                  "# HELP salescdc_registry_max_id Highest schema id issued.\n"
                  "# TYPE salescdc_registry_max_id gauge\nsalescdc_registry_max_id %d\n",
                  registry_is_ready(r), schemas, subjects, max_id);
}

json_t *registry_fail(struct registry_error *err, int status, int code, const char *fmt, ...)
{
    va_list ap;
    err->status = status;
    err->code = code;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return NULL;
}

struct avsc *registry_parse_schema(const char *schema, struct registry_error *err)
{
    char why[512];
    struct avsc *a = NULL;
    if (!schema || !*schema) {
        registry_fail(err, 422, 42201, "Empty schema");
        return NULL;
    }
    if (avsc_parse(schema, strlen(schema), &a, why, sizeof why) < 0) {
        registry_fail(err, 422, 42201, "Invalid schema: %s", why);
        return NULL;
    }
    return a;
}

int registry_persist(struct registry *r, const char *key, const char *value, const char *what,
                     struct registry_error *err)
{
    char why[512], why2[512];
    int64_t offset = -1;
    if (r->log.append(r->log.ctx, key, value, &offset, why, sizeof why) < 0) {
        /* It may have landed anyway: read up to the end so the state matches the log. */
        if (r->log.read_until(r->log.ctx, -1, r->write_timeout_ms, apply_record, r, why2,
                              sizeof why2) < 0)
            log_warn("reading the schemas log after a failed write: %s", why2);
        log_error("%s failed while writing to the schemas log: %s", what, why);
        registry_fail(err, 500, 50001, "%s operation failed while writing to the Kafka store: %s",
                      what, why);
        return -1;
    }
    int rc = r->log.read_until(r->log.ctx, offset, r->write_timeout_ms, apply_record, r, why,
                               sizeof why);
    if (rc == 1)
        return 0;
    if (rc == 0)
        registry_fail(err, 500, 50002, "%s operation timed out reading its write back", what);
    else
        registry_fail(err, 500, 50001, "%s operation could not read its write back: %s", what, why);
    log_error("%s", err->message);
    return -1;
}

void registry_incompatible(struct registry_error *err, const char *subject, const char *detail,
                           int version, enum avsc_compat_level level)
{
    registry_fail(err, 409, 409,
                  "Schema being registered is incompatible with an earlier schema for subject "
                  "\"%s\", details: [%s, {oldSchemaVersion: %d}, {compatibility: '%s'}]",
                  subject, detail ? detail : "", version, avsc_compat_level_name(level));
}
