/* The upload retry loop. */
#include "uploader.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "http.h"
#include "log.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits MS in slices, calling the keepalive between them. Returns 0, or -1 to give up. */
static int wait_retry(struct sink_uploader *u, long ms, char *errstr, size_t errstr_size)
{
    while (ms > 0) {
        long slice = ms < SINK_UPLOAD_KEEPALIVE_MS ? ms : SINK_UPLOAD_KEEPALIVE_MS;
        if (http_sleep_ms(slice, u->abort) < 0)
            return -1;
        ms -= slice;
        if (u->deadline_ms && now_s() * 1000 >= u->deadline_ms)
            return -1;
        if (u->keepalive && u->keepalive(u->keepalive_arg) != 0) {
            size_t n = strlen(errstr);
            snprintf(errstr + n, errstr_size - n, " (given up: the partition was revoked)");
            return -1;
        }
    }
    return 0;
}

int sink_upload(struct sink_uploader *u, const char *key, const void *data, size_t len,
                const char *content_type, char *errstr, size_t errstr_size)
{
    static uint32_t jitter;
    double t0 = now_s();
    for (int attempt = 1;; attempt++) {
        struct s3_object_info info;
        int rc = s3_put_object_auto(u->s3, key, data, len, content_type, u->multipart_threshold,
                                    u->part_size, &info, errstr, errstr_size);
        if (rc == S3_OK) {
            sink_metrics_upload(u->metrics, now_s() - t0);
            log_debug("stored s3://%s/%s bytes=%zu etag=%s attempts=%d", s3_client_bucket(u->s3),
                      key, len, info.etag, attempt);
            return 0;
        }
        if (rc == S3_ERR_INVALID)
            return -1;
        if ((u->abort && *u->abort) || (u->deadline_ms && now_s() * 1000 >= u->deadline_ms))
            return -1;
        long wait = http_backoff_ms(attempt, u->backoff_initial_ms, u->backoff_max_ms,
                                    http_random(&jitter));
        atomic_fetch_add(&u->metrics->upload_retries, 1);
        log_warn("upload failed, retrying in %ld ms: %s attempt=%d", wait, errstr, attempt);
        if (wait_retry(u, wait, errstr, errstr_size) < 0)
            return -1;
    }
}
