/* salescdc-connector: streams PostgreSQL changes (pgoutput logical decoding) to Kafka as Avro. */
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "connector.h"
#include "options.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int main(int argc, char **argv)
{
    struct config *cfg =
        config_new(CONNECTOR_PROGRAM, connector_summary, connector_option_table, "kafka.");
    int rc = cli_init(cfg, CONNECTOR_PROGRAM, argc, argv);
    if (rc == CLI_CONTINUE) {
        struct connector_options o;
        char err[512];
        if (connector_options_load(cfg, &o, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s. Try --help\n", CONNECTOR_PROGRAM, err);
            rc = 2;
        } else {
            cli_on_stop_signals(on_stop_signal);
            rc = connector_run(&o, &stop_requested);
        }
    }
    config_destroy(cfg);
    return rc;
}
