/* Leveled logfmt logging to stderr: one line per event, level checked before formatting. */
#ifndef SALESCDC_LOG_H
#define SALESCDC_LOG_H

#include <stdint.h>

enum log_level { LOG_LEVEL_DEBUG, LOG_LEVEL_INFO, LOG_LEVEL_WARN, LOG_LEVEL_ERROR };

/* Sets the program name printed in every line (borrowed; must outlive logging). */
void log_set_program(const char *program);
/* Sets the minimum level written. */
void log_set_level(enum log_level level);
/* Parses "debug|info|warn|error"; returns 0 and sets *out, or -1 if NAME is unknown. */
int log_level_parse(const char *name, enum log_level *out);
/* True if LEVEL would be written (lets callers skip costly argument preparation). */
int log_enabled(enum log_level level);

/* Writes `ts=... level=... prog=... msg="<formatted>"`; FMT may append more key=value pairs
 * after the message by using log_write_kv(). */
void log_write(enum log_level level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_debug(...)                                                                             \
    (log_enabled(LOG_LEVEL_DEBUG) ? log_write(LOG_LEVEL_DEBUG, __VA_ARGS__) : (void)0)
#define log_info(...)                                                                              \
    (log_enabled(LOG_LEVEL_INFO) ? log_write(LOG_LEVEL_INFO, __VA_ARGS__) : (void)0)
#define log_warn(...)                                                                              \
    (log_enabled(LOG_LEVEL_WARN) ? log_write(LOG_LEVEL_WARN, __VA_ARGS__) : (void)0)
#define log_error(...)                                                                             \
    (log_enabled(LOG_LEVEL_ERROR) ? log_write(LOG_LEVEL_ERROR, __VA_ARGS__) : (void)0)

/* PostgreSQL LSNs print as %X/%X: use LSN_FMT in the format and LSN_ARGS(lsn) as arguments. */
#define LSN_FMT "%X/%X"
#define LSN_ARGS(lsn) (unsigned)((uint64_t)(lsn) >> 32), (unsigned)((uint64_t)(lsn)&0xffffffffu)

#endif
