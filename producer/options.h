/* The producer's configuration: the option table (which drives parsing, --help and
 * --dump-config) and its conversion into typed settings, with the checks the table cannot
 * express (mode names, timestamps). */
#ifndef SALESCDC_PRODUCER_OPTIONS_H
#define SALESCDC_PRODUCER_OPTIONS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "generator.h"
#include "progress.h"

#define PRODUCER_PROGRAM "salescdc-producer"

/* The option table, ended by a NULL name. */
extern const struct config_option producer_option_table[];
/* The --help summary. */
extern const char producer_summary[];

struct producer_options {
    const char *conninfo; /* borrowed from the config */
    const char *schema;   /* borrowed from the config */
    double reconnect_timeout_s;
    int init;
    enum generator_mode mode;
    double rate;       /* per second; 0: unlimited */
    int has_count;     /* count given */
    uint64_t count;    /* operations to write */
    double duration_s; /* 0: unlimited */
    size_t batch;
    int has_seed;
    uint64_t seed;
    int delete_percent;
    int64_t time_start_us; /* GENERATOR_TS_NOW: now() */
    int64_t time_step_us;
    enum progress_mode progress;
    double progress_interval_s;
    int fault_commit_lost_every;
};

/* Fills O from CFG (parsed; must outlive O). PROGRESS_IS_TTY decides progress=auto. Returns 0,
 * or -1 with errstr "option KEY: ...". */
int producer_options_load(const struct config *cfg, int progress_is_tty, struct producer_options *o,
                          char *errstr, size_t errstr_size);

/* Parses "YYYY-MM-DDTHH:MM:SS[.ffffff]Z" (or with a space for T; Z optional, always UTC) into
 * µs since the epoch. Returns 0 or -1. */
int producer_parse_time(const char *text, int64_t *out_us);

#endif
