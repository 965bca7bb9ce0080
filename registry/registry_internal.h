/* Shared between registry.c, registry_read.c and registry_write.c only. */
#ifndef SALESCDC_REGISTRY_INTERNAL_H
#define SALESCDC_REGISTRY_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include "registry.h"
#include "store.h"

struct avsc;

struct registry {
    struct registry_log log;
    int write_timeout_ms;
    pthread_rwlock_t state_lock; /* readers share it; applying a log record takes it alone */
    pthread_mutex_t write_lock;  /* one write (decide, append, read back) at a time */
    struct store *store;
    int id_floor; /* ids below were handed to appends that failed: never issue them again */
    atomic_int ready;
};

/* Parses SCHEMA for an operation; returns it (caller frees with avsc_destroy()), or NULL with
 * ERR 42201 (invalid schema). */
struct avsc *registry_parse_schema(const char *schema, struct registry_error *err);

/* Appends one record and waits until it is read back and applied. Must hold write_lock. WHAT
 * names the operation in errors. Returns 0, or -1 with ERR 50001 / 50002. */
int registry_persist(struct registry *r, const char *key, const char *value, const char *what,
                     struct registry_error *err);

/* The 409 message Confluent gives for an incompatible schema. */
void registry_incompatible(struct registry_error *err, const char *subject, const char *detail,
                           int version, enum avsc_compat_level level);

#endif
