/* Names: the table a flat topic lands in and the deterministic object key
 * <prefix>/<table>/<partition path>/<topic>+<kafka partition>+<first offset, 20 digits>.<ext>. */
#ifndef SALESCDC_SINK_OBJECT_KEY_H
#define SALESCDC_SINK_OBJECT_KEY_H

#include <stddef.h>
#include <stdint.h>

/* Writes the table name of TOPIC into OUT: the topic's last component before ".flat" (topics
 * are <prefix>.<schema>.<table>.flat), prefixed with "<schema>_" unless the schema is "public",
 * lower-cased, with every character other than a-z, 0-9 and _ turned into _. Returns 0, or -1
 * with errstr when the topic has no table component or OUT is too small. */
int sink_table_name(const char *topic, char *out, size_t out_size, char *errstr,
                    size_t errstr_size);

/* Returns the object key (caller frees with free()): PREFIX (trailing '/' ignored; "" for
 * none), TABLE, PARTITION_PATH (may be ""), then "<topic>+<partition>+<offset>.<ext>" with the
 * first offset zero-padded to 20 digits, so that keys sort by offset. */
char *sink_object_key(const char *prefix, const char *table, const char *partition_path,
                      const char *topic, int32_t partition, int64_t first_offset,
                      const char *extension);

/* Returns the table's location key prefix "<prefix>/<table>/" (caller frees with free()). */
char *sink_table_location(const char *prefix, const char *table);

#endif
