/* salescdc-registry: A Confluent-compatible Avro schema registry. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_placeholder_main(
        "salescdc-registry", "A Confluent-compatible Avro schema registry.",
        "salescdc-registry: a Confluent-compatible schema registry on libmicrohttpd", "kafka.",
        argc, argv);
}
