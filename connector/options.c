/* The connector's option table and its typed view. */
#include "options.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

const char connector_summary[] =
    "Streams PostgreSQL changes to Kafka as Avro: reads a logical replication slot with the\n"
    "built-in pgoutput plugin (creating the publication and slot if missing), first reads the\n"
    "existing rows in the slot's exported snapshot (op r), then encodes every INSERT/UPDATE/\n"
    "DELETE/TRUNCATE as a Debezium-compatible envelope (before, after, source, op, ts_ms) in the\n"
    "Confluent wire format with schemas from the registry, and produces it to\n"
    "<topic.prefix>.<schema>.<table> keyed by the primary key. Exactly-once (default): each batch\n"
    "of source transactions and its commit LSN (in the offsets topic) form one Kafka transaction,\n"
    "and a restart skips what is committed. The slot's confirmed flush LSN advances only past\n"
    "what Kafka committed. Lost connections are retried with backoff. GET /metrics and /healthz\n"
    "on http.host:http.port. SIGTERM/SIGINT: flush, commit, confirm, exit 0.";

const struct config_option connector_option_table[] = {
    {"name", CONFIG_STRING, "", 0, 0, 0,
     "connector name: its Kafka transactional.id (salescdc-connector-<name>) and its key in the "
     "offsets topic; empty: the slot name"},
    {"pg.conninfo", CONFIG_SECRET, "", 0, 0, 0,
     "libpq connection string or URI of the source database (replication=database is added)"},
    {"slot", CONFIG_STRING, "salescdc", 0, 0, 0,
     "logical replication slot (plugin pgoutput); created if missing, reused on restart"},
    {"publication", CONFIG_STRING, "salescdc", 0, 0, 0,
     "publication to stream; created if missing (missing tables are added to an existing one)"},
    {"tables", CONFIG_STRING, "public.orders,public.products,public.customers", 0, 0, 0,
     "comma-separated tables to capture (schema.table; a bare name means public)"},
    {"publication.all-tables", CONFIG_BOOL, "false", 0, 0, 0,
     "create the publication FOR ALL TABLES instead (needs a superuser)"},
    {"snapshot.mode", CONFIG_STRING, "initial", 0, 0, 0,
     "initial: read the existing rows (op r) when the slot is created, or again when a snapshot "
     "was cut short; never: changes only; always: at every start (the slot is recreated); "
     "initial_only: as initial, then exit 0 without streaming"},
    {"snapshot.fetch.rows", CONFIG_INT, "10000", 1, 10000000, 0,
     "rows fetched per round trip while reading a table for the snapshot (bounds memory)"},
    {"snapshot.transaction.max.records", CONFIG_INT, "0", 0, 2147483647, 0,
     "exactly-once: 0 writes the whole snapshot in one Kafka transaction (a snapshot cut short "
     "leaves nothing visible and is taken again; it must finish within "
     "snapshot.transaction.timeout.ms); N commits every N rows (a snapshot cut short and taken "
     "again repeats the rows committed before)"},
    {"snapshot.transaction.timeout.ms", CONFIG_INT, "900000", 1000, 2147483647, 0,
     "exactly-once: the producer's transaction.timeout.ms while it writes a snapshot (at most "
     "the brokers' transaction.max.timeout.ms, 15 min by default)"},
    {"topic.prefix", CONFIG_STRING, "sales", 0, 0, 0,
     "topic of a table: <prefix>.<schema>.<table>; also the source name and Avro namespace"},
    {"tombstones", CONFIG_BOOL, "true", 0, 0, 0,
     "after a DELETE's envelope, produce a tombstone (null value) for log compaction"},
    {"truncate.events", CONFIG_BOOL, "true", 0, 0, 0,
     "a TRUNCATE becomes an op t event without a key; false skips them (a log line says so): "
     "needed for topics with cleanup.policy=compact, which refuse records without a key"},
    {"numeric.special", CONFIG_STRING, "null", 0, 0, 0,
     "numeric NaN, Infinity and -Infinity have no Avro decimal form: null writes the field as "
     "null with a warning naming table, column and LSN (the row goes on; in a key column it "
     "still fails); fail stops the connector with an error naming the column"},
    {"registry.url", CONFIG_STRING, "http://127.0.0.1:58081", 0, 0, 0,
     "Confluent-compatible schema registry (subjects <topic>-key and <topic>-value)"},
    {"registry.user", CONFIG_STRING, "", 0, 0, 0, "registry basic-auth user (empty: none)"},
    {"registry.password", CONFIG_SECRET, "", 0, 0, 0, "registry basic-auth password"},
    {"exactly-once", CONFIG_BOOL, "true", 0, 0, 0,
     "Kafka transactions: a batch of whole source transactions and its commit LSN (offsets "
     "topic) are committed together, so read_committed consumers see every change once; false: "
     "idempotent producer, at-least-once across restarts"},
    {"offsets.topic", CONFIG_STRING, "_salescdc_connector_offsets", 0, 0, 0,
     "compacted topic (created if missing) holding each connector's last committed LSN and "
     "snapshot state, keyed by name"},
    {"transaction.max.records", CONFIG_INT, "50000", 1, 10000000, 0,
     "exactly-once: a Kafka transaction is committed after the source transaction that brings "
     "it to this many records"},
    {"transaction.max.ms", CONFIG_INT, "100", 1, 600000, 0,
     "exactly-once: longest a Kafka transaction stays open (latency for read_committed readers)"},
    {"transaction.commit.when.drained", CONFIG_BOOL, "true", 0, 0, 0,
     "exactly-once: commit the Kafka transaction as soon as the replication stream has nothing "
     "more to read (at a source-transaction boundary), so read_committed readers wait for no "
     "timer; false: keep it open up to transaction.max.ms/records (fewer, larger transactions: "
     "less CPU and broker work at moderate rates, up to transaction.max.ms more latency)"},
    {"transaction.commit.timeout.ms", CONFIG_INT, "30000", 1000, 600000, 0,
     "exactly-once: how long a commit may take before its outcome counts as unknown (then the "
     "producer is re-initialised and the offsets topic says where to resume)"},
    {"streaming", CONFIG_BOOL, "true", 0, 0, 0,
     "ask pgoutput (proto_version 2, PostgreSQL >= 14) to stream large transactions while they "
     "run (above the server's logical_decoding_work_mem); they are spooled to a file and "
     "published when they commit, so memory stays bounded on both sides; false: proto_version "
     "1, the server holds each transaction until its commit"},
    {"spool.dir", CONFIG_STRING, "", 0, 0, 0,
     "directory of the spool files of streamed transactions (unlinked at once, so nothing stays "
     "behind; needs room for the largest open transaction); empty: $TMPDIR or /tmp"},
    {"status.interval.ms", CONFIG_INT, "10000", 100, 3600000, 0,
     "standby status update period; keep it well below the server's wal_sender_timeout"},
    {"heartbeat.interval.ms", CONFIG_INT, "10000", 0, 3600000, 0,
     "when idle, how often to ask the server for its WAL position and confirm it, so the slot "
     "holds no WAL for changes elsewhere (0: off)"},
    {"heartbeat.action.query", CONFIG_STRING, "", 0, 0, 0,
     "SQL run on the source database at every heartbeat (e.g. an UPDATE of a heartbeat table "
     "in the publication, for databases that are idle while others write)"},
    {"flush.timeout.ms", CONFIG_INT, "30000", 0, 3600000, 0,
     "on stop, how long to wait for Kafka to acknowledge what was produced"},
    {"http.host", CONFIG_STRING, "127.0.0.1", 0, 0, 0, "address of /metrics and /healthz"},
    {"http.port", CONFIG_INT, "58083", 0, 65535, 0, "port of /metrics and /healthz (0: off)"},
    {"retry.backoff.ms", CONFIG_INT, "500", 10, 600000, 0,
     "first wait before reconnecting after a lost PostgreSQL, Kafka or registry connection"},
    {"retry.backoff.max.ms", CONFIG_INT, "30000", 10, 3600000, 0,
     "longest wait between reconnection attempts (the wait doubles up to this)"},
    {"retry.max.ms", CONFIG_INT, "0", 0, 2147483647, 0,
     "give up (exit 1) after failing this long without progress (0: retry forever)"},
    CLI_OPTION_LOG_LEVEL,
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

static const char *const snapshot_modes[] = {"initial", "never", "always", "initial_only"};

const char *connector_snapshot_mode_name(enum connector_snapshot_mode mode)
{
    return snapshot_modes[mode];
}

static int parse_snapshot_mode(const char *text, enum connector_snapshot_mode *mode)
{
    for (size_t i = 0; i < sizeof snapshot_modes / sizeof *snapshot_modes; i++) {
        if (strcmp(text, snapshot_modes[i]) == 0) {
            *mode = (enum connector_snapshot_mode)i;
            return 0;
        }
    }
    return -1;
}

static void load_ints(const struct config *cfg, struct connector_options *o)
{
    o->status_interval_ms = (int)config_get_int(cfg, "status.interval.ms");
    o->flush_timeout_ms = (int)config_get_int(cfg, "flush.timeout.ms");
    o->snapshot_fetch_rows = (int)config_get_int(cfg, "snapshot.fetch.rows");
    o->snapshot_txn_max_records = (int)config_get_int(cfg, "snapshot.transaction.max.records");
    o->snapshot_txn_timeout_ms = (int)config_get_int(cfg, "snapshot.transaction.timeout.ms");
    o->txn_max_records = (int)config_get_int(cfg, "transaction.max.records");
    o->txn_max_ms = (int)config_get_int(cfg, "transaction.max.ms");
    o->txn_timeout_ms = (int)config_get_int(cfg, "transaction.commit.timeout.ms");
    o->heartbeat_interval_ms = (int)config_get_int(cfg, "heartbeat.interval.ms");
    o->http_port = (int)config_get_int(cfg, "http.port");
    o->retry_backoff_ms = (int)config_get_int(cfg, "retry.backoff.ms");
    o->retry_backoff_max_ms = (int)config_get_int(cfg, "retry.backoff.max.ms");
    o->retry_max_ms = (int)config_get_int(cfg, "retry.max.ms");
}

static void load(const struct config *cfg, struct connector_options *o)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg;
    o->conninfo = config_get(cfg, "pg.conninfo");
    o->slot = config_get(cfg, "slot");
    o->name = *config_get(cfg, "name") ? config_get(cfg, "name") : o->slot;
    o->publication = config_get(cfg, "publication");
    o->tables = config_get(cfg, "tables");
    o->all_tables = config_get_bool(cfg, "publication.all-tables");
    o->topic_prefix = config_get(cfg, "topic.prefix");
    o->tombstones = config_get_bool(cfg, "tombstones");
    o->truncate_events = config_get_bool(cfg, "truncate.events");
    o->registry_url = config_get(cfg, "registry.url");
    o->registry_user = config_get(cfg, "registry.user");
    o->registry_password = config_get(cfg, "registry.password");
    o->exactly_once = config_get_bool(cfg, "exactly-once");
    o->offsets_topic = config_get(cfg, "offsets.topic");
    o->heartbeat_query = config_get(cfg, "heartbeat.action.query");
    o->streaming = config_get_bool(cfg, "streaming");
    o->txn_commit_drained = config_get_bool(cfg, "transaction.commit.when.drained");
    o->spool_dir = config_get(cfg, "spool.dir");
    o->http_host = config_get(cfg, "http.host");
    load_ints(cfg, o);
}

