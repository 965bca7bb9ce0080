/* Storing one finished object: s3_put_object_auto (single PUT or multipart, ETag/MD5 checked by
 * common/s3_client) retried with exponential backoff until it succeeds, so no data is skipped
 * while S3 is down, denied or failing; only a stop request or a permanent error ends it. */
#ifndef SALESCDC_SINK_UPLOADER_H
#define SALESCDC_SINK_UPLOADER_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "metrics.h"
#include "s3_client.h"

struct sink_uploader {
    struct s3_client *s3; /* borrowed */
    size_t multipart_threshold, part_size;
    long backoff_initial_ms, backoff_max_ms;
    /* Raised when waiting must end (a second stop signal, or the shutdown deadline). */
    const volatile sig_atomic_t *abort;
    struct sink_metrics *metrics; /* borrowed */
    /* Called about every KEEPALIVE_MS while waiting to retry, so that the consumer stays in its
     * group during a long outage; non-zero gives the upload up (the partition was revoked). */
    int (*keepalive)(void *arg);
    void *keepalive_arg;
    int64_t deadline_ms; /* monotonic ms after which a failed upload is not retried; 0: none */
};

enum { SINK_UPLOAD_KEEPALIVE_MS = 500 };

/* Stores DATA[0..LEN) as KEY. Returns 0 once S3 confirmed it (HTTP 200, ETag verified), or -1
 * with errstr naming the key and the last cause when *ABORT was raised, the keepalive gave up,
 * or the request can never succeed (S3_ERR_INVALID, e.g. more than 10,000 parts). */
int sink_upload(struct sink_uploader *u, const char *key, const void *data, size_t len,
                const char *content_type, char *errstr, size_t errstr_size);

#endif
