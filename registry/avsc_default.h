/* Validation of Avro default values against their schema (Avro 1.11 rules, as Java's parser
 * applies them to newly registered schemas). */
#ifndef SALESCDC_AVSC_DEFAULT_H
#define SALESCDC_AVSC_DEFAULT_H

#include <jansson.h>

struct avsc;

/* True if VALUE is a valid default for the expanded schema node TYPE of S: null for null,
 * true/false for boolean, 32-bit integers for int, integers for long, numbers for float and
 * double, strings for bytes, string and fixed, a symbol for enum, arrays and objects whose
 * elements are valid for array and map, an object giving every field (or relying on the field's
 * own default) for record, and a valid value of the FIRST branch for a union. DEPTH bounds the
 * recursion; pass 0. */
int avsc_default_valid(const struct avsc *s, const json_t *type, const json_t *value, int depth);

#endif
