/* salescdc-bench-copy: the ceiling for bench/transformer_bench — a plain librdkafka
 * consume+produce copy of a topic (same key, value, headers and partition), optionally in Kafka
 * transactions with the consumer's offsets (the transformer's exactly-once pattern without the
 * Avro work). It stops after --count records and prints one summary line on stdout. */
#include <getopt.h>
#include <librdkafka/rdkafka.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

struct copy_options {
    const char *brokers, *input, *output, *group, *txid;
    long long count;
    int txn_max_records, txn_max_ms, timeout_s;
};

struct copy_state {
    rd_kafka_t *consumer, *producer;
    double assigned_at;     /* when the first assignment arrived */
    double half_at;         /* when half of --count was acknowledged (plain) or committed */
    long long half_records; /* records acknowledged or committed at that moment */
    long long consumed, delivered, failed_deliveries, count;
    int transactional;
    int in_txn, txn_records;
    double txn_started;
    unsigned long commits;
};

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *why)
{
    fprintf(stderr, "salescdc-bench-copy: %s: %s\n", what, why);
    exit(1);
}

static void check_error(rd_kafka_error_t *error, const char *what)
{
    if (!error)
        return;
    char why[512];
    snprintf(why, sizeof why, "%s", rd_kafka_error_string(error));
    rd_kafka_error_destroy(error);
    die(what, why);
}

static void set(rd_kafka_conf_t *conf, const char *key, const char *value)
{
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) != RD_KAFKA_CONF_OK)
        die(key, err);
}

static void on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    (void)rk;
    struct copy_state *s = opaque;
    if (!m->err) {
        s->delivered++;
        if (!s->transactional && s->half_at == 0 && s->delivered * 2 >= s->count) {
            s->half_at = now_s();
            s->half_records = s->delivered;
        }
    }
    if (m->err) {
        s->failed_deliveries++;
        fprintf(stderr, "salescdc-bench-copy: delivery to %s [%d] failed: %s\n",
                rd_kafka_topic_name(m->rkt), (int)m->partition, rd_kafka_err2str(m->err));
    }
}

static void on_rebalance(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
    struct copy_state *s = opaque;
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
        if (s->assigned_at == 0)
            s->assigned_at = now_s();
        rd_kafka_assign(rk, parts);
    } else {
        rd_kafka_assign(rk, NULL);
    }
}

static rd_kafka_t *new_client(rd_kafka_type_t type, rd_kafka_conf_t *conf)
{
    char err[512];
    rd_kafka_t *rk = rd_kafka_new(type, conf, err, sizeof err);
    if (!rk)
        die(type == RD_KAFKA_CONSUMER ? "create consumer" : "create producer", err);
    return rk;
}

/* Creates the output topic with the input's partition count unless it exists (as the
 * transformer creates its .flat topic). */
static void create_output(rd_kafka_t *rk, const struct copy_options *o)
{
    char err[512];
    rd_kafka_topic_t *in = rd_kafka_topic_new(rk, o->input, NULL);
    const struct rd_kafka_metadata *md = NULL;
    rd_kafka_resp_err_t e = rd_kafka_metadata(rk, 0, in, &md, 10000);
    rd_kafka_topic_destroy(in);
    if (e || md->topic_cnt != 1 || md->topics[0].err || md->topics[0].partition_cnt < 1)
        die(o->input, e ? rd_kafka_err2str(e) : "input topic not found");
    rd_kafka_NewTopic_t *nt =
        rd_kafka_NewTopic_new(o->output, md->topics[0].partition_cnt, -1, err, sizeof err);
    rd_kafka_metadata_destroy(md);
    if (!nt)
        die(o->output, err);
    rd_kafka_queue_t *q = rd_kafka_queue_new(rk);
    rd_kafka_CreateTopics(rk, &nt, 1, NULL, q);
    rd_kafka_event_t *ev = rd_kafka_queue_poll(q, 30000);
    const rd_kafka_CreateTopics_result_t *res = ev ? rd_kafka_event_CreateTopics_result(ev) : NULL;
    size_t n = 0;
    const rd_kafka_topic_result_t **r = res ? rd_kafka_CreateTopics_result_topics(res, &n) : NULL;
    if (!res || n != 1)
        die(o->output, "create topic: no answer");
    if (rd_kafka_topic_result_error(r[0]) &&
        rd_kafka_topic_result_error(r[0]) != RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS)
        die(o->output, rd_kafka_topic_result_error_string(r[0]));
    rd_kafka_event_destroy(ev);
    rd_kafka_queue_destroy(q);
    rd_kafka_NewTopic_destroy(nt);
}

/* The client settings of salescdc-transformer (pipeline.c): read_committed, no auto-commit,
 * linger.ms 5; idempotent, or transactional with --transaction.id; plus a short retry backoff. */
