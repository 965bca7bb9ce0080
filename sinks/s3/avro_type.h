/* The sink's view of an Avro writer schema: a type tree with logical types kept (avro-c 1.11
 * drops them), parsed from the schema text the registry serves, used to render values and to
 * derive Trino column types. */
#ifndef SALESCDC_SINK_AVRO_TYPE_H
#define SALESCDC_SINK_AVRO_TYPE_H

#include <stddef.h>

enum sink_avro_kind {
    SINK_AVRO_NULL,
    SINK_AVRO_BOOLEAN,
    SINK_AVRO_INT,
    SINK_AVRO_LONG,
    SINK_AVRO_FLOAT,
    SINK_AVRO_DOUBLE,
    SINK_AVRO_BYTES,
    SINK_AVRO_STRING,
    SINK_AVRO_RECORD,
    SINK_AVRO_ENUM,
    SINK_AVRO_ARRAY,
    SINK_AVRO_MAP,
    SINK_AVRO_UNION,
    SINK_AVRO_FIXED,
};

/* Logical types the sink renders specially; one that does not fit its base type is ignored, as
 * the Avro specification says. */
enum sink_avro_logical {
    SINK_LOGICAL_NONE,
    SINK_LOGICAL_DECIMAL,          /* bytes or fixed: two's-complement unscaled, big-endian */
    SINK_LOGICAL_DATE,             /* int: days since 1970-01-01 */
    SINK_LOGICAL_TIME_MILLIS,      /* int: ms after midnight */
    SINK_LOGICAL_TIME_MICROS,      /* long: µs after midnight */
    SINK_LOGICAL_TIMESTAMP_MILLIS, /* long: ms since the epoch, UTC */
    SINK_LOGICAL_TIMESTAMP_MICROS, /* long: µs since the epoch, UTC */
    SINK_LOGICAL_LOCAL_TS_MILLIS,  /* long: ms, no time zone */
    SINK_LOGICAL_LOCAL_TS_MICROS,  /* long: µs, no time zone */
    SINK_LOGICAL_UUID,             /* string */
};

struct sink_avro_type {
    enum sink_avro_kind kind;
    enum sink_avro_logical logical;
    int precision, scale; /* decimal */
    size_t size;          /* fixed */
    size_t n;             /* record fields, enum symbols, union branches; 1 for array and map */
    struct sink_avro_type **children; /* field types, branches, items or values (NULL for enum) */
    char **names;                     /* record field names or enum symbols */
    char *full_name;                  /* named types (record, enum, fixed), else NULL */
};

/* A parsed schema; its nodes form a graph (named types may be referenced several times, even
 * recursively) owned by the schema. */
struct sink_avro_schema {
    struct sink_avro_type *root;
    struct sink_avro_type **nodes; /* every node, for freeing */
    size_t n_nodes, cap_nodes;
};

/* Parses the Avro schema JSON TEXT. Returns the schema (caller frees with
 * sink_avro_schema_destroy()) or NULL with errstr naming what is wrong and where. */
struct sink_avro_schema *sink_avro_schema_parse(const char *text, char *errstr, size_t errstr_size);
void sink_avro_schema_destroy(struct sink_avro_schema *s);

/* Index of field NAME in record T, or -1. */
int sink_avro_field_index(const struct sink_avro_type *t, const char *name);

/* For a union of null and one other type, that other type, else T itself; *NULLABLE (may be
 * NULL) says whether null is allowed. */
const struct sink_avro_type *sink_avro_unwrap_nullable(const struct sink_avro_type *t,
                                                       int *nullable);

#endif
