/* Shared helpers of the integration tests. */
#include "itest.h"

const char *itest_env(const char *name)
{
    const char *v = getenv(name);
    ITEST_CHECK(v && *v,
                "%s is not set: run the integration tests through tests/run, or "
                "`deploy/local/stack up && . .stack/env` first",
                name);
    return v;
}
