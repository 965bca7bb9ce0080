/* Program start-up shared by every salescdc binary: config parsing, --help, log level. */
#ifndef SALESCDC_CLI_H
#define SALESCDC_CLI_H

#include "config.h"

/* The log.level option every program declares in its table. */
#define CLI_OPTION_LOG_LEVEL                                                                       \
    {                                                                                              \
        "log.level", CONFIG_STRING, "info", 0, 0, 0, "log level: debug, info, warn or error"       \
    }

/* Returned by cli_init() when the program should go on running. */
#define CLI_CONTINUE (-1)

/* Parses ARGV into CFG (borrowed), serves --help/--version/--dump-config on stdout, prints
 * configuration errors on stderr, and applies log.level. Returns CLI_CONTINUE, or the exit code
 * main() should return (0 after --help, 2 on a usage or configuration error). */
int cli_init(struct config *cfg, const char *program, int argc, char **argv);

/* Installs HANDLER for SIGTERM and SIGINT (sigaction, no flags). HANDLER should only set a
 * sig_atomic_t flag that the program's loop checks. */
void cli_on_stop_signals(void (*handler)(int));

#endif
