/* Canonical text forms of an Avro schema: Avro's Parsing Canonical Form, and the registry's
 * identity form (the Parsing Canonical Form plus what changes the meaning of data or of
 * schema resolution: logical types and defaults). */
#ifndef SALESCDC_AVSC_CANONICAL_H
#define SALESCDC_AVSC_CANONICAL_H

struct avsc;

enum avsc_canonical_flags {
    /* Avro 1.11 specification, "Parsing Canonical Form for Schemas": [PRIMITIVES] [FULLNAMES]
     * [STRIP] [ORDER] [STRINGS] [INTEGERS] [WHITESPACE]. */
    AVSC_CANONICAL_PARSING = 0,
    /* Keep logicalType, precision and scale on the type they annotate (after the PCF keys). */
    AVSC_CANONICAL_LOGICAL = 1,
    /* Keep field defaults and enum defaults (compact JSON, object keys sorted). */
    AVSC_CANONICAL_DEFAULTS = 2,
    /* What the registry compares to decide "same schema, same id". */
    AVSC_CANONICAL_IDENTITY = AVSC_CANONICAL_LOGICAL | AVSC_CANONICAL_DEFAULTS,
};

/* Returns the canonical text of S under FLAGS. Caller frees with free(). */
char *avsc_canonical(const struct avsc *s, unsigned flags);

#endif
