/* salescdc-producer: Generates gadget orders into PostgreSQL (the AWS demo's generator). */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_placeholder_main(
        "salescdc-producer", "Generates gadget orders into PostgreSQL (the AWS demo's generator).",
        "salescdc-producer: the gadget-order generator writing to PostgreSQL", NULL, argc, argv);
}
