/* common/registry_client.c against the stack's schema registry (SALESCDC_REGISTRY_URL):
 * register, cache, re-register from a new client, incompatible change, unreachable registry. */
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"
#include "registry_client.h"

#define SCHEMA_V1                                                                                  \
    "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"itest\",\"fields\":[{\"name\":"       \
    "\"id\",\"type\":\"int\"},{\"name\":\"price\",\"type\":[\"null\",{\"type\":\"bytes\","         \
    "\"logicalType\":\"decimal\",\"precision\":10,\"scale\":2}],\"default\":null}]}"
/* adds an optional field: backward compatible */
#define SCHEMA_V2                                                                                  \
    "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"itest\",\"fields\":[{\"name\":"       \
    "\"id\",\"type\":\"int\"},{\"name\":\"price\",\"type\":[\"null\",{\"type\":\"bytes\","         \
    "\"logicalType\":\"decimal\",\"precision\":10,\"scale\":2}],\"default\":null},{\"name\":"      \
    "\"note\",\"type\":[\"null\",\"string\"],\"default\":null}]}"
/* id becomes a string: incompatible */
#define SCHEMA_BAD                                                                                 \
    "{\"type\":\"record\",\"name\":\"Value\",\"namespace\":\"itest\",\"fields\":[{\"name\":"       \
    "\"id\",\"type\":\"string\"}]}"

int main(void)
{
    const char *url = itest_env("SALESCDC_REGISTRY_URL");
    char subject[128], err[1024];
    int32_t id1 = -1, id1_again = -1, id1_fresh = -1, id2 = -1, id_bad = -1;
    snprintf(subject, sizeof subject, "itest.connector.%d.%ld-value", (int)getpid(),
             (long)time(NULL));

    struct registry_client_options opt = {url, NULL, NULL, 10000, 2};
    struct registry_client *rc = registry_client_new(&opt);
    ITEST_CHECK(registry_client_register(rc, subject, SCHEMA_V1, &id1, err, sizeof err) == 0, "%s",
                err);
    ITEST_CHECK(id1 > 0, "id %d", id1);
    ITEST_CHECK(registry_client_register(rc, subject, SCHEMA_V1, &id1_again, err, sizeof err) == 0,
                "%s", err);
    ITEST_CHECK(id1_again == id1, "cached id %d != %d", id1_again, id1);

    struct registry_client *fresh = registry_client_new(&opt);
    ITEST_CHECK(registry_client_register(fresh, subject, SCHEMA_V1, &id1_fresh, err, sizeof err) ==
                    0,
                "%s", err);
    ITEST_CHECK(id1_fresh == id1, "the registry gave id %d for the same schema, first %d",
                id1_fresh, id1);
    ITEST_CHECK(registry_client_register(fresh, subject, SCHEMA_V2, &id2, err, sizeof err) == 0,
                "%s", err);
    ITEST_CHECK(id2 != id1, "a new version must get a new id");

    ITEST_CHECK(registry_client_register(fresh, subject, SCHEMA_BAD, &id_bad, err, sizeof err) < 0,
                "an incompatible schema was accepted with id %d", id_bad);
    ITEST_CHECK(strstr(err, subject) && strstr(err, "409") && strstr(err, "error_code 409"),
                "error should name the subject and the 409: %s", err);
    printf("incompatible: %s\n", err);
    registry_client_destroy(fresh);
    registry_client_destroy(rc);

    struct registry_client_options down = {"http://127.0.0.1:9", NULL, NULL, 2000, 1};
    rc = registry_client_new(&down);
    ITEST_CHECK(registry_client_register(rc, subject, SCHEMA_V1, &id1, err, sizeof err) < 0,
                "registered with a registry that is down");
    ITEST_CHECK(strstr(err, "unreachable") && strstr(err, "127.0.0.1:9"), "%s", err);
    printf("down: %s\n", err);
    registry_client_destroy(rc);
    printf("ok: registry client against %s (subject %s ids %d, %d)\n", url, subject, id1, id2);
    return 0;
}
