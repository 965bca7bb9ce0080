/* Writer schemas of consumed records by registry id: the verbatim text (kept for Avro files),
 * the sink's type graph (logical types) and an avro-c decoder, fetched once per id. */
#ifndef SALESCDC_SINK_SCHEMA_CACHE_H
#define SALESCDC_SINK_SCHEMA_CACHE_H

#include <avro.h>
#include <stddef.h>
#include <stdint.h>

#include "avro_type.h"
#include "registry_lookup.h"

struct sink_schema {
    int32_t id;
    char *text;                    /* as the registry serves it: logical types intact */
    struct sink_avro_schema *type; /* the sink's type graph of TEXT */
    avro_schema_t avro;            /* avro-c's parse of TEXT (no logical types), for decoding */
    avro_value_iface_t *iface;
    avro_value_t value;   /* the last decoded datum (see sink_schema_decode()) */
    avro_reader_t reader; /* memory reader reused for every datum */
};

struct sink_schema_cache;

/* Creates a cache fetching through RL (borrowed; must outlive the cache). Caller frees with
 * sink_schema_cache_destroy(). */
struct sink_schema_cache *sink_schema_cache_new(struct registry_lookup *rl);
void sink_schema_cache_destroy(struct sink_schema_cache *c);

/* Sets *OUT to the schema with ID (borrowed; lives as long as the cache). Returns
 * REGISTRY_LOOKUP_OK, or another status with errstr naming the id and the cause;
 * REGISTRY_LOOKUP_UNAVAILABLE is worth retrying, the others are not. A schema the sink cannot
 * use (not a record, avro-c refuses it) gives REGISTRY_LOOKUP_REJECTED. */
enum registry_lookup_status sink_schema_cache_get(struct sink_schema_cache *c, int32_t id,
                                                  const struct sink_schema **out, char *errstr,
                                                  size_t errstr_size);

/* Builds a schema from TEXT without a registry (tests, tools). Returns it (caller frees with
 * sink_schema_destroy()) or NULL with errstr set. */
struct sink_schema *sink_schema_new(int32_t id, const char *text, char *errstr, size_t errstr_size);
void sink_schema_destroy(struct sink_schema *s);

/* Decodes the Avro binary datum PAYLOAD[0..LEN) with S's schema into S->value and returns it
 * (borrowed; valid until the next decode with S), or NULL with errstr naming the cause
 * (truncated, invalid, or bytes left over after the datum). */
avro_value_t *sink_schema_decode(const struct sink_schema *s, const void *payload, size_t len,
                                 char *errstr, size_t errstr_size);

#endif
