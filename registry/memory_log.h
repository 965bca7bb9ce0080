/* A registry_log kept in memory: for tests, which need a log that behaves like the Kafka one
 * (append, read back in order, survive a "restart" by a second registry over the same log). */
#ifndef SALESCDC_MEMORY_LOG_H
#define SALESCDC_MEMORY_LOG_H

#include "registry.h"

struct memory_log;

/* Creates an empty log. Caller frees with memory_log_destroy(). */
struct memory_log *memory_log_new(void);
void memory_log_destroy(struct memory_log *m);

/* A registry_log over M reading from the start; each reader (registry) needs its own view, so
 * the returned ctx is a new reader; free it with memory_log_reader_destroy(). */
struct registry_log memory_log_reader(struct memory_log *m);
void memory_log_reader_destroy(struct registry_log *log);

/* Makes the next N appends fail as if the broker were down (N < 0: until reset with 0). */
void memory_log_fail_appends(struct memory_log *m, int n);
/* Number of records appended so far. */
size_t memory_log_size(struct memory_log *m);

#endif
