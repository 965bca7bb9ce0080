/* salescdc-registry's run: Kafka log, replay, HTTP server, signals, shutdown. */
#include "server.h"

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "api.h"
#include "avsc_compat.h"
#include "cli.h"
#include "httpd.h"
#include "kafka_conf.h"
#include "kafka_log.h"
#include "log.h"
#include "registry.h"

const struct config_option registry_server_options[] = {
    CLI_OPTION_LOG_LEVEL,
    {"listen.host", CONFIG_STRING, "127.0.0.1", 0, 0, 0,
     "address the HTTP API listens on (an IP address; 0.0.0.0 for every interface)"},
    {"listen.port", CONFIG_INT, "8081", 0, 65535, 0, "HTTP port (0: any free port)"},
    {"auth.user", CONFIG_STRING, "", 0, 0, 0,
     "HTTP basic auth user; empty: no authentication (/healthz is always open)"},
    {"auth.password", CONFIG_SECRET, "", 0, 0, 0, "HTTP basic auth password"},
    {"store.topic", CONFIG_STRING, "_schemas", 0, 0, 0,
     "Kafka topic holding the schemas (compacted, 1 partition; created if missing)"},
    {"store.replication.factor", CONFIG_INT, "3", 1, 32, 0,
     "replication factor of a newly created topic (capped by the number of brokers)"},
    {"store.init.timeout.ms", CONFIG_INT, "60000", 1000, 3600000, 0,
     "how long start-up waits for Kafka and the replay of the topic before giving up"},
    {"store.write.timeout.ms", CONFIG_INT, "30000", 1000, 600000, 0,
     "how long a change waits for Kafka to acknowledge it before answering 500"},
    {"compatibility.level", CONFIG_STRING, "BACKWARD", 0, 0, 0,
     "global compatibility until PUT /config changes it: NONE, BACKWARD, FORWARD, FULL, or "
     "one of those with _TRANSITIVE"},
    {"http.max.body.bytes", CONFIG_INT, "8388608", 1024, 1073741824, 0,
     "largest request body accepted (larger: 413)"},
    {NULL, 0, NULL, 0, 0, 0, NULL},
};

/* SIGTERM and SIGINT are blocked in every thread and taken synchronously by the main thread. */
static sigset_t stop_signals;
static int stopping; /* a stop signal was taken */

/* Takes a pending stop signal, waiting up to WAIT_MS for one. Returns non-zero once stopping. */
static int wait_stop(int wait_ms)
{
    struct timespec t = {wait_ms / 1000, (long)(wait_ms % 1000) * 1000000L};
    if (!stopping && sigtimedwait(&stop_signals, NULL, &t) > 0) {
        stopping = 1;
        log_info("stop signal received during start-up");
    }
    return stopping;
}

static int stop_requested(void *arg)
{
    (void)arg;
    return wait_stop(0);
}

static int ready_probe(void *arg)
{
    return registry_is_ready(arg);
}

static void metrics_probe(void *arg, struct strbuf *out)
{
    registry_metrics(arg, out);
}

/* Retries creating/checking the topic until it works, the deadline passes or a signal comes. */
static int ensure_topic(struct kafka_log *kl, int timeout_ms, char *errstr, size_t errstr_size)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        if (kafka_log_ensure_topic(kl, 2000, errstr, errstr_size) == 0)
            return 0;
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        long long spent = (now.tv_sec - t0.tv_sec) * 1000LL + (now.tv_nsec - t0.tv_nsec) / 1000000;
        if (spent >= timeout_ms) {
            size_t n = strlen(errstr);
            snprintf(errstr + n, errstr_size - n,
                     " (gave up after %d ms: is Kafka up at kafka.bootstrap.servers?)", timeout_ms);
            return -1;
        }
        log_warn("%s; retrying", errstr);
        if (wait_stop(1000))
            return -1;
    }
}

static struct httpd *start_http(const struct config *cfg, struct registry *r, char *errstr,
                                size_t errstr_size)
{
    struct httpd_options opt = {
        .host = config_get(cfg, "listen.host"),
        .port = (int)config_get_int(cfg, "listen.port"),
        .auth_user = config_get(cfg, "auth.user"),
        .auth_password = config_get(cfg, "auth.password"),
        .auth_realm = "salescdc-registry",
        .max_body = (size_t)config_get_int(cfg, "http.max.body.bytes"),
        .max_connections = 256,
        .handler = api_handle,
        .handler_arg = r,
        .ready = ready_probe,
        .metrics = metrics_probe,
        .probe_arg = r,
    };
    struct httpd *h = httpd_start(&opt, errstr, errstr_size);
    if (h)
        log_info("listening on http://%s:%d%s", opt.host, httpd_port(h),
                 opt.auth_user && *opt.auth_user ? " (basic auth)" : "");
    return h;
}

/* Replays the log and serves until a stop signal. Returns the exit code. */
static int serve(const struct config *cfg, struct kafka_log *kl, struct registry *r)
{
    char err[1024];
    int init_ms = (int)config_get_int(cfg, "store.init.timeout.ms");
    struct httpd *h = start_http(cfg, r, err, sizeof err);
    if (!h) {
        log_error("%s", err);
        return 1;
    }
    int rc = 0;
    if (ensure_topic(kl, init_ms, err, sizeof err) < 0 ||
        registry_load(r, init_ms, stop_requested, NULL, err, sizeof err) < 0) {
        if (!stopping)
            log_error("%s", err);
        rc = stopping ? 0 : 1;
    } else {
        log_info("ready: serving schemas from topic %s", config_get(cfg, "store.topic"));
        int sig = 0;
        sigwait(&stop_signals, &sig);
        log_info("%s received: finishing requests under way, then exiting", strsignal(sig));
    }
    httpd_quiesce(h);
    httpd_stop(h);
    return rc;
}

int registry_server_run(const struct config *cfg)
{
    char err[1024];
    enum avsc_compat_level level;
    if (avsc_compat_level_parse(config_get(cfg, "compatibility.level"), &level) < 0) {
        fprintf(stderr,
                "salescdc-registry: option compatibility.level: '%s' is not one of NONE, BACKWARD, "
                "FORWARD, FULL (or those with _TRANSITIVE). Try --help\n",
                config_get(cfg, "compatibility.level"));
        return 2;
    }
    static const char *const defaults[] = {"bootstrap.servers", "127.0.0.1:9092", "client.id",
                                           "salescdc-registry", NULL};
    rd_kafka_conf_t *base = kafka_conf_new(cfg, defaults, err, sizeof err);
    if (!base) {
        fprintf(stderr, "salescdc-registry: %s\n", err);
        return 2;
    }
    sigemptyset(&stop_signals);
    sigaddset(&stop_signals, SIGTERM);
    sigaddset(&stop_signals, SIGINT);
    pthread_sigmask(SIG_BLOCK, &stop_signals, NULL); /* before any thread exists */
    signal(SIGPIPE, SIG_IGN);
    int write_ms = (int)config_get_int(cfg, "store.write.timeout.ms");
    struct kafka_log *kl = kafka_log_new(base, config_get(cfg, "store.topic"),
                                         (int)config_get_int(cfg, "store.replication.factor"),
                                         write_ms, err, sizeof err);
    rd_kafka_conf_destroy(base);
    if (!kl) {
        log_error("%s", err);
        return 1;
    }
    struct registry_log log = kafka_log_interface(kl);
    struct registry *r = registry_new(&log, level, write_ms);
    int rc = serve(cfg, kl, r);
    registry_destroy(r);
    kafka_log_destroy(kl);
    log_info("stopped");
    return rc;
}
