/* Progress reporting on a terminal line or as periodic log lines. */
#include "progress.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>

#include "log.h"
#include "xalloc.h"

#define LINE_PERIOD_S 0.25 /* redraw rate of the terminal line */
#define NEVER 1e300

struct progress {
    enum progress_mode mode;
    struct progress_bounds bounds;
    double interval_s, start, next;
    int drawn; /* a terminal line is on screen */
};

struct progress *progress_new(enum progress_mode mode, struct progress_bounds bounds,
                              double interval_s, double start)
{
    struct progress *p = xcalloc(1, sizeof *p);
    p->mode = mode;
    p->bounds = bounds;
    p->interval_s = mode == PROGRESS_LINE ? LINE_PERIOD_S : interval_s;
    if (p->interval_s <= 0)
        p->mode = PROGRESS_OFF;
    p->start = start;
    p->next = start + p->interval_s;
    return p;
}

void progress_destroy(struct progress *p)
{
    free(p);
}

/* "1234567" → "1,234,567" */
static const char *grouped(uint64_t v, char *out, size_t size)
{
    char digits[32];
    int n = snprintf(digits, sizeof digits, "%" PRIu64, v), j = 0;
    for (int i = 0; i < n && (size_t)j + 2 < size; i++) {
        if (i > 0 && (n - i) % 3 == 0)
            out[j++] = ',';
        out[j++] = digits[i];
    }
    out[j] = '\0';
    return out;
}

static const char *duration(double s, char *out, size_t size)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(out, size, "%.1fs", s);
    else if (s < 3600)
        snprintf(out, size, "%dm%02ds", (int)s / 60, (int)s % 60);
    else
        snprintf(out, size, "%dh%02dm", (int)(s / 3600), (int)s % 3600 / 60);
    return out;
}

/* Seconds left, or a negative value when unknown. */
static double eta(uint64_t ops, double elapsed, struct progress_bounds b)
{
    double left = -1, rate = elapsed > 0 ? (double)ops / elapsed : 0;
    if (b.count && rate > 0)
        left = (double)(b.count > ops ? b.count - ops : 0) / rate;
    if (b.duration_s > 0 && (left < 0 || b.duration_s - elapsed < left))
        left = b.duration_s - elapsed;
    return left;
}

char *progress_format(char *out, size_t size, uint64_t ops, double elapsed,
                      struct progress_bounds bounds)
{
    char a[32], b[32], r[32], e[32], t[32];
    double rate = elapsed > 0 ? (double)ops / elapsed : 0, left = eta(ops, elapsed, bounds);
    int n;
    if (bounds.count)
        n = snprintf(out, size, "%s/%s orders (%.1f%%)", grouped(ops, a, sizeof a),
                     grouped(bounds.count, b, sizeof b),
                     100.0 * (double)ops / (double)bounds.count);
    else
        n = snprintf(out, size, "%s orders", grouped(ops, a, sizeof a));
    if (n < 0 || (size_t)n >= size)
        return out;
    n += snprintf(out + n, size - (size_t)n, "  %s/s  elapsed %s",
                  grouped((uint64_t)rate, r, sizeof r), duration(elapsed, e, sizeof e));
    if (left >= 0 && (size_t)n < size)
        snprintf(out + n, size - (size_t)n, "  ETA %s", duration(left, t, sizeof t));
    return out;
}

void progress_update(struct progress *p, double now, uint64_t ops)
{
    if (p->mode == PROGRESS_OFF || now < p->next)
        return;
    p->next = now + p->interval_s;
    double elapsed = now - p->start;
    if (p->mode == PROGRESS_LINE) {
        char line[160];
        /* Text first, then return to column 0: a log line written meanwhile (they are longer)
         * overwrites it instead of being appended to it. */
        fprintf(stderr, "\r\033[K%s\r",
                progress_format(line, sizeof line, ops, elapsed, p->bounds));
        fflush(stderr);
        p->drawn = 1;
        return;
    }
    log_info("progress orders=%" PRIu64 " elapsed_s=%.1f orders_per_s=%.0f", ops, elapsed,
             elapsed > 0 ? (double)ops / elapsed : 0.0);
}

double progress_next_time(const struct progress *p)
{
    return p->mode == PROGRESS_OFF ? NEVER : p->next;
}

void progress_finish(struct progress *p)
{
    if (p->drawn)
        fputs("\r\033[K", stderr);
    p->drawn = 0;
}
