/* salescdc-registry: a Confluent-compatible Avro schema registry. */
#include "cli.h"
#include "config.h"
#include "server.h"

static const char summary[] =
    "A Confluent-compatible Avro schema registry: Confluent's REST API (subjects, versions, "
    "schemas by id, compatibility, config) on 127.0.0.1, schemas kept durably in a compacted Kafka "
    "topic and replayed at start. Kafka settings pass through as --kafka.<property> (e.g. "
    "--kafka.bootstrap.servers, default 127.0.0.1:9092).";

int main(int argc, char **argv)
{
    struct config *cfg =
        config_new("salescdc-registry", summary, registry_server_options, "kafka.");
    int rc = cli_init(cfg, "salescdc-registry", argc, argv);
    if (rc == CLI_CONTINUE)
        rc = registry_server_run(cfg);
    config_destroy(cfg);
    return rc;
}
