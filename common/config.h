/* Table-driven configuration: one table per program drives parsing (properties file, SALESCDC_*
 * environment, command-line flags, in rising precedence), validation, --help and --dump-config.
 * Keys under a passthrough prefix (e.g. "kafka.") are accepted untyped and handed on. */
#ifndef SALESCDC_CONFIG_H
#define SALESCDC_CONFIG_H

#include <stddef.h>
#include <stdio.h>

enum config_type {
    CONFIG_STRING,
    CONFIG_INT,    /* integer within [min, max] */
    CONFIG_BOOL,   /* true/false, yes/no, on/off, 1/0 */
    CONFIG_SECRET, /* string never printed by --dump-config, logs or errors */
};

struct config_option {
    const char *name; /* dotted key: file "a.b=", env SALESCDC_A_B, flag --a.b */
    enum config_type type;
    const char *default_value; /* NULL: no default */
    long long min, max;        /* CONFIG_INT range */
    int required;              /* must end up set */
    const char *help;
};

/* Outcome of config_parse(). */
enum config_result {
    CONFIG_OK = 0,    /* run the program */
    CONFIG_EXIT = 1,  /* --help, --version or --dump-config was served: exit 0 */
    CONFIG_ERROR = 2, /* errstr says what is wrong: exit 2 */
};

struct config;

/* Creates a configuration for PROGRAM (summary: one paragraph for --help) over OPTIONS, an array
 * ended by an entry with a NULL name (borrowed; must outlive the config). PASSTHROUGH is a key
 * prefix accepted untyped (e.g. "kafka."), or NULL. Caller frees with config_destroy(). */
struct config *config_new(const char *program, const char *summary,
                          const struct config_option *options, const char *passthrough);
void config_destroy(struct config *cfg);

/* Applies defaults, the --config properties file, SALESCDC_* environment and ARGV flags, then
 * validates. Serves --help/--version/--dump-config to OUT. */
enum config_result config_parse(struct config *cfg, int argc, char **argv, FILE *out, char *errstr,
                                size_t errstr_size);

/* Sets KEY to VALUE as if given last; returns 0, or -1 with errstr naming the key and cause. */
int config_set(struct config *cfg, const char *key, const char *value, char *errstr,
               size_t errstr_size);

/* Typed getters for declared keys (borrowed strings; NULL when unset). Unknown keys abort:
 * that is a programming error, not a user error. */
const char *config_get(const struct config *cfg, const char *key);
long long config_get_int(const struct config *cfg, const char *key);
int config_get_bool(const struct config *cfg, const char *key);

/* Calls FN(key without prefix, value, ARG) for every passthrough key set, in order given;
 * stops and returns FN's first non-zero result. */
int config_each_passthrough(const struct config *cfg,
                            int (*fn)(const char *key, const char *value, void *arg), void *arg);

void config_print_help(const struct config *cfg, FILE *out);
/* Prints every key=value in effect (secrets as ******), loadable again with --config. */
void config_dump(const struct config *cfg, FILE *out);

#endif
