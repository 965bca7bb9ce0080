/* Table names from topics and deterministic object keys. */
#include "object_key.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "xalloc.h"

static const char flat_suffix[] = ".flat";

int sink_table_name(const char *topic, char *out, size_t out_size, char *errstr, size_t errstr_size)
{
    size_t len = strlen(topic), suffix = sizeof flat_suffix - 1;
    if (len > suffix && strcmp(topic + len - suffix, flat_suffix) == 0)
        len -= suffix;
    char *base = xstrdup(topic);
    base[len] = '\0';
    char *table = strrchr(base, '.');
    char *schema = NULL;
    if (table) {
        *table++ = '\0';
        char *dot = strrchr(base, '.');
        schema = dot ? dot + 1 : base;
    } else {
        table = base;
    }
    int n = -1;
    if (*table)
        n = schema && *schema && strcmp(schema, "public") != 0
                ? snprintf(out, out_size, "%s_%s", schema, table)
                : snprintf(out, out_size, "%s", table);
    free(base);
    if (n < 0 || (size_t)n >= out_size) {
        snprintf(errstr, errstr_size, "topic %s gives no table name (or one that is too long)",
                 topic);
        return -1;
    }
    for (char *p = out; *p; p++) {
        unsigned char c = (unsigned char)tolower((unsigned char)*p);
        *p = (char)(isalnum(c) || c == '_' ? c : '_');
    }
    return 0;
}

/* Appends PREFIX without trailing slashes, then '/' when anything was appended. */
static void put_prefix(struct strbuf *sb, const char *prefix)
{
    size_t n = strlen(prefix);
    while (n > 0 && prefix[n - 1] == '/')
        n--;
    if (n > 0) {
        strbuf_append(sb, prefix, n);
        strbuf_append(sb, "/", 1);
    }
}

char *sink_object_key(const char *prefix, const char *table, const char *partition_path,
                      const char *topic, int32_t partition, int64_t first_offset,
                      const char *extension)
{
    struct strbuf sb = STRBUF_INIT;
    put_prefix(&sb, prefix);
    strbuf_printf(&sb, "%s/", table);
    if (*partition_path)
        strbuf_printf(&sb, "%s/", partition_path);
    strbuf_printf(&sb, "%s+%" PRId32 "+%020" PRId64 ".%s", topic, partition, first_offset,
                  extension);
    return strbuf_detach(&sb);
}

char *sink_table_location(const char *prefix, const char *table)
{
    struct strbuf sb = STRBUF_INIT;
    put_prefix(&sb, prefix);
    strbuf_printf(&sb, "%s/", table);
    return strbuf_detach(&sb);
}
