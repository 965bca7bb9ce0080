/* The records of the `_schemas` log, in Confluent Schema Registry's format (so the topic reads
 * like Confluent's): JSON keys and values,
 *   SCHEMA          key {"keytype":"SCHEMA","subject":S,"version":V,"magic":1}
 *                   value {"subject":S,"version":V,"id":N,"schema":TEXT,"deleted":B}
 *   CONFIG          key {"keytype":"CONFIG","subject":S or null,"magic":0}
 *                   value {"compatibilityLevel":"BACKWARD"}, or a tombstone (setting removed)
 *   DELETE_SUBJECT  key {"keytype":"DELETE_SUBJECT","subject":S,"magic":0}
 *                   value {"subject":S,"version":V} (soft-deletes versions <= V)
 * Other key types (NOOP, MODE, ...) are read and ignored. The topic is compacted: the latest
 * value of each key is what a replay needs. */
#ifndef SALESCDC_STORE_RECORD_H
#define SALESCDC_STORE_RECORD_H

#include <stddef.h>

#include "avsc_compat.h"

struct store;

/* Encoders: each returns compact JSON text; caller frees with free(). */
char *store_record_schema_key(const char *subject, int version);
char *store_record_schema_value(const char *subject, int version, int id, const char *schema,
                                int deleted);
/* SUBJECT NULL: the global setting. */
char *store_record_config_key(const char *subject);
char *store_record_config_value(enum avsc_compat_level level);
char *store_record_delete_subject_key(const char *subject);
char *store_record_delete_subject_value(const char *subject, int up_to_version);

/* Applies one log record (VALUE NULL: a tombstone) to ST. Returns 0, or -1 with errstr naming
 * what is wrong with a malformed record (the caller logs it and goes on: one bad record must not
 * stop a replay). */
int store_record_apply(struct store *st, const char *key, size_t key_len, const char *value,
                       size_t value_len, char *errstr, size_t errstr_size);

#endif
