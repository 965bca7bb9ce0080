/* The transformer's option table and its typed view. */
#include "options.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "strbuf.h"
#include "xalloc.h"

const char transformer_summary[] =
    "Flattens CDC events into plain records (the AWS demo's Lambda). Consumes the connector's\n"
    "topics (Confluent-framed Avro envelopes {before, after, source, op, ts_ms}), writes each\n"
    "change's row image (after; before for deletes) as one flat record with its columns' types\n"
    "kept plus __op, __lsn, __txid, __source_ts_ms, __table, __deleted to <input>.flat (same\n"
    "key), registering the flat schema under <output>-value. Consume-transform-produce runs in\n"
    "Kafka transactions (exactly once for read_committed readers; --exactly-once false: at\n"
    "least once, without transactions). A record that cannot be\n"
    "flattened goes unchanged to <input>.dlq with headers salescdc.error, salescdc.error.class,\n"
    "salescdc.source.topic/.partition/.offset and salescdc.time; processing continues.\n"
    "GET /metrics and /healthz on http.host:http.port. SIGTERM/SIGINT: commit and exit 0.";

const struct config_option transformer_option_table[] = {
    {"topics", CONFIG_STRING, "", 0, 0, 0,
     "comma-separated input topics; when set, topics.regex is not used"},
    {"topics.regex", CONFIG_STRING, "^sales\\.[^.]+\\.[^.]+$", 0, 0, 0,
     "input topics by regular expression (must start with ^); the default matches "
     "<prefix>.<schema>.<table> but not the .flat and .dlq topics"},
    {"group.id", CONFIG_STRING, "salescdc-transformer", 0, 0, 0,
     "consumer group: instances with the same group split the partitions"},
    {"output.topic", CONFIG_STRING, "{topic}.flat", 0, 0, 0,
     "output topic of an input topic; {topic} stands for the input topic's name"},
    {"dlq.topic", CONFIG_STRING, "{topic}.dlq", 0, 0, 0,
     "dead-letter topic for records that cannot be flattened; {topic} as above"},
    {"format", CONFIG_STRING, "avro", 0, 0, 0,
     "avro (Confluent-framed, schema registered under <output>-value) or json (one plain "
     "object per record: decimals as strings with every scale digit, times ISO-8601 UTC)"},
    {"tombstones", CONFIG_STRING, "drop", 0, 0, 0,
     "drop: tombstones (null values after deletes) are not republished; pass: republished "
     "with the same key (for compacted output topics)"},
    {"columns.include", CONFIG_STRING, "", 0, 0, 0,
     "comma-separated columns to keep (empty: all); applies to every table"},
    {"columns.exclude", CONFIG_STRING, "", 0, 0, 0, "comma-separated columns to drop"},
    {"columns.rename", CONFIG_STRING, "", 0, 0, 0,
     "comma-separated old:new column renames (like ReplaceField's renames)"},
    {"registry.url", CONFIG_STRING, "http://127.0.0.1:58081", 0, 0, 0,
     "Confluent-compatible schema registry: writer schemas by id, flat schemas registered"},
    {"registry.user", CONFIG_STRING, "", 0, 0, 0, "registry basic-auth user (empty: none)"},
    {"registry.password", CONFIG_SECRET, "", 0, 0, 0, "registry basic-auth password"},
    {"registry.timeout.ms", CONFIG_INT, "10000", 100, 600000, 0, "per registry request"},
    {"transaction.id", CONFIG_STRING, "", 0, 0, 0,
     "transactional.id: unique per running instance and the same across its restarts (a "
     "restart then aborts what a crashed run left open); empty: salescdc-transformer-<host>"},
    {"exactly-once", CONFIG_BOOL, "true", 0, 0, 0,
     "true: consume-transform-produce in Kafka transactions (read_committed readers see each "
     "change once); false: at-least-once, without transactions: an idempotent producer, and "
     "the consumer offsets committed after everything before them was delivered (a crash or "
     "a failed delivery can write a record twice; transaction.id is not used)"},
    {"transaction.max.records", CONFIG_INT, "50000", 1, 1000000, 0,
     "input records per transaction at most; with transaction.max.ms, whichever comes first "
     "ends the transaction (each commit costs a few broker round trips, so larger "
     "transactions are faster)"},
    {"transaction.max.ms", CONFIG_INT, "100", 1, 600000, 0,
     "longest a transaction stays open before it is committed (latency for read_committed "
     "readers: about this much at low rates)"},
    {"topic.create", CONFIG_BOOL, "true", 0, 0, 0,
     "create missing output and dead-letter topics with the input topic's partition count"},
    {"topic.replication.factor", CONFIG_INT, "-1", -1, 32, 0,
     "replication factor of created topics (-1: the broker's default)"},
    {"http.host", CONFIG_STRING, "127.0.0.1", 0, 0, 0, "address of /metrics and /healthz"},
    {"http.port", CONFIG_INT, "58085", -1, 65535, 0,
     "port of /metrics and /healthz (0: any free port, -1: no HTTP server)"},
    {"retry.backoff.max.ms", CONFIG_INT, "10000", 100, 600000, 0,
     "longest wait between retries while the registry or Kafka is unavailable"},
    {"timeout.ms", CONFIG_INT, "30000", 1000, 600000, 0,
     "timeout of one Kafka request: init_transactions, metadata, topic creation, committed "
     "offsets"},
    CLI_OPTION_LOG_LEVEL,
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

char *transformer_topic_name(const char *pattern, const char *topic)
{
    struct strbuf sb = STRBUF_INIT;
    for (const char *p = pattern; *p;) {
        const char *hit = strstr(p, "{topic}");
        if (!hit) {
            strbuf_puts(&sb, p);
            break;
        }
        strbuf_append(&sb, p, (size_t)(hit - p));
        strbuf_puts(&sb, topic);
        p = hit + strlen("{topic}");
    }
    return strbuf_detach(&sb);
}

static int load_choices(const struct config *cfg, struct transformer_options *o, char *errstr,
                        size_t errstr_size)
{
    const char *format = config_get(cfg, "format"), *tomb = config_get(cfg, "tombstones");
    if (strcmp(format, "avro") == 0 || strcmp(format, "json") == 0) {
        o->format = format[0] == 'a' ? TRANSFORMER_FORMAT_AVRO : TRANSFORMER_FORMAT_JSON;
    } else {
        snprintf(errstr, errstr_size, "option format: '%s' is not one of avro, json", format);
        return -1;
    }
    if (strcmp(tomb, "drop") != 0 && strcmp(tomb, "pass") != 0) {
        snprintf(errstr, errstr_size, "option tombstones: '%s' is not one of drop, pass", tomb);
        return -1;
    }
    o->pass_tombstones = strcmp(tomb, "pass") == 0;
    return 0;
}

/* Output and dead-letter patterns must name a topic per input topic, and differ. */
static int check_topics(struct transformer_options *o, char *errstr, size_t errstr_size)
{
    if (!*o->topics && o->topics_regex[0] != '^') {
        snprintf(errstr, errstr_size, "option topics.regex: '%s' must start with ^",
                 o->topics_regex);
        return -1;
    }
    if (!strstr(o->output_topic, "{topic}") || !strstr(o->dlq_topic, "{topic}") ||
        strcmp(o->output_topic, o->dlq_topic) == 0 || strcmp(o->output_topic, "{topic}") == 0 ||
        strcmp(o->dlq_topic, "{topic}") == 0) {
        snprintf(errstr, errstr_size,
                 "options output.topic and dlq.topic: each must contain {topic}, differ from "
                 "{topic} itself and from each other (got '%s' and '%s')",
                 o->output_topic, o->dlq_topic);
        return -1;
    }
    if (!*o->group_id || !*o->registry_url) {
        snprintf(errstr, errstr_size, "option %s: must not be empty",
                 !*o->group_id ? "group.id" : "registry.url");
        return -1;
    }
    return 0;
}

static char *default_transactional_id(void)
{
    char host[256] = "localhost";
    gethostname(host, sizeof host - 1);
    host[sizeof host - 1] = '\0';
    return xasprintf("salescdc-transformer-%s", host);
}

int transformer_options_load(const struct config *cfg, struct transformer_options *o, char *errstr,
                             size_t errstr_size)
{
    memset(o, 0, sizeof *o);
    o->cfg = cfg;
    o->topics = config_get(cfg, "topics");
    o->topics_regex = config_get(cfg, "topics.regex");
    o->group_id = config_get(cfg, "group.id");
    o->output_topic = config_get(cfg, "output.topic");
    o->dlq_topic = config_get(cfg, "dlq.topic");
    o->registry_url = config_get(cfg, "registry.url");
    o->registry_user = config_get(cfg, "registry.user");
    o->registry_password = config_get(cfg, "registry.password");
    o->registry_timeout_ms = (int)config_get_int(cfg, "registry.timeout.ms");
    o->exactly_once = config_get_bool(cfg, "exactly-once");
    o->txn_max_records = (int)config_get_int(cfg, "transaction.max.records");
    o->txn_max_ms = (int)config_get_int(cfg, "transaction.max.ms");
    o->topic_create = config_get_bool(cfg, "topic.create");
    o->topic_replication_factor = (int)config_get_int(cfg, "topic.replication.factor");
    o->http_host = config_get(cfg, "http.host");
    o->http_port = (int)config_get_int(cfg, "http.port");
    o->retry_backoff_max_ms = (int)config_get_int(cfg, "retry.backoff.max.ms");
    o->timeout_ms = (int)config_get_int(cfg, "timeout.ms");
    if (load_choices(cfg, o, errstr, errstr_size) < 0 || check_topics(o, errstr, errstr_size) < 0)
        return -1;
    o->rules =
        columns_rules_new(config_get(cfg, "columns.include"), config_get(cfg, "columns.exclude"),
                          config_get(cfg, "columns.rename"), errstr, errstr_size);
    if (!o->rules)
        return -1;
    const char *txid = config_get(cfg, "transaction.id");
    o->transactional_id = *txid ? xstrdup(txid) : default_transactional_id();
    return 0;
}

void transformer_options_release(struct transformer_options *o)
{
    columns_rules_destroy(o->rules);
    o->rules = NULL;
    free(o->transactional_id);
    o->transactional_id = NULL;
}
