/* A bounds check of one Avro binary datum against its writer schema, before avro-c decodes it:
 * avro-c allocates whatever a length prefix asks for, so a corrupt record could request
 * terabytes. The check allocates nothing and reads every byte once. */
#ifndef SALESCDC_TRANSFORMER_AVRO_CHECK_H
#define SALESCDC_TRANSFORMER_AVRO_CHECK_H

#include <avro.h>
#include <stddef.h>

/* Returns 0 if BUF[0..LEN) is exactly one well-formed datum of SCHEMA (borrowed): varints of
 * at most 10 bytes, string/bytes lengths and array/map block counts that are not negative (but
 * for an array/map block's count, whose negative form carries a byte size) and fit in what
 * remains, union branches and enum symbols in range, nesting no deeper than 64, and no byte
 * left over. Otherwise -1 with errstr naming the byte offset and the problem. */
int avro_check_datum(avro_schema_t schema, const void *buf, size_t len, char *errstr,
                     size_t errstr_size);

#endif