static void open_clients(struct copy_state *s, const struct copy_options *o)
{
    rd_kafka_conf_t *cc = rd_kafka_conf_new(), *pc = rd_kafka_conf_new();
    set(cc, "bootstrap.servers", o->brokers);
    set(cc, "group.id", o->group);
    set(cc, "auto.offset.reset", "earliest");
    set(cc, "enable.auto.commit", "false");
    set(cc, "isolation.level", "read_committed");
    rd_kafka_conf_set_rebalance_cb(cc, on_rebalance);
    rd_kafka_conf_set_opaque(cc, s);
    s->consumer = new_client(RD_KAFKA_CONSUMER, cc);
    rd_kafka_poll_set_consumer(s->consumer);

    set(pc, "bootstrap.servers", o->brokers);
    set(pc, "linger.ms", "5");
    /* librdkafka 2.0.2 retries a CONCURRENT_TRANSACTIONS answer (a transaction started while
     * the previous one's markers are still being written, common when nothing happens between
     * commit and the next produce) after retry.backoff.ms, 100 ms by default; Java clients wait
     * 20 ms. Without this the transactional copy ran at half the speed here. */
    set(pc, "retry.backoff.ms", "10");
    set(pc, o->txid ? "transactional.id" : "enable.idempotence", o->txid ? o->txid : "true");
    rd_kafka_conf_set_dr_msg_cb(pc, on_delivery);
    rd_kafka_conf_set_opaque(pc, s);
    s->producer = new_client(RD_KAFKA_PRODUCER, pc);
    create_output(s->producer, o);
    if (o->txid)
        check_error(rd_kafka_init_transactions(s->producer, 30000), "init_transactions");

    rd_kafka_topic_partition_list_t *topics = rd_kafka_topic_partition_list_new(1);
    rd_kafka_topic_partition_list_add(topics, o->input, RD_KAFKA_PARTITION_UA);
    rd_kafka_resp_err_t err = rd_kafka_subscribe(s->consumer, topics);
    rd_kafka_topic_partition_list_destroy(topics);
    if (err)
        die("subscribe", rd_kafka_err2str(err));
}

/* Commits the open transaction with the consumer's positions as its offsets. */
static void commit_txn(struct copy_state *s)
{
    if (!s->in_txn)
        return;
    rd_kafka_topic_partition_list_t *parts = NULL;
    rd_kafka_resp_err_t err = rd_kafka_assignment(s->consumer, &parts);
    if (err)
        die("read assignment", rd_kafka_err2str(err));
    err = rd_kafka_position(s->consumer, parts);
    if (err)
        die("read positions", rd_kafka_err2str(err));
    rd_kafka_consumer_group_metadata_t *md = rd_kafka_consumer_group_metadata(s->consumer);
    check_error(rd_kafka_send_offsets_to_transaction(s->producer, parts, md, 30000),
                "send offsets to transaction");
    rd_kafka_consumer_group_metadata_destroy(md);
    rd_kafka_topic_partition_list_destroy(parts);
    check_error(rd_kafka_commit_transaction(s->producer, 30000), "commit transaction");
    if (s->half_at == 0 && s->consumed * 2 >= s->count) {
        s->half_at = now_s();
        s->half_records = s->consumed;
    }
    s->in_txn = 0;
    s->txn_records = 0;
    s->commits++;
}

static void copy_one(struct copy_state *s, const struct copy_options *o,
                     const rd_kafka_message_t *m)
{
    if (o->txid && !s->in_txn) {
        check_error(rd_kafka_begin_transaction(s->producer), "begin transaction");
        s->in_txn = 1;
        s->txn_started = now_s();
    }
    rd_kafka_headers_t *headers = NULL, *copied = NULL;
    if (rd_kafka_message_headers(m, &headers) == RD_KAFKA_RESP_ERR_NO_ERROR)
        copied = rd_kafka_headers_copy(headers);
    for (;;) {
        rd_kafka_resp_err_t err = rd_kafka_producev(
            s->producer, RD_KAFKA_V_TOPIC(o->output), RD_KAFKA_V_PARTITION(m->partition),
            RD_KAFKA_V_KEY(m->key, m->key_len), RD_KAFKA_V_VALUE(m->payload, m->len),
            RD_KAFKA_V_HEADERS(copied), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_END);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
            break;
        if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL)
            die("produce", rd_kafka_err2str(err));
        rd_kafka_poll(s->producer, 100); /* deliveries make room */
    }
    s->consumed++;
    s->txn_records++;
}

/* Copies until --count records were consumed; returns the time (now_s()) when everything was
 * committed (transactional) or acknowledged and the offsets committed. */
