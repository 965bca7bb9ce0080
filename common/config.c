/* Table-driven configuration: properties file < SALESCDC_* environment < flags. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "xalloc.h"

#ifndef SALESCDC_VERSION
#define SALESCDC_VERSION "dev"
#endif

struct passthrough_kv {
    char *key; /* without the prefix */
    char *value;
};

struct config {
    const char *program;
    const char *summary;
    const struct config_option *options;
    size_t n_options;
    const char *passthrough;
    char **values; /* parallel to options; NULL when unset */
    struct passthrough_kv *extra;
    size_t n_extra;
};

static const char *const true_words[] = {"true", "yes", "on", "1"};
static const char *const false_words[] = {"false", "no", "off", "0"};

struct config *config_new(const char *program, const char *summary,
                          const struct config_option *options, const char *passthrough)
{
    struct config *cfg = xcalloc(1, sizeof *cfg);
    cfg->program = program;
    cfg->summary = summary;
    cfg->options = options;
    cfg->passthrough = passthrough;
    while (options[cfg->n_options].name)
        cfg->n_options++;
    cfg->values = xcalloc(cfg->n_options, sizeof *cfg->values);
    return cfg;
}

void config_destroy(struct config *cfg)
{
    if (!cfg)
        return;
    for (size_t i = 0; i < cfg->n_options; i++)
        free(cfg->values[i]);
    for (size_t i = 0; i < cfg->n_extra; i++) {
        free(cfg->extra[i].key);
        free(cfg->extra[i].value);
    }
    free(cfg->extra);
    free(cfg->values);
    free(cfg);
}

static long find_option(const struct config *cfg, const char *key)
{
    for (size_t i = 0; i < cfg->n_options; i++)
        if (strcmp(cfg->options[i].name, key) == 0)
            return (long)i;
    return -1;
}

static int word_in(const char *w, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcasecmp(w, list[i]) == 0)
            return 1;
    return 0;
}

/* Returns 1/0 for a boolean word, -1 if VALUE is not one. */
static int parse_bool(const char *value)
{
    if (word_in(value, true_words, 4))
        return 1;
    if (word_in(value, false_words, 4))
        return 0;
    return -1;
}

static int validate(const struct config_option *opt, const char *value, char *errstr,
                    size_t errstr_size)
{
    const char *shown = opt->type == CONFIG_SECRET ? "(secret)" : value;
    if (opt->type == CONFIG_INT) {
        char *end;
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (errno || end == value || *end) {
            snprintf(errstr, errstr_size, "option %s: '%s' is not an integer", opt->name, shown);
            return -1;
        }
        if (v < opt->min || v > opt->max) {
            snprintf(errstr, errstr_size, "option %s: %lld is outside [%lld, %lld]", opt->name, v,
                     opt->min, opt->max);
            return -1;
        }
    } else if (opt->type == CONFIG_BOOL && parse_bool(value) < 0) {
        snprintf(errstr, errstr_size, "option %s: '%s' is not a boolean (true/false)", opt->name,
                 shown);
        return -1;
    }
    return 0;
}

static void set_extra(struct config *cfg, const char *key, const char *value)
{
    for (size_t i = 0; i < cfg->n_extra; i++) {
        if (strcmp(cfg->extra[i].key, key) == 0) {
            free(cfg->extra[i].value);
            cfg->extra[i].value = xstrdup(value);
            return;
        }
    }
    cfg->extra = xrealloc(cfg->extra, (cfg->n_extra + 1) * sizeof *cfg->extra);
    cfg->extra[cfg->n_extra].key = xstrdup(key);
    cfg->extra[cfg->n_extra].value = xstrdup(value);
    cfg->n_extra++;
}

