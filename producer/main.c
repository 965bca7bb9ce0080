/* salescdc-producer: generates gadget orders into PostgreSQL (the AWS demo's generator). */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include "cli.h"
#include "options.h"
#include "producer.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* No SA_RESTART: a signal must cut the pacing sleep short. */
int main(int argc, char **argv)
{
    struct config *cfg =
        config_new(PRODUCER_PROGRAM, producer_summary, producer_option_table, NULL);
    int rc = cli_init(cfg, PRODUCER_PROGRAM, argc, argv);
    if (rc == CLI_CONTINUE) {
        struct producer_options o;
        char err[512];
        if (producer_options_load(cfg, isatty(STDERR_FILENO), &o, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s. Try --help\n", PRODUCER_PROGRAM, err);
            rc = 2;
        } else {
            cli_on_stop_signals(on_stop_signal);
            rc = producer_run(&o, &stop_requested);
        }
    }
    config_destroy(cfg);
    return rc;
}
