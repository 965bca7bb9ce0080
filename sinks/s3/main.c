/* salescdc-s3-sink: Writes flat records to S3 as partitioned objects, registered in Trino. */
#include "cli.h"

int main(int argc, char **argv)
{
    return cli_placeholder_main(
        "salescdc-s3-sink",
        "Writes flat records to S3 as partitioned objects, registered in Trino.",
        "salescdc-s3-sink: partitioned objects in MinIO/S3, registered for Trino", "kafka.", argc,
        argv);
}
