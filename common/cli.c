/* Program start-up shared by every salescdc binary. */
#include "cli.h"

#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "log.h"

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

void cli_on_stop_signals(void (*handler)(int))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = handler;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
}
