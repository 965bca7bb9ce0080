/* librdkafka configuration: program defaults overridden by kafka.* passthrough keys. */
#include "kafka_conf.h"

#include <stdio.h>
#include <string.h>

#include "log.h"

static int looks_secret(const char *key)
{
    return strstr(key, "password") || strstr(key, "secret") || strstr(key, "key");
}

int kafka_conf_set(rd_kafka_conf_t *conf, const char *key, const char *value, char *errstr,
                   size_t errstr_size)
{
    char err[512];
    if (rd_kafka_conf_set(conf, key, value, err, sizeof err) == RD_KAFKA_CONF_OK)
        return 0;
    if (looks_secret(key))
        snprintf(errstr, errstr_size, "option kafka.%s: rejected by librdkafka (value hidden)",
                 key);
    else
        snprintf(errstr, errstr_size, "option kafka.%s: %s", key, err);
    return -1;
}

struct apply_ctx {
    rd_kafka_conf_t *conf;
    char *errstr;
    size_t errstr_size;
};

static int apply_one(const char *key, const char *value, void *arg)
{
    struct apply_ctx *ctx = arg;
    return kafka_conf_set(ctx->conf, key, value, ctx->errstr, ctx->errstr_size) ? -1 : 0;
}

rd_kafka_conf_t *kafka_conf_new(const struct config *cfg, const char *const *defaults, char *errstr,
                                size_t errstr_size)
{
    char err[768];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    int rc = 0;
    for (size_t i = 0; defaults && defaults[i] && rc == 0; i += 2)
        rc = kafka_conf_set(conf, defaults[i], defaults[i + 1], err, sizeof err);
    struct apply_ctx ctx = {conf, err, sizeof err};
    if (rc == 0)
        rc = config_each_passthrough(cfg, apply_one, &ctx);
    if (rc != 0) {
        snprintf(errstr, errstr_size, "%s. Try --help", err);
        rd_kafka_conf_destroy(conf);
        return NULL;
    }
    return conf;
}

static void on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    (void)rk;
    enum log_level l = level <= 3   ? LOG_LEVEL_ERROR
                       : level == 4 ? LOG_LEVEL_WARN
                       : level <= 6 ? LOG_LEVEL_INFO
                                    : LOG_LEVEL_DEBUG;
    if (log_enabled(l))
        log_write(l, "kafka %s: %s", fac, buf);
}

static void on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    (void)rk, (void)opaque;
    log_warn("kafka: %s (%s)", reason, rd_kafka_err2name((rd_kafka_resp_err_t)err));
}

void kafka_conf_route_logs(rd_kafka_conf_t *conf)
{
    rd_kafka_conf_set_log_cb(conf, on_log);
    rd_kafka_conf_set_error_cb(conf, on_error);
}
