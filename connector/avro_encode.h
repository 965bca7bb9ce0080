/* Avro binary encoding (avro_binary.c) of pgoutput rows for one captured table, framed in the
 * Confluent wire format: the Kafka key (key columns) and the change envelope. Prefix avroenc_:
 * avro-c owns the avro_* names. */
#ifndef SALESCDC_AVRO_ENCODE_H
#define SALESCDC_AVRO_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "pgoutput.h"
#include "relcache.h"
#include "strbuf.h"

/* The envelope's source block and times. Strings are borrowed. */
struct avroenc_source {
    const char *version, *connector, *name, *db;
    int64_t ts_ms;  /* commit time of the transaction */
    int64_t txid;   /* -1: none */
    int64_t lsn;    /* -1: none */
    int64_t now_ms; /* envelope ts_ms: when the connector processed the change */
};

struct avroenc;

/* Builds the key and value schemas of REL (borrowed) under topic prefix PREFIX. Returns the
 * encoder (caller frees with avroenc_destroy()) or NULL with errstr (avro-c rejected a
 * schema, naming the table). */
struct avroenc *avroenc_new(const struct relcache_rel *rel, const char *prefix, char *errstr,
                            size_t errstr_size);
void avroenc_destroy(struct avroenc *enc);

/* ON: numeric NaN, Infinity and -Infinity (which an Avro decimal cannot hold) in a nullable
 * decimal column are written as null instead of failing the row (key columns always fail). */
void avroenc_set_special_decimal_null(struct avroenc *enc, int on);
/* How many values were written as null that way; *COLUMN (if not NULL) gets the column of the
 * last one (borrowed from the relation). */
uint64_t avroenc_special_decimal_nulls(const struct avroenc *enc, const char **column);

/* The schema texts to register (borrowed). */
const char *avroenc_key_schema(const struct avroenc *enc);
const char *avroenc_value_schema(const struct avroenc *enc);

/* Appends the framed key (schema id KEY_ID) built from TUPLE's key columns to OUT. Returns 0, or
 * -1 with errstr naming the table, the column and the cause (e.g. a null key value). */
int avroenc_key(struct avroenc *enc, const struct relcache_rel *rel,
                const struct pgoutput_tuple *tuple, int32_t key_id, struct strbuf *out,
                char *errstr, size_t errstr_size);

/* Appends the framed envelope (schema id VALUE_ID) to OUT: BEFORE and AFTER may be NULL;
 * OP is 'c', 'u', 'd', 'r' or 't'. An unchanged TOASTed value in AFTER is taken from BEFORE
 * when BEFORE has it, else set to AVRO_SCHEMA_UNAVAILABLE. Returns 0, or -1 with errstr naming
 * the table, the column and the cause. */
int avroenc_envelope(struct avroenc *enc, const struct relcache_rel *rel,
                     const struct pgoutput_tuple *before, const struct pgoutput_tuple *after,
                     char op, const struct avroenc_source *src, int32_t value_id,
                     struct strbuf *out, char *errstr, size_t errstr_size);

#endif
