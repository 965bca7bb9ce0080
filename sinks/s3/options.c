/* The S3 sink's option table and its typed view. */
#include "options.h"

#include <regex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_INT 9223372036854775807LL

const char sink_summary[] =
    "Consumes flat topics (Confluent-framed Avro), writes their records to S3-compatible storage\n"
    "as partitioned objects (JSON Lines, gzip optional, or Avro files) under\n"
    "<s3.prefix>/<table>/<partitions>/<topic>+<partition>+<first offset>.<ext>, commits Kafka\n"
    "offsets only after the objects are stored, and registers tables, columns, partitions and\n"
    "a current-state view in Trino's Hive catalog. A buffer is cut at flush.records,\n"
    "flush.bytes or rotate.interval.ms of record time, and after flush.idle.ms without records;\n"
    "all buffers of a Kafka partition are cut together, so a restart rewrites the same keys and\n"
    "never duplicates a record. S3 credentials also come from AWS_ACCESS_KEY_ID,\n"
    "AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN, AWS_REGION and AWS_ENDPOINT_URL_S3.";

const struct config_option sink_option_table[] = {
    {"topics.regex", CONFIG_STRING, "^sales\\.[^.]+\\.[^.]+\\.flat$", 0, 0, 0,
     "topics to consume: a regex starting with ^ (new matching topics are picked up) or one "
     "topic name"},
    {"group.id", CONFIG_STRING, "salescdc-s3-sink", 0, 0, 0, "Kafka consumer group"},
    {"registry.url", CONFIG_STRING, "http://127.0.0.1:58081", 0, 0, 0,
     "Confluent-compatible schema registry holding the records' writer schemas"},
    {"registry.user", CONFIG_STRING, "", 0, 0, 0, "registry basic-auth user (empty: none)"},
    {"registry.password", CONFIG_SECRET, "", 0, 0, 0, "registry basic-auth password"},
    {"s3.endpoint", CONFIG_STRING, "", 0, 0, 0,
     "S3 endpoint URL (empty: AWS_ENDPOINT_URL_S3, AWS_ENDPOINT_URL, else AWS for the region)"},
    {"s3.region", CONFIG_STRING, "", 0, 0, 0,
     "signing region (empty: AWS_REGION, AWS_DEFAULT_REGION, else us-east-1)"},
    {"s3.bucket", CONFIG_STRING, "", 0, 0, 0, "bucket the objects go to (required)"},
    {"s3.access.key", CONFIG_STRING, "", 0, 0, 0, "access key id (empty: AWS_ACCESS_KEY_ID)"},
    {"s3.secret.key", CONFIG_SECRET, "", 0, 0, 0,
     "secret access key (empty: AWS_SECRET_ACCESS_KEY)"},
    {"s3.session.token", CONFIG_SECRET, "", 0, 0, 0,
     "session token of temporary credentials (empty: AWS_SESSION_TOKEN)"},
    {"s3.path.style", CONFIG_BOOL, "true", 0, 0, 0,
     "path-style URLs (endpoint/bucket/key, MinIO's default); false: virtual host "
     "(bucket.endpoint/key)"},
    {"s3.prefix", CONFIG_STRING, "", 0, 0, 0, "key prefix before <table>/ (e.g. cdc/raw)"},
    {"s3.multipart.threshold", CONFIG_INT, "16777216", 0, MAX_INT, 0,
     "objects larger than this many bytes go up as multipart uploads"},
    {"s3.multipart.part.size", CONFIG_INT, "8388608", 5242880, 5368709120LL, 0,
     "bytes per multipart part (S3 wants at least 5 MiB)"},
    {"s3.request.timeout.ms", CONFIG_INT, "120000", 1000, 3600000, 0,
     "one S3 request, body included"},
    {"s3.max.attempts", CONFIG_INT, "5", 1, 100, 0,
     "tries of one S3 request before the sink's own retry loop takes over"},
    {"format", CONFIG_STRING, "json", 0, 0, 0,
     "object format: json (JSON Lines, as Firehose) or avro (object container files)"},
    {"json.gzip", CONFIG_BOOL, "true", 0, 0, 0, "gzip JSON Lines objects (extension .json.gz)"},
    {"avro.codec", CONFIG_STRING, "deflate", 0, 0, 0, "Avro block codec: deflate, snappy or null"},
    {"compression.level", CONFIG_INT, "6", 1, 9, 0, "zlib level for gzip and deflate"},
    {"partition.by", CONFIG_STRING, "time", 0, 0, 0,
     "time (dt=YYYY-MM-DD/hour=HH, UTC, of partition.time.field), column (<column>=<value> "
     "of partition.column) or none"},
    {"partition.time.field", CONFIG_STRING, "__source_ts_ms", 0, 0, 0,
     "field giving a record's time, for time partitions and rotate.interval.ms: a timestamp, "
     "a date, or a long of milliseconds"},
    {"partition.column", CONFIG_STRING, "", 0, 0, 0,
     "column partitioned by with partition.by=column"},
    {"flush.records", CONFIG_INT, "100000", 1, MAX_INT, 0, "records per object at most"},
    {"flush.bytes", CONFIG_INT, "5242880", 1, MAX_INT, 0,
     "uncompressed bytes per object: a buffer reaching this is cut"},
    {"rotate.interval.ms", CONFIG_INT, "10000", 0, MAX_INT, 0,
     "record-time span of one object: a record this far from a buffer's first is cut off "
     "(0: off)"},
    {"flush.idle.ms", CONFIG_INT, "5000", 0, MAX_INT, 0,
     "wall-clock time without new records for a Kafka partition after which its buffers are "
     "stored (0: off; with buffer.max.bytes the only cuts that depend on timing, see README)"},
    {"buffer.max.bytes", CONFIG_INT, "268435456", 0, MAX_INT, 0,
     "memory all buffers together may hold (objects being built, compressor state); above it "
     "the Kafka partition holding the most is stored at once (0: no bound)"},
    {"upload.backoff.initial.ms", CONFIG_INT, "1000", 1, 3600000, 0,
     "first wait after a failed upload; doubled per failure up to upload.backoff.max.ms; "
     "uploads are retried until they succeed"},
    {"upload.backoff.max.ms", CONFIG_INT, "60000", 1, 3600000, 0, "longest wait between uploads"},
    {"shutdown.timeout.ms", CONFIG_INT, "60000", 0, 86400000, 0,
     "on SIGTERM/SIGINT, how long to keep trying to store and commit what is buffered"},
    {"trino.url", CONFIG_STRING, "", 0, 0, 0,
     "Trino coordinator for the catalog (e.g. http://127.0.0.1:8080); empty: no catalog"},
    {"trino.user", CONFIG_STRING, "salescdc", 0, 0, 0, "X-Trino-User of catalog statements"},
    {"trino.catalog", CONFIG_STRING, "hive", 0, 0, 0, "Hive catalog holding the tables"},
    {"trino.schema", CONFIG_STRING, "sales", 0, 0, 0, "schema of the tables and views"},
    {"trino.table.prefix", CONFIG_STRING, "", 0, 0, 0,
     "prefix of table and view names (<prefix><table>_changes, <prefix><table>)"},
    {"trino.changes.suffix", CONFIG_STRING, "_changes", 0, 0, 0,
     "suffix of the change table's name; the view takes the bare name"},
    {"trino.retry.ms", CONFIG_INT, "10000", 100, 3600000, 0,
     "wait before retrying catalog work that failed (Trino down); objects land regardless"},
    {"http.host", CONFIG_STRING, "127.0.0.1", 0, 0, 0, "address of /metrics and /healthz"},
    {"http.port", CONFIG_INT, "58086", -1, 65535, 0,
     "port of /metrics and /healthz (0: any free port, -1: no HTTP server)"},
    CLI_OPTION_LOG_LEVEL,
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static int fail(char *errstr, size_t errstr_size, const char *key, const char *what)
{
    snprintf(errstr, errstr_size, "option %s: %s", key, what);
    return -1;
}

static int load_choices(const struct config *cfg, struct sink_options *o, char *errstr,
                        size_t errstr_size)
{
    const char *codec = config_get(cfg, "avro.codec");
    if (sink_format_parse(config_get(cfg, "format"), &o->writer.format) < 0)
        return fail(errstr, errstr_size, "format", "must be json or avro");
    if (sink_avro_codec_parse(codec, &o->writer.avro_codec) < 0)
        return fail(errstr, errstr_size, "avro.codec", "must be deflate, snappy or null");
    if (sink_partition_mode_parse(config_get(cfg, "partition.by"), &o->partitioner.mode) < 0)
        return fail(errstr, errstr_size, "partition.by", "must be time, column or none");
    o->partitioner.time_field = config_get(cfg, "partition.time.field");
    o->partitioner.column = config_get(cfg, "partition.column");
    if (!*o->partitioner.time_field)
        return fail(errstr, errstr_size, "partition.time.field", "must not be empty");
    if (o->partitioner.mode == SINK_PARTITION_COLUMN && !*o->partitioner.column)
        return fail(errstr, errstr_size, "partition.column",
                    "must name a column with partition.by=column");
    o->writer.gzip = config_get_bool(cfg, "json.gzip");
    o->writer.compression_level = (int)config_get_int(cfg, "compression.level");
    o->writer.avro_block_bytes = 64 * 1024;
    const char *topics = config_get(cfg, "topics.regex");
    regex_t re;
    if (!*topics)
        return fail(errstr, errstr_size, "topics.regex", "must not be empty");
    if (topics[0] == '^' && regcomp(&re, topics, REG_EXTENDED | REG_NOSUB) != 0)
        return fail(errstr, errstr_size, "topics.regex", "not a valid extended regex");
    if (topics[0] == '^')
        regfree(&re);
    return 0;
}

static int load_s3(const struct config *cfg, struct sink_options *o, char *errstr,
                   size_t errstr_size)
{
    o->s3.endpoint = config_get(cfg, "s3.endpoint");
    o->s3.region = config_get(cfg, "s3.region");
    o->s3.bucket = config_get(cfg, "s3.bucket");
    o->s3.access_key = config_get(cfg, "s3.access.key");
    o->s3.secret_key = config_get(cfg, "s3.secret.key");
    o->s3.session_token = config_get(cfg, "s3.session.token");
    o->s3.virtual_host = !config_get_bool(cfg, "s3.path.style");
    o->s3.request_timeout_ms = (long)config_get_int(cfg, "s3.request.timeout.ms");
    o->s3.max_attempts = (int)config_get_int(cfg, "s3.max.attempts");
    s3_config_from_env(&o->s3, o->s3_endpoint_buf, sizeof o->s3_endpoint_buf);
    if (o->s3.session_token && !*o->s3.session_token)
        o->s3.session_token = NULL;
    o->s3_prefix = config_get(cfg, "s3.prefix");
    o->multipart_threshold = (size_t)config_get_int(cfg, "s3.multipart.threshold");
    o->part_size = (size_t)config_get_int(cfg, "s3.multipart.part.size");
    if (!*o->s3.bucket)
        return fail(errstr, errstr_size, "s3.bucket", "missing (or SALESCDC_S3_BUCKET)");
    if (!o->s3.access_key || !*o->s3.access_key)
        return fail(errstr, errstr_size, "s3.access.key",
                    "missing (or SALESCDC_S3_ACCESS_KEY, or AWS_ACCESS_KEY_ID)");
    if (!o->s3.secret_key || !*o->s3.secret_key)
        return fail(errstr, errstr_size, "s3.secret.key",
                    "missing (or SALESCDC_S3_SECRET_KEY, or AWS_SECRET_ACCESS_KEY)");
    return 0;
}

static void load_rules(const struct config *cfg, struct sink_options *o)
{
    o->rules.max_records = (uint64_t)config_get_int(cfg, "flush.records");
    o->rules.max_bytes = (uint64_t)config_get_int(cfg, "flush.bytes");
    o->rules.rotate_interval_ms = config_get_int(cfg, "rotate.interval.ms");
    o->rules.idle_ms = config_get_int(cfg, "flush.idle.ms");
    o->rules.one_schema_per_object = o->writer.format == SINK_FORMAT_AVRO;
    o->rules.max_held_bytes = (uint64_t)config_get_int(cfg, "buffer.max.bytes");
    o->upload_backoff_initial_ms = (long)config_get_int(cfg, "upload.backoff.initial.ms");
    o->upload_backoff_max_ms = (long)config_get_int(cfg, "upload.backoff.max.ms");
    o->shutdown_timeout_ms = (long)config_get_int(cfg, "shutdown.timeout.ms");
}

int sink_options_load(const struct config *cfg, struct sink_options *o, char *errstr,
                      size_t errstr_size)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg;
    if (load_choices(cfg, o, errstr, errstr_size) < 0 || load_s3(cfg, o, errstr, errstr_size) < 0)
        return -1;
    load_rules(cfg, o);
    o->topics_regex = config_get(cfg, "topics.regex");
    o->group_id = config_get(cfg, "group.id");
    o->registry_url = config_get(cfg, "registry.url");
    o->registry_user = config_get(cfg, "registry.user");
    o->registry_password = config_get(cfg, "registry.password");
    o->trino_url = config_get(cfg, "trino.url");
    o->trino_user = config_get(cfg, "trino.user");
    o->trino_catalog = config_get(cfg, "trino.catalog");
    o->trino_schema = config_get(cfg, "trino.schema");
    o->trino_table_prefix = config_get(cfg, "trino.table.prefix");
    o->trino_changes_suffix = config_get(cfg, "trino.changes.suffix");
    o->trino_retry_ms = (long)config_get_int(cfg, "trino.retry.ms");
    o->http_host = config_get(cfg, "http.host");
    o->http_port = (int)config_get_int(cfg, "http.port");
    if (!*o->group_id || !*o->registry_url)
        return fail(errstr, errstr_size, !*o->group_id ? "group.id" : "registry.url",
                    "must not be empty");
    if (!*o->trino_changes_suffix)
        return fail(errstr, errstr_size, "trino.changes.suffix",
                    "must not be empty (the view takes the bare name)");
    return 0;
}
