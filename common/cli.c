/* Program start-up shared by every salescdc binary. */
#include "cli.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "xalloc.h"

int cli_init(struct config *cfg, const char *program, int argc, char **argv)
{
    char err[1024];
    enum log_level level;

    log_set_program(program);
    switch (config_parse(cfg, argc, argv, stdout, err, sizeof err)) {
    case CONFIG_EXIT: return 0;
    case CONFIG_ERROR: fprintf(stderr, "%s\n", err); return 2;
    case CONFIG_OK: break;
    }
    if (log_level_parse(config_get(cfg, "log.level"), &level) < 0) {
        fprintf(stderr,
                "%s: option log.level: '%s' is not one of debug, info, warn, error. "
                "Try --help\n",
                program, config_get(cfg, "log.level"));
        return 2;
    }
    log_set_level(level);
    return CLI_CONTINUE;
}

int cli_placeholder_main(const char *program, const char *summary, const char *issue,
                         const char *passthrough, int argc, char **argv)
{
    static const struct config_option options[] = {
        CLI_OPTION_LOG_LEVEL,
        {NULL, 0, NULL, 0, 0, 0, NULL},
    };
    char *text = xasprintf("%s\nStatus: not implemented yet (see the issue \"%s\"): it parses "
                           "its options and exits 1 without doing anything.",
                           summary, issue);
    struct config *cfg = config_new(program, text, options, passthrough);
    int rc = cli_init(cfg, program, argc, argv);
    if (rc == CLI_CONTINUE) {
        log_error("%s is not implemented yet; see the issue \"%s\"", program, issue);
        rc = 1;
    }
    config_destroy(cfg);
    free(text);
    return rc;
}

void cli_on_stop_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}
