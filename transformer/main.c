/* salescdc-transformer: flattens CDC events into plain records (the AWS demo's Lambda). */
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "options.h"
#include "transformer.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int main(int argc, char **argv)
{
    struct config *cfg =
        config_new(TRANSFORMER_PROGRAM, transformer_summary, transformer_option_table, "kafka.");
    int rc = cli_init(cfg, TRANSFORMER_PROGRAM, argc, argv);
    if (rc == CLI_CONTINUE) {
        struct transformer_options o;
        char err[512];
        if (transformer_options_load(cfg, &o, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s. Try --help\n", TRANSFORMER_PROGRAM, err);
            rc = 2;
        } else {
            cli_on_stop_signals(on_stop_signal);
            signal(SIGPIPE, SIG_IGN);
            rc = transformer_run(&o, &stop_requested);
        }
        transformer_options_release(&o);
    }
    config_destroy(cfg);
    return rc;
}
