/* Avro schema JSON for captured tables (avro-c 1.11 cannot carry logicalType, so the text is
 * built here with jansson and registered verbatim). */
#include "avro_schema.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

/* Type OIDs of the built-in types (pg_type.dat). */
enum {
    OID_BOOL = 16,
    OID_BYTEA = 17,
    OID_INT8 = 20,
    OID_INT2 = 21,
    OID_INT4 = 23,
    OID_OID = 26,
    OID_FLOAT4 = 700,
    OID_FLOAT8 = 701,
    OID_DATE = 1082,
    OID_TIMESTAMP = 1114,
    OID_TIMESTAMPTZ = 1184,
    OID_NUMERIC = 1700,
    OID_UUID = 2950,
};

struct avroschema_type avroschema_type_of(uint32_t type_oid, int32_t typmod)
{
    struct avroschema_type t = {AVROSCHEMA_STRING, 0, 0};
    switch (type_oid) {
    case OID_BOOL: t.kind = AVROSCHEMA_BOOLEAN; break;
    case OID_BYTEA: t.kind = AVROSCHEMA_BYTES; break;
    case OID_INT2:
    case OID_INT4: t.kind = AVROSCHEMA_INT; break;
    case OID_INT8:
    case OID_OID: t.kind = AVROSCHEMA_LONG; break;
    case OID_FLOAT4: t.kind = AVROSCHEMA_FLOAT; break;
    case OID_FLOAT8: t.kind = AVROSCHEMA_DOUBLE; break;
    case OID_DATE: t.kind = AVROSCHEMA_DATE; break;
    case OID_TIMESTAMP:
    case OID_TIMESTAMPTZ: t.kind = AVROSCHEMA_TIMESTAMP; break;
    case OID_UUID: t.kind = AVROSCHEMA_UUID; break;
    case OID_NUMERIC:
        if (typmod >= 4) { /* numeric(p,s): typmod = ((p << 16) | s) + 4; else unconstrained */
            t.kind = AVROSCHEMA_DECIMAL;
            t.precision = ((typmod - 4) >> 16) & 0xffff;
            t.scale = (typmod - 4) & 0xffff;
        }
        break;
    default: break;
    }
    return t;
}

void avroschema_name(const char *name, char *out, size_t size)
{
    size_t n = 0;
    if (!(name[0] == '_' || (name[0] >= 'A' && name[0] <= 'Z') ||
          (name[0] >= 'a' && name[0] <= 'z')))
        out[n++] = '_';
    for (const char *p = name; *p && n + 1 < size; p++) {
        int ok = *p == '_' || (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
                 (*p >= '0' && *p <= '9');
        out[n++] = ok ? *p : '_';
    }
    out[n] = '\0';
}

char *avroschema_namespace(const char *prefix, const struct relcache_rel *rel)
{
    char p[256], s[256], t[256];
    avroschema_name(prefix, p, sizeof p);
    avroschema_name(rel->nspname, s, sizeof s);
    avroschema_name(rel->relname, t, sizeof t);
    return xasprintf("%s.%s.%s", p, s, t);
}

/* The Avro type of column C (without nullability). */
static json_t *column_type(const struct relcache_column *c)
{
    struct avroschema_type t = avroschema_type_of(c->type_oid, c->typmod);
    switch (t.kind) {
    case AVROSCHEMA_BOOLEAN: return json_string("boolean");
    case AVROSCHEMA_INT: return json_string("int");
    case AVROSCHEMA_LONG: return json_string("long");
    case AVROSCHEMA_FLOAT: return json_string("float");
    case AVROSCHEMA_DOUBLE: return json_string("double");
    case AVROSCHEMA_BYTES: return json_string("bytes");
    case AVROSCHEMA_DECIMAL:
        return json_pack("{s:s, s:s, s:i, s:i}", "type", "bytes", "logicalType", "decimal",
                         "precision", t.precision, "scale", t.scale);
    case AVROSCHEMA_DATE: return json_pack("{s:s, s:s}", "type", "int", "logicalType", "date");
    case AVROSCHEMA_TIMESTAMP:
        return json_pack("{s:s, s:s}", "type", "long", "logicalType", "timestamp-micros");
    case AVROSCHEMA_UUID: return json_pack("{s:s, s:s}", "type", "string", "logicalType", "uuid");
    case AVROSCHEMA_STRING: break;
    }
    return json_string("string");
}

/* A record named NAME with the columns of REL (only key columns when KEY_ONLY); non-key columns
 * are nullable unions with default null. */
static json_t *columns_record(const struct relcache_rel *rel, const char *name, const char *ns,
                              int key_only)
{
    char field[256];
    json_t *fields = json_array();
    for (int i = 0; i < rel->ncols; i++) {
        const struct relcache_column *c = &rel->cols[i];
        if (key_only && !c->key)
            continue;
        avroschema_name(c->name, field, sizeof field);
        json_t *f = json_pack("{s:s}", "name", field);
        if (c->key) {
            json_object_set_new(f, "type", column_type(c));
        } else {
            json_object_set_new(f, "type", json_pack("[s, o]", "null", column_type(c)));
            json_object_set_new(f, "default", json_null());
        }
        json_array_append_new(fields, f);
    }
    return json_pack("{s:s, s:s, s:s, s:o}", "type", "record", "name", name, "namespace", ns,
                     "fields", fields);
}

static char *dump(json_t *schema)
{
    char *text = json_dumps(schema, JSON_COMPACT);
    json_decref(schema);
    if (!text) {
        fprintf(stderr, "fatal: out of memory serialising an Avro schema\n");
        abort();
    }
    char *copy = xstrdup(text); /* callers free with free(), whatever jansson's allocator */
    free(text);
    return copy;
}

char *avroschema_key_json(const struct relcache_rel *rel, const char *ns)
{
    return dump(columns_record(rel, "Key", ns, 1));
}

/* Debezium's source block: where and when the change happened. */
static json_t *source_record(void)
{
    return json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, {s:s, s:s}, "
        "{s:s, s:s}, {s:s, s:s}, {s:s, s:[s, s], s:n}, {s:s, s:[s, s], s:n}]}",
        "type", "record", "name", "Source", "namespace", "salescdc.connector.postgresql", "fields",
        "name", "version", "type", "string", "name", "connector", "type", "string", "name", "name",
        "type", "string", "name", "ts_ms", "type", "long", "name", "db", "type", "string", "name",
        "schema", "type", "string", "name", "table", "type", "string", "name", "txId", "type",
        "null", "long", "default", "name", "lsn", "type", "null", "long", "default");
}

char *avroschema_value_json(const struct relcache_rel *rel, const char *ns)
{
    char *value_name = xasprintf("%s.Value", ns);
    json_t *schema = json_pack(
        "{s:s, s:s, s:s, s:[{s:s, s:[s, o], s:n}, {s:s, s:[s, s], s:n}, {s:s, s:o}, "
        "{s:s, s:s}, {s:s, s:[s, s], s:n}]}",
        "type", "record", "name", "Envelope", "namespace", ns, "fields", "name", "before", "type",
        "null", columns_record(rel, "Value", ns, 0), "default", "name", "after", "type", "null",
        value_name, "default", "name", "source", "type", source_record(), "name", "op", "type",
        "string", "name", "ts_ms", "type", "null", "long", "default");
    free(value_name);
    return dump(schema);
}