int config_set(struct config *cfg, const char *key, const char *value, char *errstr,
               size_t errstr_size)
{
    size_t plen = cfg->passthrough ? strlen(cfg->passthrough) : 0;
    if (plen && strncmp(key, cfg->passthrough, plen) == 0 && key[plen]) {
        set_extra(cfg, key + plen, value);
        return 0;
    }
    long i = find_option(cfg, key);
    if (i < 0) {
        snprintf(errstr, errstr_size, "unknown option '%s'", key);
        return -1;
    }
    if (validate(&cfg->options[i], value, errstr, errstr_size) < 0)
        return -1;
    free(cfg->values[i]);
    cfg->values[i] = xstrdup(value);
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *end = s + strlen(s);
    while (end > s && isspace((unsigned char)end[-1]))
        *--end = '\0';
    return s;
}

/* Properties file: `key = value` per line; blank lines and lines starting # or ! ignored. */
static int load_file(struct config *cfg, const char *path, char *errstr, size_t errstr_size)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(errstr, errstr_size, "cannot read config file %s: %s", path, strerror(errno));
        return -1;
    }
    char line[4096], err[512];
    int lineno = 0, rc = 0;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *s = trim(line);
        if (!*s || *s == '#' || *s == '!')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(errstr, errstr_size, "config file %s line %d: expected key=value", path,
                     lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        if (config_set(cfg, trim(s), trim(eq + 1), err, sizeof err) < 0) {
            snprintf(errstr, errstr_size, "config file %s line %d: %s", path, lineno, err);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

/* SALESCDC_<KEY> with dots and dashes as underscores, upper case. */
static void env_name(const char *key, char *out, size_t size)
{
    size_t n = (size_t)snprintf(out, size, "SALESCDC_");
    for (const char *p = key; *p && n + 1 < size; p++)
        out[n++] = (*p == '.' || *p == '-') ? '_' : (char)toupper((unsigned char)*p);
    out[n] = '\0';
}

/* Passthrough keys from the environment take a double underscore after the prefix,
 * SALESCDC_KAFKA__BATCH_SIZE -> kafka.batch.size, so that settings of the same family meant for
 * other tools (SALESCDC_KAFKA_PORT of the local stack) are never mistaken for properties. */
static void passthrough_env_prefix(const struct config *cfg, char *out, size_t size)
{
    env_name(cfg->passthrough, out, size); /* "kafka." -> SALESCDC_KAFKA_ */
    size_t n = strlen(out);
    if (n + 1 < size) {
        out[n] = '_';
        out[n + 1] = '\0';
    }
}

static void load_env_passthrough(struct config *cfg)
{
    extern char **environ;
    char prefix[128];
    passthrough_env_prefix(cfg, prefix, sizeof prefix);
    size_t plen = strlen(prefix);
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        if (!eq || strncmp(*e, prefix, plen) != 0 || eq == *e + plen)
            continue;
        char *key = xasprintf("%.*s", (int)(eq - *e - plen), *e + plen);
        for (char *p = key; *p; p++)
            *p = *p == '_' ? '.' : (char)tolower((unsigned char)*p);
        set_extra(cfg, key, eq + 1);
        free(key);
    }
}

static int load_env(struct config *cfg, char *errstr, size_t errstr_size)
{
    char name[256], err[512];
    for (size_t i = 0; i < cfg->n_options; i++) {
        env_name(cfg->options[i].name, name, sizeof name);
        const char *v = getenv(name);
        if (v && config_set(cfg, cfg->options[i].name, v, err, sizeof err) < 0) {
            snprintf(errstr, errstr_size, "environment %.100s: %.500s", name, err);
            return -1;
        }
    }
    if (cfg->passthrough)
        load_env_passthrough(cfg);
    return 0;
}

enum builtin { BUILTIN_NONE, BUILTIN_HELP, BUILTIN_VERSION, BUILTIN_DUMP };

/* Splits ARGV[*i] into key and value (consuming the next argument when needed). Returns 0, or
 * -1 with errstr set. *KEY is ARGV[*i]'s text after "--" (caller frees). */
static int next_flag(const struct config *cfg, int argc, char **argv, int *i, char **key,
                     const char **value, char *errstr, size_t errstr_size)
{
    const char *arg = argv[*i];
    if (strncmp(arg, "--", 2) != 0 || !arg[2]) {
        snprintf(errstr, errstr_size, "unexpected argument '%s'", arg);
        return -1;
    }
    const char *eq = strchr(arg, '=');
    if (eq) {
        *key = xasprintf("%.*s", (int)(eq - arg - 2), arg + 2);
        *value = eq + 1;
        return 0;
    }
    *key = xstrdup(arg + 2);
    long opt = find_option(cfg, *key);
    if (opt >= 0 && cfg->options[opt].type == CONFIG_BOOL &&
        (*i + 1 >= argc || parse_bool(argv[*i + 1]) < 0)) {
        *value = "true";
        return 0;
    }
    if (*i + 1 >= argc) {
        snprintf(errstr, errstr_size, "option --%s needs a value", *key);
        free(*key);
        *key = NULL;
        return -1;
    }
    *value = argv[++*i];
    return 0;
}

static enum builtin builtin_of(const char *arg)
{
    if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0)
        return BUILTIN_HELP;
    if (strcmp(arg, "--version") == 0)
        return BUILTIN_VERSION;
    if (strcmp(arg, "--dump-config") == 0)
        return BUILTIN_DUMP;
    return BUILTIN_NONE;
}