int connector_options_load(const struct config *cfg, struct connector_options *o, char *errstr,
                           size_t errstr_size)
{
    load(cfg, o);
    if (!*o->slot || strspn(o->slot, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(o->slot)) {
        snprintf(errstr, errstr_size,
                 "option slot: '%s' is not a slot name (lower-case letters, digits, _)", o->slot);
        return -1;
    }
    const char *empty = !*o->publication     ? "publication"
                        : !*o->topic_prefix  ? "topic.prefix"
                        : !*o->registry_url  ? "registry.url"
                        : !*o->offsets_topic ? "offsets.topic"
                                             : NULL;
    if (empty) {
        snprintf(errstr, errstr_size, "option %s: must not be empty", empty);
        return -1;
    }
    if (!o->all_tables && !*o->tables) {
        snprintf(errstr, errstr_size, "option tables: must name at least one table");
        return -1;
    }
    if (parse_snapshot_mode(config_get(cfg, "snapshot.mode"), &o->snapshot_mode) < 0) {
        snprintf(errstr, errstr_size,
                 "option snapshot.mode: '%s' is not one of initial, never, always, initial_only",
                 config_get(cfg, "snapshot.mode"));
        return -1;
    }
    const char *special = config_get(cfg, "numeric.special");
    if (strcmp(special, "null") != 0 && strcmp(special, "fail") != 0) {
        snprintf(errstr, errstr_size, "option numeric.special: '%s' is not one of null, fail",
                 special);
        return -1;
    }
    o->numeric_special_null = strcmp(special, "null") == 0;
    if (o->retry_backoff_max_ms < o->retry_backoff_ms)
        o->retry_backoff_max_ms = o->retry_backoff_ms;
    return 0;
}
