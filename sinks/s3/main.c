/* salescdc-s3-sink: writes flat records to S3 as partitioned objects, registered in Trino. */
#include <signal.h>
#include <stdio.h>

#include "cli.h"
#include "options.h"
#include "sink.h"

static volatile sig_atomic_t stop_requested, abort_requested;

/* The first signal stops consuming (buffers are stored, offsets committed); a second one also
 * stops waiting for S3. */
static void on_stop_signal(int sig)
{
    (void)sig;
    if (stop_requested)
        abort_requested = 1;
    stop_requested = 1;
}

int main(int argc, char **argv)
{
    struct config *cfg = config_new(SINK_PROGRAM, sink_summary, sink_option_table, "kafka.");
    int rc = cli_init(cfg, SINK_PROGRAM, argc, argv);
    if (rc == CLI_CONTINUE) {
        struct sink_options o;
        char err[512];
        if (sink_options_load(cfg, &o, err, sizeof err) < 0) {
            fprintf(stderr, "%s: %s. Try --help\n", SINK_PROGRAM, err);
            rc = 2;
        } else {
            cli_on_stop_signals(on_stop_signal);
            rc = sink_run(&o, &stop_requested, &abort_requested);
        }
    }
    config_destroy(cfg);
    return rc;
}