static double run(struct copy_state *s, const struct copy_options *o)
{
    double deadline = now_s() + o->timeout_s;
    while (s->consumed < o->count) {
        if (stop_requested || now_s() > deadline)
            die("copy", stop_requested ? "interrupted" : "timed out before --count records");
        rd_kafka_message_t *m = rd_kafka_consumer_poll(s->consumer, 50);
        if (m && m->err && m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
            fprintf(stderr, "salescdc-bench-copy: consume: %s\n", rd_kafka_message_errstr(m));
        else if (m && !m->err)
            copy_one(s, o, m);
        if (m)
            rd_kafka_message_destroy(m);
        rd_kafka_poll(s->producer, 0);
        if (s->in_txn && (s->txn_records >= o->txn_max_records ||
                          (now_s() - s->txn_started) * 1000 >= o->txn_max_ms))
            commit_txn(s);
    }
    if (o->txid) {
        commit_txn(s);
    } else {
        if (rd_kafka_flush(s->producer, 60000) != RD_KAFKA_RESP_ERR_NO_ERROR)
            die("flush", "records still not delivered after 60 s");
        rd_kafka_resp_err_t err = rd_kafka_commit(s->consumer, NULL, 0);
        if (err)
            die("commit offsets", rd_kafka_err2str(err));
    }
    if (s->failed_deliveries)
        die("copy", "some deliveries failed");
    return now_s();
}

static void usage(int code)
{
    fprintf(code ? stderr : stdout,
            "Usage: salescdc-bench-copy --brokers HOSTS --input TOPIC --output TOPIC --group ID\n"
            "         --count N [--transaction.id ID] [--transaction.max.records N (10000)]\n"
            "         [--transaction.max.ms MS (100)] [--timeout.s S (600)]\n"
            "Copies N records of TOPIC (from the group's committed offsets, else the start) to\n"
            "the output topic, same key, value, headers and partition; with --transaction.id in\n"
            "transactions that also carry the consumer offsets. Prints on stdout:\n"
            "  copy mode=plain|transactional records=N seconds=S records_per_s=N/S\n"
            "       half_records=N2 half_s=S2 half_records_per_s=N2/S2 commits=C\n"
            "S runs from the first partition assignment until everything is acknowledged and the\n"
            "offsets committed (plain) or the last transaction committed; S2 from the moment half\n"
            "of the records were acknowledged (plain) or committed to the end, N2 counts the\n"
            "records made durable in that time (the rate without the start-up).\n");
    exit(code);
}

static void parse(int argc, char **argv, struct copy_options *o)
{
    static const struct option longs[] = {{"brokers", required_argument, 0, 'b'},
                                          {"input", required_argument, 0, 'i'},
                                          {"output", required_argument, 0, 'o'},
                                          {"group", required_argument, 0, 'g'},
                                          {"count", required_argument, 0, 'n'},
                                          {"transaction.id", required_argument, 0, 't'},
                                          {"transaction.max.records", required_argument, 0, 'r'},
                                          {"transaction.max.ms", required_argument, 0, 'm'},
                                          {"timeout.s", required_argument, 0, 'T'},
                                          {"help", no_argument, 0, 'h'},
                                          {0, 0, 0, 0}};
    *o = (struct copy_options){.txn_max_records = 10000, .txn_max_ms = 100, .timeout_s = 600};
    for (int c; (c = getopt_long(argc, argv, "h", longs, NULL)) != -1;) {
        switch (c) {
        case 'b': o->brokers = optarg; break;
        case 'i': o->input = optarg; break;
        case 'o': o->output = optarg; break;
        case 'g': o->group = optarg; break;
        case 'n': o->count = atoll(optarg); break;
        case 't': o->txid = optarg; break;
        case 'r': o->txn_max_records = atoi(optarg); break;
        case 'm': o->txn_max_ms = atoi(optarg); break;
        case 'T': o->timeout_s = atoi(optarg); break;
        case 'h': usage(0); break;
        default: usage(2);
        }
    }
    if (optind < argc || !o->brokers || !o->input || !o->output || !o->group || o->count <= 0 ||
        o->txn_max_records <= 0 || o->txn_max_ms <= 0 || o->timeout_s <= 0) {
        fprintf(stderr, "salescdc-bench-copy: --brokers, --input, --output, --group and a "
                        "positive --count are required. Try --help\n");
        exit(2);
    }
}

int main(int argc, char **argv)
{
    struct copy_options o;
    struct copy_state s = {0};
    parse(argc, argv, &o);
    signal(SIGINT, on_signal);
    signal(SIGTERM, on_signal);
    s.transactional = o.txid != NULL;
    s.count = o.count;
    open_clients(&s, &o);
    double done = run(&s, &o);
    /* The second half's rate leaves the start-up out (group join, metadata of the new output
     * topic, the first batches): records made durable after half of them were, over the time
     * that took. */
    double half_s = done - s.half_at, seconds = done - s.assigned_at;
    long long half_records = s.consumed - s.half_records;
    printf("copy mode=%s records=%lld seconds=%.3f records_per_s=%.0f half_records=%lld "
           "half_s=%.3f half_records_per_s=%.0f commits=%lu\n",
           o.txid ? "transactional" : "plain", s.consumed, seconds, (double)s.consumed / seconds,
           half_records, half_s, half_s > 0 ? (double)half_records / half_s : 0.0, s.commits);
    rd_kafka_consumer_close(s.consumer);
    rd_kafka_destroy(s.consumer);
    rd_kafka_destroy(s.producer);
    return 0;
}
