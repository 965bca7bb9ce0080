/* The connector's option table and its typed view. */
#include "options.h"

#include <stdio.h>
#include <string.h>

#include "cli.h"

const char connector_summary[] =
    "Streams PostgreSQL changes to Kafka as Avro: reads a logical replication slot with the\n"
    "built-in pgoutput plugin (creating the publication and slot if missing), encodes every\n"
    "INSERT/UPDATE/DELETE/TRUNCATE as a Debezium-compatible envelope (before, after, source, op,\n"
    "ts_ms) in the Confluent wire format with schemas from the registry, and produces it to\n"
    "<topic.prefix>.<schema>.<table> keyed by the primary key. The slot's confirmed flush LSN\n"
    "advances only past transactions whose events Kafka acknowledged. SIGTERM/SIGINT: flush,\n"
    "confirm, exit 0.";

const struct config_option connector_option_table[] = {
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
    {"topic.prefix", CONFIG_STRING, "sales", 0, 0, 0,
     "topic of a table: <prefix>.<schema>.<table>; also the source name and Avro namespace"},
    {"tombstones", CONFIG_BOOL, "true", 0, 0, 0,
     "after a DELETE's envelope, produce a tombstone (null value) for log compaction"},
    {"registry.url", CONFIG_STRING, "http://127.0.0.1:58081", 0, 0, 0,
     "Confluent-compatible schema registry (subjects <topic>-key and <topic>-value)"},
    {"registry.user", CONFIG_STRING, "", 0, 0, 0, "registry basic-auth user (empty: none)"},
    {"registry.password", CONFIG_SECRET, "", 0, 0, 0, "registry basic-auth password"},
    {"status.interval.ms", CONFIG_INT, "10000", 100, 3600000, 0,
     "standby status update period; keep it well below the server's wal_sender_timeout"},
    {"flush.timeout.ms", CONFIG_INT, "30000", 0, 3600000, 0,
     "on stop, how long to wait for Kafka to acknowledge what was produced"},
    CLI_OPTION_LOG_LEVEL,
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

int connector_options_load(const struct config *cfg, struct connector_options *o, char *errstr,
                           size_t errstr_size)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg;
    o->conninfo = config_get(cfg, "pg.conninfo");
    o->slot = config_get(cfg, "slot");
    o->publication = config_get(cfg, "publication");
    o->tables = config_get(cfg, "tables");
    o->all_tables = config_get_bool(cfg, "publication.all-tables");
    o->topic_prefix = config_get(cfg, "topic.prefix");
    o->tombstones = config_get_bool(cfg, "tombstones");
    o->registry_url = config_get(cfg, "registry.url");
    o->registry_user = config_get(cfg, "registry.user");
    o->registry_password = config_get(cfg, "registry.password");
    o->status_interval_ms = (int)config_get_int(cfg, "status.interval.ms");
    o->flush_timeout_ms = (int)config_get_int(cfg, "flush.timeout.ms");
    if (!*o->slot || strspn(o->slot, "abcdefghijklmnopqrstuvwxyz0123456789_") != strlen(o->slot)) {
        snprintf(errstr, errstr_size,
                 "option slot: '%s' is not a slot name (lower-case letters, digits, _)", o->slot);
        return -1;
    }
    if (!*o->publication || !*o->topic_prefix || !*o->registry_url) {
        snprintf(errstr, errstr_size, "option %s: must not be empty",
                 !*o->publication    ? "publication"
                 : !*o->topic_prefix ? "topic.prefix"
                                     : "registry.url");
        return -1;
    }
    if (!o->all_tables && !*o->tables) {
        snprintf(errstr, errstr_size, "option tables: must name at least one table");
        return -1;
    }
    return 0;
}
