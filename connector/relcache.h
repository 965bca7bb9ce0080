/* Relation cache: what the connector knows about each published table, keyed by relation id,
 * filled from pgoutput Relation and Type messages (and catalog facts the caller adds). */
#ifndef SALESCDC_RELCACHE_H
#define SALESCDC_RELCACHE_H

#include <stdint.h>

#include "pgoutput.h"

struct relcache_column {
    char *name;
    uint32_t type_oid;
    int32_t typmod;    /* -1: none; numeric(p,s): ((p << 16) | s) + 4 */
    int replica_ident; /* flagged part of the replica identity by the Relation message */
    int key;           /* part of the Kafka key (the primary key); defaults to replica_ident */
    int not_null;      /* never null (catalog attnotnull); defaults to key */
};

struct relcache_rel {
    uint32_t relid;
    char *nspname, *relname;
    char replident; /* 'd', 'n', 'f', 'i' */
    int ncols;
    struct relcache_column *cols;
    unsigned generation; /* increases whenever the name or the columns change */
    /* Caller's state derived from the columns (e.g. Avro schemas and ids): freed with
     * EXT_FREE and reset to NULL whenever the relation changes. */
    void *ext;
    void (*ext_free)(void *ext);
};

struct relcache;

/* Caller frees with relcache_destroy(). */
struct relcache *relcache_new(void);
void relcache_destroy(struct relcache *rc);

/* Stores the relation of Relation message M (borrowed). Returns the entry (borrowed; lives until
 * the cache is destroyed) and sets *CHANGED when it is new or differs from what was cached (then
 * key and not_null are reset to their defaults and ext is dropped). */
struct relcache_rel *relcache_update(struct relcache *rc, const struct pgoutput_msg *m,
                                     int *changed);

/* The relation RELID (borrowed), or NULL if no Relation message announced it. */
struct relcache_rel *relcache_get(struct relcache *rc, uint32_t relid);

/* Remembers the name of a non-built-in type from Type message M (borrowed). */
void relcache_set_type(struct relcache *rc, const struct pgoutput_msg *m);
/* The "schema.name" of type OID (borrowed) if a Type message announced it, else NULL. */
const char *relcache_type_name(const struct relcache *rc, uint32_t oid);

#endif
