/* Avro schemas (JSON text, built with jansson) for a captured table: the Kafka key (primary key
 * columns) and the Debezium-compatible envelope value {before, after, source, op, ts_ms}.
 * Prefix avroschema_: avro-c owns the avro_schema_* names. */
#ifndef SALESCDC_AVROSCHEMA_H
#define SALESCDC_AVROSCHEMA_H

#include <stdint.h>

#include "relcache.h"

/* How a PostgreSQL column is represented in Avro. */
enum avroschema_kind {
    AVROSCHEMA_BOOLEAN,   /* bool */
    AVROSCHEMA_INT,       /* int2, int4 */
    AVROSCHEMA_LONG,      /* int8, oid */
    AVROSCHEMA_FLOAT,     /* float4 */
    AVROSCHEMA_DOUBLE,    /* float8 */
    AVROSCHEMA_DECIMAL,   /* numeric(p,s): bytes, logicalType decimal */
    AVROSCHEMA_DATE,      /* date: int, logicalType date */
    AVROSCHEMA_TIMESTAMP, /* timestamp, timestamptz: long, logicalType timestamp-micros */
    AVROSCHEMA_UUID,      /* uuid: string, logicalType uuid */
    AVROSCHEMA_BYTES,     /* bytea */
    AVROSCHEMA_STRING,    /* text, varchar, json, jsonb, unconstrained numeric, everything else
                              (arrays, enums, time, interval, ...) in PostgreSQL's text form */
};

struct avroschema_type {
    enum avroschema_kind kind;
    int precision, scale; /* AVROSCHEMA_DECIMAL */
};

/* Value of a string or bytes column whose unchanged TOASTed value pgoutput did not send. */
#define AVROSCHEMA_UNAVAILABLE "__salescdc_unavailable_value"

/* Maps a column's type OID and modifier to its Avro representation. */
struct avroschema_type avroschema_type_of(uint32_t type_oid, int32_t typmod);

/* Record namespace for REL under topic prefix PREFIX: "<prefix>.<schema>.<table>", each part
 * made a valid Avro name. Caller frees with free(). */
char *avroschema_namespace(const char *prefix, const struct relcache_rel *rel);

/* Key schema: record "Key" with REL's key columns (required). Caller frees with free(). */
char *avroschema_key_json(const struct relcache_rel *rel, const char *ns);

/* Value schema: record "Envelope" {before: [null, Value], after: [null, Value], source: Source,
 * op: string, ts_ms: [null, long]}; Value has every column, key columns required and the
 * others nullable (a key-only `before` has nulls in them). Caller frees with free(). */
char *avroschema_value_json(const struct relcache_rel *rel, const char *ns);

/* Writes NAME made a valid Avro name ([A-Za-z_][A-Za-z0-9_]*) into OUT (SIZE >= 2). */
void avroschema_name(const char *name, char *out, size_t size);

#endif
