/* salescdc-registry's run: Kafka log, replay, HTTP server, signals, shutdown. */
#ifndef SALESCDC_REGISTRY_SERVER_H
#define SALESCDC_REGISTRY_SERVER_H

#include "config.h"

/* Options of salescdc-registry (the config table main() hands to cli_init()). */
extern const struct config_option registry_server_options[];

/* Runs the registry configured by CFG (borrowed) until SIGTERM or SIGINT. Returns main()'s exit
 * code: 0 after a clean stop, 1 on a runtime error (Kafka unreachable at start, port taken), 2 on
 * a configuration error. */
int registry_server_run(const struct config *cfg);

#endif
