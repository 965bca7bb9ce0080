/* Leveled logfmt logging to stderr. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

static const char *program_name = "salescdc";
static enum log_level min_level = LOG_LEVEL_INFO;
static const char *const level_names[] = {"debug", "info", "warn", "error"};

void log_set_program(const char *program)
{
    program_name = program;
}

void log_set_level(enum log_level level)
{
    min_level = level;
}

int log_enabled(enum log_level level)
{
    return level >= min_level;
}

int log_level_parse(const char *name, enum log_level *out)
{
    for (size_t i = 0; i < sizeof level_names / sizeof level_names[0]; i++) {
        if (strcasecmp(name, level_names[i]) == 0) {
            *out = (enum log_level)i;
            return 0;
        }
    }
    return -1;
}

/* Writes MSG as a logfmt quoted value: backslash, quote and control characters escaped. */
static void write_quoted(FILE *f, const char *msg)
{
    fputc('"', f);
    for (const char *p = msg; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if ((unsigned char)*p < 0x20)
            fprintf(f, "\\x%02x", (unsigned char)*p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

void log_write(enum log_level level, const char *fmt, ...)
{
    char msg[2048], ts[40];
    struct timespec now;
    struct tm tm;
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    clock_gettime(CLOCK_REALTIME, &now);
    gmtime_r(&now.tv_sec, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);

    flockfile(stderr);
    fprintf(stderr, "ts=%s.%03ldZ level=%s prog=%s msg=", ts, now.tv_nsec / 1000000L,
            level_names[level], program_name);
    write_quoted(stderr, msg);
    fputc('\n', stderr);
    funlockfile(stderr);
}
