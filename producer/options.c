/* The producer's option table and its typed view. */
#include "options.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

#define MAX_INT 9223372036854775807LL

const char producer_summary[] =
    "Generates gadget orders into PostgreSQL (the AWS demo's generator). Mode seed is the demo's:\n"
    "orderid random in 1..10000, product Laptop/Phone/Tablet/Headphones/Charger, quantity 1-5,\n"
    "price 10.00-500.00, upserted (so repeats are updates). Mode lifecycle creates orders and\n"
    "moves them placed -> paid -> shipped -> delivered (or cancelled), deleting some. Runs until\n"
    "--count or --duration is reached, or until SIGTERM/SIGINT (the transaction in flight is\n"
    "committed), then prints a summary line on stdout: the exact inserted/updated/deleted counts.";

const struct config_option producer_option_table[] = {
    {"pg.conninfo", CONFIG_SECRET, "", 0, 0, 0,
     "libpq connection string or URI; empty: libpq defaults and PG* environment"},
    {"pg.schema", CONFIG_STRING, "public", 0, 0, 0,
     "schema holding orders, products, customers and salescdc_producer_runs"},
    {"pg.reconnect.timeout", CONFIG_INT, "60", 0, 86400, 0,
     "seconds to keep reconnecting after the connection is lost (0: forever)"},
    {"init", CONFIG_BOOL, "false", 0, 0, 0,
     "create the schema and tables if missing (idempotent); with --count 0 do only that"},
    {"mode", CONFIG_STRING, "seed", 0, 0, 0, "seed or lifecycle"},
    {"rate", CONFIG_INT, "1", 0, 100000000, 0, "orders per second (0: as fast as possible)"},
    {"count", CONFIG_INT, NULL, 0, MAX_INT, 0, "orders (operations) to write; default: no limit"},
    {"duration", CONFIG_INT, "0", 0, MAX_INT / 1000, 0, "seconds to run (0: no limit)"},
    {"batch", CONFIG_INT, "10000", 1, 1000000, 0,
     "most orders per transaction (paced runs commit what is due, often fewer)"},
    {"seed", CONFIG_INT, NULL, 0, MAX_INT, 0,
     "random seed: the same seed and options give the same rows; default: random (printed)"},
    {"delete.percent", CONFIG_INT, "0", 0, 100, 0, "share of operations that delete an order"},
    {"time.start", CONFIG_STRING, NULL, 0, 0, 0,
     "synthetic timestamps from this UTC time on (e.g. 2024-01-01T00:00:00Z), time.step.ms "
     "apart; default: the database's now()"},
    {"time.step.ms", CONFIG_INT, "1000", 0, 86400000, 0, "synthetic clock step per operation"},
    {"progress", CONFIG_STRING, "auto", 0, 0, 0,
     "auto (a live line on a terminal, else log lines), line, log or off"},
    {"progress.interval", CONFIG_INT, "10", 1, 86400, 0, "seconds between progress log lines"},
    {"pg.fault.commit.lost.every", CONFIG_INT, "0", 0, 1000000, 0,
     "testing only: every Nth COMMIT acts as if the connection died during it (0: never)"},
    CLI_OPTION_LOG_LEVEL,
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

/* Parses digits at *P (exactly N of them) into *OUT and advances *P. */
static int digits(const char **p, int n, int *out)
{
    *out = 0;
    for (int i = 0; i < n; i++, (*p)++) {
        if (!isdigit((unsigned char)**p))
            return -1;
        *out = *out * 10 + (**p - '0');
    }
    return 0;
}

static int expect_char(const char **p, const char *allowed)
{
    if (!**p || !strchr(allowed, **p))
        return -1;
    (*p)++;
    return 0;
}

int producer_parse_time(const char *text, int64_t *out_us)
{
    const char *p = text;
    struct tm tm = {0};
    int frac = 0, frac_digits = 0;
    if (digits(&p, 4, &tm.tm_year) || expect_char(&p, "-") || digits(&p, 2, &tm.tm_mon) ||
        expect_char(&p, "-") || digits(&p, 2, &tm.tm_mday) || expect_char(&p, "T ") ||
        digits(&p, 2, &tm.tm_hour) || expect_char(&p, ":") || digits(&p, 2, &tm.tm_min) ||
        expect_char(&p, ":") || digits(&p, 2, &tm.tm_sec))
        return -1;
    if (*p == '.')
        for (p++; isdigit((unsigned char)*p) && frac_digits < 6; p++, frac_digits++)
            frac = frac * 10 + (*p - '0');
    for (; frac_digits < 6; frac_digits++)
        frac *= 10;
    if (*p == 'Z')
        p++;
    if (*p || tm.tm_mon < 1 || tm.tm_mon > 12 || tm.tm_mday < 1 || tm.tm_mday > 31 ||
        tm.tm_hour > 23 || tm.tm_min > 59 || tm.tm_sec > 59)
        return -1;
    tm.tm_year -= 1900;
    tm.tm_mon -= 1;
    *out_us = (int64_t)timegm(&tm) * 1000000 + frac;
    return 0;
}

static int load_choices(const struct config *cfg, int is_tty, struct producer_options *o,
                        char *errstr, size_t errstr_size)
{
    const char *mode = config_get(cfg, "mode"), *progress = config_get(cfg, "progress");
    if (strcmp(mode, "seed") == 0)
        o->mode = GENERATOR_SEED;
    else if (strcmp(mode, "lifecycle") == 0)
        o->mode = GENERATOR_LIFECYCLE;
    else {
        snprintf(errstr, errstr_size, "option mode: '%s' is not one of seed, lifecycle", mode);
        return -1;
    }
    if (strcmp(progress, "auto") == 0)
        o->progress = is_tty ? PROGRESS_LINE : PROGRESS_LOG;
    else if (strcmp(progress, "line") == 0)
        o->progress = PROGRESS_LINE;
    else if (strcmp(progress, "log") == 0)
        o->progress = PROGRESS_LOG;
    else if (strcmp(progress, "off") == 0)
        o->progress = PROGRESS_OFF;
    else {
        snprintf(errstr, errstr_size, "option progress: '%s' is not one of auto, line, log, off",
                 progress);
        return -1;
    }
    return 0;
}

int producer_options_load(const struct config *cfg, int progress_is_tty, struct producer_options *o,
                          char *errstr, size_t errstr_size)
{
    memset(o, 0, sizeof *o);
    if (load_choices(cfg, progress_is_tty, o, errstr, errstr_size) < 0)
        return -1;
    o->conninfo = config_get(cfg, "pg.conninfo");
    o->schema = config_get(cfg, "pg.schema");
    if (!*o->schema) {
        snprintf(errstr, errstr_size, "option pg.schema: must not be empty");
        return -1;
    }
    o->reconnect_timeout_s = (double)config_get_int(cfg, "pg.reconnect.timeout");
    o->init = config_get_bool(cfg, "init");
    o->rate = (double)config_get_int(cfg, "rate");
    o->has_count = config_get(cfg, "count") != NULL;
    o->count = (uint64_t)config_get_int(cfg, "count");
    o->duration_s = (double)config_get_int(cfg, "duration");
    o->batch = (size_t)config_get_int(cfg, "batch");
    o->has_seed = config_get(cfg, "seed") != NULL;
    o->seed = (uint64_t)config_get_int(cfg, "seed");
    o->delete_percent = (int)config_get_int(cfg, "delete.percent");
    o->time_step_us = config_get_int(cfg, "time.step.ms") * 1000;
    o->progress_interval_s = (double)config_get_int(cfg, "progress.interval");
    o->fault_commit_lost_every = (int)config_get_int(cfg, "pg.fault.commit.lost.every");
    o->time_start_us = GENERATOR_TS_NOW;
    const char *start = config_get(cfg, "time.start");
    if (start && producer_parse_time(start, &o->time_start_us) < 0) {
        snprintf(errstr, errstr_size,
                 "option time.start: '%s' is not a UTC time like 2024-01-01T00:00:00Z", start);
        return -1;
    }
    return 0;
}
