/* Relation cache keyed by relation id (a short array: a connector captures a few tables). */
#include "relcache.h"

#include <stdlib.h>
#include <string.h>

#include "xalloc.h"

struct type_entry {
    uint32_t oid;
    char *qualified_name;
};

struct relcache {
    struct relcache_rel **rels;
    size_t nrels, cap;
    struct type_entry *types;
    size_t ntypes;
};

struct relcache *relcache_new(void)
{
    return xcalloc(1, sizeof(struct relcache));
}

static void clear_rel(struct relcache_rel *r)
{
    for (int i = 0; i < r->ncols; i++)
        free(r->cols[i].name);
    free(r->cols);
    free(r->nspname);
    free(r->relname);
    if (r->ext && r->ext_free)
        r->ext_free(r->ext);
    r->ext = NULL;
    r->cols = NULL;
    r->nspname = r->relname = NULL;
}

void relcache_destroy(struct relcache *rc)
{
    if (!rc)
        return;
    for (size_t i = 0; i < rc->nrels; i++) {
        clear_rel(rc->rels[i]);
        free(rc->rels[i]);
    }
    for (size_t i = 0; i < rc->ntypes; i++)
        free(rc->types[i].qualified_name);
    free(rc->types);
    free(rc->rels);
    free(rc);
}

struct relcache_rel *relcache_get(struct relcache *rc, uint32_t relid)
{
    for (size_t i = 0; i < rc->nrels; i++)
        if (rc->rels[i]->relid == relid)
            return rc->rels[i];
    return NULL;
}

/* True if R already describes the relation of M exactly. */
static int same_relation(const struct relcache_rel *r, const struct pgoutput_msg *m)
{
    if (strcmp(r->nspname, m->u.relation.nspname) != 0 ||
        strcmp(r->relname, m->u.relation.relname) != 0 || r->replident != m->u.relation.replident ||
        r->ncols != m->u.relation.ncols)
        return 0;
    for (int i = 0; i < r->ncols; i++) {
        const struct pgoutput_column *c = &m->u.relation.cols[i];
        if (strcmp(r->cols[i].name, c->name) != 0 || r->cols[i].type_oid != c->type_oid ||
            r->cols[i].typmod != c->typmod ||
            r->cols[i].replica_ident != !!(c->flags & PGOUTPUT_COLUMN_KEY))
            return 0;
    }
    return 1;
}

static void fill_rel(struct relcache_rel *r, const struct pgoutput_msg *m)
{
    r->nspname = xstrdup(m->u.relation.nspname[0] ? m->u.relation.nspname : "pg_catalog");
    r->relname = xstrdup(m->u.relation.relname);
    r->replident = m->u.relation.replident;
    r->ncols = m->u.relation.ncols;
    r->cols = xcalloc((size_t)r->ncols, sizeof *r->cols);
    for (int i = 0; i < r->ncols; i++) {
        const struct pgoutput_column *c = &m->u.relation.cols[i];
        struct relcache_column *rc = &r->cols[i];
        rc->name = xstrdup(c->name);
        rc->type_oid = c->type_oid;
        rc->typmod = c->typmod;
        rc->replica_ident = rc->key = rc->not_null = !!(c->flags & PGOUTPUT_COLUMN_KEY);
    }
    r->generation++;
}

struct relcache_rel *relcache_update(struct relcache *rc, const struct pgoutput_msg *m,
                                     int *changed)
{
    struct relcache_rel *r = relcache_get(rc, m->u.relation.relid);
    *changed = 0;
    if (r && same_relation(r, m))
        return r;
    if (!r) {
        if (rc->nrels == rc->cap) {
            rc->cap = rc->cap ? rc->cap * 2 : 8;
            rc->rels = xrealloc(rc->rels, rc->cap * sizeof *rc->rels);
        }
        r = rc->rels[rc->nrels++] = xcalloc(1, sizeof *r);
        r->relid = m->u.relation.relid;
    } else {
        clear_rel(r);
    }
    fill_rel(r, m);
    *changed = 1;
    return r;
}

void relcache_set_type(struct relcache *rc, const struct pgoutput_msg *m)
{
    char *name = xasprintf("%s.%s", m->u.type.nspname[0] ? m->u.type.nspname : "pg_catalog",
                           m->u.type.typname);
    for (size_t i = 0; i < rc->ntypes; i++) {
        if (rc->types[i].oid == m->u.type.oid) {
            free(rc->types[i].qualified_name);
            rc->types[i].qualified_name = name;
            return;
        }
    }
    rc->types = xrealloc(rc->types, (rc->ntypes + 1) * sizeof *rc->types);
    rc->types[rc->ntypes++] = (struct type_entry){m->u.type.oid, name};
}

const char *relcache_type_name(const struct relcache *rc, uint32_t oid)
{
    for (size_t i = 0; i < rc->ntypes; i++)
        if (rc->types[i].oid == oid)
            return rc->types[i].qualified_name;
    return NULL;
}