/* Applies flags (PASS 0: only --config, loading the file; PASS 1: all other keys). */
static int apply_flags(struct config *cfg, int argc, char **argv, int pass, enum builtin *bi,
                       char *errstr, size_t errstr_size)
{
    char err[512];
    for (int i = 1; i < argc; i++) {
        enum builtin b = builtin_of(argv[i]);
        if (b != BUILTIN_NONE) {
            if (*bi == BUILTIN_NONE || b == BUILTIN_HELP)
                *bi = b;
            continue;
        }
        char *key = NULL;
        const char *value;
        if (next_flag(cfg, argc, argv, &i, &key, &value, errstr, errstr_size) < 0)
            return -1;
        int rc = 0;
        if (strcmp(key, "config") == 0)
            rc = pass == 0 ? load_file(cfg, value, errstr, errstr_size) : 0;
        else if (pass == 1 && config_set(cfg, key, value, err, sizeof err) < 0) {
            snprintf(errstr, errstr_size, "%s", err);
            rc = -1;
        }
        free(key);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int check_required(const struct config *cfg, char *errstr, size_t errstr_size)
{
    char env[256];
    for (size_t i = 0; i < cfg->n_options; i++) {
        if (cfg->options[i].required && !cfg->values[i]) {
            env_name(cfg->options[i].name, env, sizeof env);
            snprintf(errstr, errstr_size,
                     "missing required option --%s (or %s, or %s= in --config)",
                     cfg->options[i].name, env, cfg->options[i].name);
            return -1;
        }
    }
    return 0;
}

enum config_result config_parse(struct config *cfg, int argc, char **argv, FILE *out, char *errstr,
                                size_t errstr_size)
{
    char err[768];
    enum builtin bi = BUILTIN_NONE;
    for (size_t i = 0; i < cfg->n_options; i++)
        if (cfg->options[i].default_value && !cfg->values[i])
            cfg->values[i] = xstrdup(cfg->options[i].default_value);
    int rc = apply_flags(cfg, argc, argv, 0, &bi, err, sizeof err);
    if (rc == 0 && bi == BUILTIN_HELP) {
        config_print_help(cfg, out);
        return CONFIG_EXIT;
    }
    if (rc == 0 && bi == BUILTIN_VERSION) {
        fprintf(out, "%s %s\n", cfg->program, SALESCDC_VERSION);
        return CONFIG_EXIT;
    }
    if (rc == 0)
        rc = load_env(cfg, err, sizeof err);
    if (rc == 0)
        rc = apply_flags(cfg, argc, argv, 1, &bi, err, sizeof err);
    if (rc == 0 && bi == BUILTIN_DUMP) {
        config_dump(cfg, out);
        return CONFIG_EXIT;
    }
    if (rc == 0)
        rc = check_required(cfg, err, sizeof err);
    if (rc < 0) {
        snprintf(errstr, errstr_size, "%s: %s. Try --help", cfg->program, err);
        return CONFIG_ERROR;
    }
    return CONFIG_OK;
}

static size_t must_find(const struct config *cfg, const char *key)
{
    long i = find_option(cfg, key);
    if (i < 0) {
        fprintf(stderr, "fatal: %s asked for undeclared config key '%s'\n", cfg->program, key);
        abort();
    }
    return (size_t)i;
}

const char *config_get(const struct config *cfg, const char *key)
{
    return cfg->values[must_find(cfg, key)];
}

long long config_get_int(const struct config *cfg, const char *key)
{
    const char *v = config_get(cfg, key);
    return v ? strtoll(v, NULL, 10) : 0;
}

int config_get_bool(const struct config *cfg, const char *key)
{
    const char *v = config_get(cfg, key);
    return v ? parse_bool(v) == 1 : 0;
}

int config_each_passthrough(const struct config *cfg,
                            int (*fn)(const char *key, const char *value, void *arg), void *arg)
{
    for (size_t i = 0; i < cfg->n_extra; i++) {
        int rc = fn(cfg->extra[i].key, cfg->extra[i].value, arg);
        if (rc)
            return rc;
    }
    return 0;
}

static const char *type_name(const struct config_option *opt)
{
    switch (opt->type) {
    case CONFIG_INT: return "INT";
    case CONFIG_BOOL: return "BOOL";
    default: return "STR";
    }
}

void config_print_help(const struct config *cfg, FILE *out)
{
    char env[256];
    fprintf(out, "Usage: %s [--config FILE] [--KEY VALUE | --KEY=VALUE]...\n\n%s\n\nOptions:\n",
            cfg->program, cfg->summary);
    for (size_t i = 0; i < cfg->n_options; i++) {
        const struct config_option *o = &cfg->options[i];
        env_name(o->name, env, sizeof env);
        fprintf(out, "  --%s %s\n      %s\n      env %s", o->name, type_name(o), o->help, env);
        if (o->type == CONFIG_INT)
            fprintf(out, "; range %lld..%lld", o->min, o->max);
        if (o->required)
            fprintf(out, "; required");
        else if (o->default_value)
            fprintf(out, "; default %s",
                    o->type == CONFIG_SECRET ? "(set)"
                    : *o->default_value      ? o->default_value
                                             : "''");
        fputc('\n', out);
    }
    if (cfg->passthrough) {
        char prefix[128];
        passthrough_env_prefix(cfg, prefix, sizeof prefix);
        fprintf(out,
                "  --%sPROPERTY VALUE\n      passed through unchanged; env %sPROPERTY with dots "
                "as underscores (e.g. %sBOOTSTRAP_SERVERS)\n",
                cfg->passthrough, prefix, prefix);
    }
    fprintf(
        out,
        "  --config FILE\n      properties file of key=value lines (flags and env override it)\n"
        "  --dump-config\n      print the configuration in effect (secrets hidden) and exit\n"
        "  --version\n      print the version and exit\n"
        "  -h, --help\n      print this help and exit\n\n"
        "Precedence: defaults < --config file < SALESCDC_* environment < flags.\n"
        "Exit codes: 0 ok, 1 runtime error, 2 usage or configuration error.\n");
}

void config_dump(const struct config *cfg, FILE *out)
{
    for (size_t i = 0; i < cfg->n_options; i++) {
        const char *v = cfg->values[i];
        if (!v)
            fprintf(out, "# %s is not set\n", cfg->options[i].name);
        else
            fprintf(out, "%s=%s\n", cfg->options[i].name,
                    cfg->options[i].type == CONFIG_SECRET ? "******" : v);
    }
    for (size_t i = 0; i < cfg->n_extra; i++) {
        int secret = strstr(cfg->extra[i].key, "password") || strstr(cfg->extra[i].key, "secret");
        fprintf(out, "%s%s=%s\n", cfg->passthrough, cfg->extra[i].key,
                secret ? "******" : cfg->extra[i].value);
    }
}
