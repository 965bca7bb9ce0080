/* salescdc-connector: streams PostgreSQL changes (pgoutput logical decoding) to Kafka as Avro. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "connector.h"
#include "options.h"

static volatile sig_atomic_t stop_requested;

static void on_stop_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void install_signal_handlers(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
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
            install_signal_handlers();
            rc = connector_run(&o, &stop_requested);
        }
    }
    config_destroy(cfg);
    return rc;
}
