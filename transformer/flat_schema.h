/* The flat schema derived from a CDC envelope's writer schema: the row record's columns (after
 * the column rules), their types kept verbatim (logicalType, precision, scale and every other
 * attribute), then the metadata fields __op, __lsn, __txid, __source_ts_ms, __table, __deleted.
 * Built with jansson because avro-c 1.11 drops logical types when it writes a schema. */
#ifndef SALESCDC_TRANSFORMER_FLAT_SCHEMA_H
#define SALESCDC_TRANSFORMER_FLAT_SCHEMA_H

#include <jansson.h>
#include <stddef.h>

#include "avsc_names.h"
#include "columns.h"

/* Metadata fields, in this order after the columns. */
enum flat_schema_meta {
    FLAT_META_OP,           /* string: c, u, d or r */
    FLAT_META_LSN,          /* ["null", "long"]: source.lsn */
    FLAT_META_TXID,         /* ["null", "long"]: source.txId */
    FLAT_META_SOURCE_TS_MS, /* long: source.ts_ms, the commit time */
    FLAT_META_TABLE,        /* string: source.table */
    FLAT_META_DELETED,      /* boolean: op is d */
    FLAT_META_COUNT
};

/* Field positions in the envelope (-1: absent; only the optional ones may be). */
struct flat_schema_envelope {
    int before, after, op, source;               /* envelope fields */
    int src_ts_ms, src_table, src_txid, src_lsn; /* fields of the source record */
};

struct flat_schema {
    char *text;               /* the flat schema's JSON, compact: register it verbatim */
    json_t *root;             /* the same, parsed (for rendering JSON output) */
    struct avsc_names *names; /* named types of ROOT */
    char *row_name;           /* full name of the row record, also the flat record's name */
    size_t n_columns;         /* columns kept; the metadata fields follow them */
    int *column_src;          /* per kept column: its index in the row record */
    struct flat_schema_envelope env;
};

/* Derives the flat schema from ENVELOPE_JSON (a Debezium-style envelope: record with fields
 * before, after (["null", row record]), source (record with ts_ms and table; txId and lsn
 * optional), op (string), optionally ts_ms), applying RULES (borrowed; NULL keeps every
 * column). Returns the schema (caller frees with flat_schema_destroy()) or NULL with errstr
 * saying why the envelope does not fit (not JSON, a missing or mistyped field, a column name
 * clash after renaming). */
struct flat_schema *flat_schema_derive(const char *envelope_json, const struct columns_rules *rules,
                                       char *errstr, size_t errstr_size);
void flat_schema_destroy(struct flat_schema *fs);

/* Name of metadata field M ("__op", ...). */
const char *flat_schema_meta_name(enum flat_schema_meta m);

#endif
