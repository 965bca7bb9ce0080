/* The records of the `_schemas` log: encoding, and applying them to the store. */
#include "store_record.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

static char *dump(json_t *j)
{
    char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(j);
    return s;
}

char *store_record_schema_key(const char *subject, int version)
{
    return dump(json_pack("{s:s, s:s, s:i, s:i}", "keytype", "SCHEMA", "subject", subject,
                          "version", version, "magic", 1));
}

char *store_record_schema_value(const char *subject, int version, int id, const char *schema,
                                int deleted)
{
    return dump(json_pack("{s:s, s:i, s:i, s:s, s:b}", "subject", subject, "version", version, "id",
                          id, "schema", schema, "deleted", deleted));
}

char *store_record_config_key(const char *subject)
{
    return dump(json_pack("{s:s, s:s?, s:i}", "keytype", "CONFIG", "subject", subject, "magic", 0));
}

char *store_record_config_value(enum avsc_compat_level level)
{
    return dump(json_pack("{s:s}", "compatibilityLevel", avsc_compat_level_name(level)));
}

char *store_record_delete_subject_key(const char *subject)
{
    return dump(
        json_pack("{s:s, s:s, s:i}", "keytype", "DELETE_SUBJECT", "subject", subject, "magic", 0));
}

char *store_record_delete_subject_value(const char *subject, int up_to_version)
{
    return dump(json_pack("{s:s, s:i}", "subject", subject, "version", up_to_version));
}

static int apply_schema(struct store *st, json_t *key, json_t *value, char *errstr,
                        size_t errstr_size)
{
    const char *subject = json_string_value(json_object_get(key, "subject"));
    json_t *version = json_object_get(key, "version");
    if (!subject || !json_is_integer(version)) {
        snprintf(errstr, errstr_size, "SCHEMA key without subject or version");
        return -1;
    }
    if (!value) {
        store_remove_version(st, subject, (int)json_integer_value(version));
        return 0;
    }
    json_t *id = json_object_get(value, "id");
    const char *text = json_string_value(json_object_get(value, "schema"));
    const char *type = json_string_value(json_object_get(value, "schemaType"));
    if (!json_is_integer(id) || !text) {
        snprintf(errstr, errstr_size, "SCHEMA value of %s without id or schema", subject);
        return -1;
    }
    if (type && strcmp(type, "AVRO") != 0) {
        store_note_id(st, (int)json_integer_value(id));
        snprintf(errstr, errstr_size, "schema id %d of %s has type %s; only AVRO is served",
                 (int)json_integer_value(id), subject, type);
        return -1;
    }
    return store_put_version(st, subject, (int)json_integer_value(version),
                             (int)json_integer_value(id), text,
                             json_is_true(json_object_get(value, "deleted")), errstr, errstr_size);
}

static int apply_config(struct store *st, json_t *key, json_t *value, char *errstr,
                        size_t errstr_size)
{
    const char *subject = json_string_value(json_object_get(key, "subject"));
    if (!value) {
        store_set_level(st, subject, 0, AVSC_COMPAT_NONE);
        return 0;
    }
    enum avsc_compat_level level;
    const char *name = json_string_value(json_object_get(value, "compatibilityLevel"));
    if (!name) /* a config record without a level (e.g. only "normalize"): nothing for us */
        return 0;
    if (avsc_compat_level_parse(name, &level) < 0) {
        snprintf(errstr, errstr_size, "CONFIG value with unknown compatibilityLevel '%s'", name);
        return -1;
    }
    store_set_level(st, subject, 1, level);
    return 0;
}

static int apply_delete_subject(struct store *st, json_t *value, char *errstr, size_t errstr_size)
{
    if (!value) /* the marker was compacted away or removed; versions keep their own state */
        return 0;
    const char *subject = json_string_value(json_object_get(value, "subject"));
    json_t *version = json_object_get(value, "version");
    if (!subject || !json_is_integer(version)) {
        snprintf(errstr, errstr_size, "DELETE_SUBJECT value without subject or version");
        return -1;
    }
    store_delete_subject(st, subject, (int)json_integer_value(version));
    return 0;
}

int store_record_apply(struct store *st, const char *key, size_t key_len, const char *value,
                       size_t value_len, char *errstr, size_t errstr_size)
{
    json_t *k = json_loadb(key ? key : "", key ? key_len : 0, 0, NULL);
    json_t *v = value ? json_loadb(value, value_len, 0, NULL) : NULL;
    const char *type = json_string_value(json_object_get(k, "keytype"));
    int rc = 0;
    if (!type || (value && !json_is_object(v))) {
        snprintf(errstr, errstr_size, "record with a key or value that is not a JSON object");
        rc = -1;
    } else if (strcmp(type, "SCHEMA") == 0) {
        rc = apply_schema(st, k, v, errstr, errstr_size);
    } else if (strcmp(type, "CONFIG") == 0) {
        rc = apply_config(st, k, v, errstr, errstr_size);
    } else if (strcmp(type, "DELETE_SUBJECT") == 0) {
        rc = apply_delete_subject(st, v, errstr, errstr_size);
    }
    json_decref(k);
    json_decref(v);
    return rc;
}
