/* Confluent Schema Registry's REST API (v1 content types, paths, bodies, error bodies) on top of
 * registry.h, as an httpd handler. */
#ifndef SALESCDC_API_H
#define SALESCDC_API_H

#include "httpd.h"

/* httpd_handler_fn: ARG is the struct registry. Answers every path but /healthz and /metrics;
 * 503 until the registry is ready, 404/405 for unknown paths and methods, 415 for unsupported
 * content types, 400 for malformed JSON. */
void api_handle(void *arg, const struct httpd_request *req, struct httpd_response *resp);

#endif
