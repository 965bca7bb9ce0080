/* Shared helpers of the integration tests: service settings from the environment, checks. */
#ifndef SALESCDC_ITEST_H
#define SALESCDC_ITEST_H

#include <stdio.h>
#include <stdlib.h>

/* Returns the value of environment variable NAME (borrowed); fails the test when it is unset,
 * naming the variable and how to get it (tests/run, or `source .stack/env`). */
const char *itest_env(const char *name);

/* Fails the test (exit 1) with file:line and a printf-style message when COND is false. */
#define ITEST_CHECK(cond, ...)                                                                     \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: check failed: %s: ", __FILE__, __LINE__, #cond);               \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fputc('\n', stderr);                                                                   \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

#endif
