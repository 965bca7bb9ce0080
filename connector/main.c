/* salescdc-connector: Streams PostgreSQL changes (pgoutput logical decoding) to Kafka as Avro. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_placeholder_main(
        "salescdc-connector",
        "Streams PostgreSQL changes (pgoutput logical decoding) to Kafka as Avro.",
        "salescdc-connector: PostgreSQL logical decoding (pgoutput) → Avro → Kafka", "kafka.", argc,
        argv);
}
