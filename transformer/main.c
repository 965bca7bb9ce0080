/* salescdc-transformer: Flattens CDC events into plain records (the AWS demo's Lambda). */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_placeholder_main(
        "salescdc-transformer", "Flattens CDC events into plain records (the AWS demo's Lambda).",
        "salescdc-transformer: flatten CDC events and republish them (the Lambda's job)", "kafka.",
        argc, argv);
}
