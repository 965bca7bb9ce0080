/* Skip-by-schema walk of an Avro binary CDC envelope over a precompiled per-schema program. */
#include "envelope_walk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "avro_cursor.h"
#include "xalloc.h"

#define MAX_DEPTH 64

enum kind {
    K_NULL,
    K_BOOL,
    K_INT,
    K_VARINT,
    K_FLOAT,
    K_DOUBLE,
    K_SIZED,
    K_FIXED,
    K_ENUM,
    K_RECORD,
    K_UNION,
    K_ARRAY,
    K_MAP
};

/* One schema node. Records and unions: N children at kids[FIRST..]; arrays and maps: the item
 * at kids[FIRST]; fixed: N bytes; enum: N symbols. */
struct node {
    enum kind kind;
    int64_t n;
    size_t first;
};

struct memo {
    avro_schema_t schema;
    int node;
};

struct envelope_walker {
    struct node *nodes;
    size_t n_nodes, cap_nodes;
    int *kids;
    size_t n_kids, cap_kids;
    struct memo *memo; /* named types already compiled (recursion, reuse) */
    size_t n_memo, cap_memo;
    int root, row;
    struct flat_schema_envelope env;
    struct envelope_slice *cols[2]; /* before, after */
};

/* ---- compiling ---------------------------------------------------------------------------- */

static int add_node(struct envelope_walker *w, enum kind kind, int64_t n, size_t kids)
{
    if (w->n_nodes == w->cap_nodes) {
        w->cap_nodes = w->cap_nodes ? 2 * w->cap_nodes : 32;
        w->nodes = xrealloc(w->nodes, w->cap_nodes * sizeof *w->nodes);
    }
    if (w->n_kids + kids > w->cap_kids) {
        while (w->n_kids + kids > w->cap_kids)
            w->cap_kids = w->cap_kids ? 2 * w->cap_kids : 64;
        w->kids = xrealloc(w->kids, w->cap_kids * sizeof *w->kids);
    }
    w->nodes[w->n_nodes] = (struct node){kind, n, w->n_kids};
    w->n_kids += kids;
    return (int)w->n_nodes++;
}

static void remember(struct envelope_walker *w, avro_schema_t s, int node)
{
    if (w->n_memo == w->cap_memo) {
        w->cap_memo = w->cap_memo ? 2 * w->cap_memo : 16;
        w->memo = xrealloc(w->memo, w->cap_memo * sizeof *w->memo);
    }
    w->memo[w->n_memo++] = (struct memo){s, node};
}

static int compile(struct envelope_walker *w, avro_schema_t s, int depth);

/* A node with N children, compiled from CHILD(S, i); named types are remembered first so that
 * a recursive reference finds them. */
static int compile_parent(struct envelope_walker *w, avro_schema_t s, enum kind kind, size_t n,
                          int depth)
{
    int node = add_node(w, kind, (int64_t)n, n);
    if (kind == K_RECORD)
        remember(w, s, node);
    for (size_t i = 0; i < n; i++) {
        avro_schema_t child = kind == K_RECORD  ? avro_schema_record_field_get_by_index(s, (int)i)
                              : kind == K_UNION ? avro_schema_union_branch(s, (int)i)
                              : kind == K_ARRAY ? avro_schema_array_items(s)
                                                : avro_schema_map_values(s);
        int k = compile(w, child, depth + 1);
        if (k < 0)
            return -1;
        w->kids[w->nodes[node].first + i] = k; /* by index: the arrays may have moved */
    }
    return node;
}

static int compile(struct envelope_walker *w, avro_schema_t s, int depth)
{
    if (!s || depth > MAX_DEPTH)
        return -1;
    if (avro_typeof(s) == AVRO_LINK)
        return compile(w, avro_schema_link_target(s), depth + 1);
    for (size_t i = 0; i < w->n_memo; i++)
        if (w->memo[i].schema == s)
            return w->memo[i].node;
    switch (avro_typeof(s)) {
    case AVRO_NULL: return add_node(w, K_NULL, 0, 0);
    case AVRO_BOOLEAN: return add_node(w, K_BOOL, 0, 0);
    case AVRO_INT32: return add_node(w, K_INT, 0, 0);
    case AVRO_INT64: return add_node(w, K_VARINT, 0, 0);
    case AVRO_FLOAT: return add_node(w, K_FLOAT, 0, 0);
    case AVRO_DOUBLE: return add_node(w, K_DOUBLE, 0, 0);
    case AVRO_STRING:
    case AVRO_BYTES: return add_node(w, K_SIZED, 0, 0);
    case AVRO_FIXED: return add_node(w, K_FIXED, avro_schema_fixed_size(s), 0);
    case AVRO_ENUM: return add_node(w, K_ENUM, avro_schema_enum_number_of_symbols(s), 0);
    case AVRO_RECORD: return compile_parent(w, s, K_RECORD, avro_schema_record_size(s), depth);
    case AVRO_UNION: return compile_parent(w, s, K_UNION, avro_schema_union_size(s), depth);
    case AVRO_ARRAY: return compile_parent(w, s, K_ARRAY, 1, depth);
    case AVRO_MAP: return compile_parent(w, s, K_MAP, 1, depth);
    default: return -1;
    }
}

/* The row record: the record branch of the after union. */
static int find_row(const struct envelope_walker *w)
{
    const struct node *root = &w->nodes[w->root];
    if (w->env.after < 0 || w->env.after >= root->n)
        return -1;
    const struct node *u = &w->nodes[w->kids[root->first + (size_t)w->env.after]];
    for (int64_t b = 0; u->kind == K_UNION && b < u->n; b++) {
        int k = w->kids[u->first + (size_t)b];
        if (w->nodes[k].kind == K_RECORD)
            return k;
    }
    return -1;
}

struct envelope_walker *envelope_walker_new(avro_schema_t schema,
                                            const struct flat_schema_envelope *env, char *errstr,
                                            size_t errstr_size)
{
    struct envelope_walker *w = xcalloc(1, sizeof *w);
    w->env = *env;
    w->root = compile(w, schema, 0);
    if (w->root < 0 || w->nodes[w->root].kind != K_RECORD || (w->row = find_row(w)) < 0) {
        snprintf(errstr, errstr_size,
                 "envelope schema cannot be walked: not a record with an after union holding "
                 "a record, or a type nested deeper than %d levels",
                 MAX_DEPTH);
        envelope_walker_destroy(w);
        return NULL;
    }
    size_t n = (size_t)w->nodes[w->row].n;
    w->cols[0] = xcalloc(n + 1, sizeof *w->cols[0]);
    w->cols[1] = xcalloc(n + 1, sizeof *w->cols[1]);
    free(w->memo); /* only needed while compiling */
    w->memo = NULL;
    return w;
}

void envelope_walker_destroy(struct envelope_walker *w)
{
    if (!w)
        return;
    free(w->nodes);
    free(w->kids);
    free(w->memo);
    free(w->cols[0]);
    free(w->cols[1]);
    free(w);
}

size_t envelope_walker_row_fields(const struct envelope_walker *w)
{
    return (size_t)w->nodes[w->row].n;
}

/* ---- walking ------------------------------------------------------------------------------ */

/* A union's branch index, checked against node U; returns the branch's node or -1. */
static int read_branch(const struct envelope_walker *w, struct avro_cursor *c, const struct node *u)
{
    int64_t b;
    if (avro_cursor_read_long(c, &b) < 0)
        return -1;
    if (b < 0 || b >= u->n)
        return avro_cursor_fail(c, "a union branch index is out of range");
    return w->kids[u->first + (size_t)b];
}

static int skip_node(const struct envelope_walker *w, struct avro_cursor *c, int node, int depth);

/* Arrays and maps: blocks of (count, items); a negative count -n is followed by the block's
 * size in bytes; a zero count ends the value. A map item is a string key, then the value. */
static int skip_blocks(const struct envelope_walker *w, struct avro_cursor *c,
                       const struct node *nd, int depth)
{
    int item = w->kids[nd->first];
    int64_t count;
    int more;
    while ((more = avro_cursor_block(c, &count)) > 0)
        for (int64_t i = 0; i < count; i++)
            if ((nd->kind == K_MAP && avro_cursor_sized(c, NULL, NULL) < 0) ||
                skip_node(w, c, item, depth + 1) < 0)
                return -1;
    return more;
}

static int skip_node(const struct envelope_walker *w, struct avro_cursor *c, int node, int depth)
{
    const struct node *nd = &w->nodes[node];
    int64_t n;
    size_t at, size;
    if (depth > MAX_DEPTH)
        return avro_cursor_fail(c, "values nest deeper than 64 levels");
    switch (nd->kind) {
    case K_NULL: return 0;
    case K_BOOL: return avro_cursor_skip(c, 1, "the data ends inside a boolean");
    case K_VARINT: return avro_cursor_read_long(c, &n);
    case K_INT:
        if (avro_cursor_read_long(c, &n) < 0)
            return -1;
        return n < INT32_MIN || n > INT32_MAX
                   ? avro_cursor_fail(c, "an int is out of the 32-bit range")
                   : 0;
    case K_FLOAT: return avro_cursor_skip(c, 4, "the data ends inside a float");
    case K_DOUBLE: return avro_cursor_skip(c, 8, "the data ends inside a double");
    case K_SIZED: return avro_cursor_sized(c, &at, &size);
    case K_FIXED: return avro_cursor_skip(c, nd->n, "the data ends inside a fixed");
    case K_ENUM:
        if (avro_cursor_read_long(c, &n) < 0)
            return -1;
        return n < 0 || n >= nd->n ? avro_cursor_fail(c, "an enum symbol index is out of range")
                                   : 0;
    case K_RECORD:
        for (int64_t i = 0; i < nd->n; i++)
            if (skip_node(w, c, w->kids[nd->first + (size_t)i], depth + 1) < 0)
                return -1;
        return 0;
    case K_UNION: {
        int b = read_branch(w, c, nd);
        return b < 0 ? -1 : skip_node(w, c, b, depth + 1);
    }
    case K_ARRAY:
    case K_MAP: return skip_blocks(w, c, nd, depth);
    }
    return avro_cursor_fail(c, "the schema has a type the walk does not know");
}

/* A row image field: ["null", row]; the row record's fields are located one by one. */
static int walk_image(const struct envelope_walker *w, struct avro_cursor *c, int node,
                      struct envelope_image *img, struct envelope_slice *cols)
{
    const struct node *u = &w->nodes[node];
    if (u->kind != K_UNION)
        return skip_node(w, c, node, 1);
    int b = read_branch(w, c, u);
    if (b < 0)
        return -1;
    if (b != w->row)
        return skip_node(w, c, b, 2);
    const struct node *row = &w->nodes[b];
    img->present = 1;
    img->row.off = c->pos;
    img->cols = cols;
    for (int64_t i = 0; i < row->n; i++) {
        cols[i].off = c->pos;
        if (skip_node(w, c, w->kids[row->first + (size_t)i], 3) < 0)
            return -1;
        cols[i].len = c->pos - cols[i].off;
    }
    img->row.len = c->pos - img->row.off;
    return 0;
}

/* A source field that holds a long (int or long, maybe in a union with null). */
static int capture_long(const struct envelope_walker *w, struct avro_cursor *c, int node,
                        int *state, int64_t *value)
{
    if (w->nodes[node].kind == K_UNION && (node = read_branch(w, c, &w->nodes[node])) < 0)
        return -1;
    enum kind k = w->nodes[node].kind;
    *state = k == K_VARINT || k == K_INT ? 1 : k == K_NULL ? 0 : -1;
    if (*state != 1)
        return skip_node(w, c, node, 3);
    if (avro_cursor_read_long(c, value) < 0)
        return -1;
    return k == K_INT && (*value < INT32_MIN || *value > INT32_MAX)
               ? avro_cursor_fail(c, "an int is out of the 32-bit range")
               : 0;
}

/* The source's table: a string (maybe in a union with null). */
static int capture_table(const struct envelope_walker *w, struct avro_cursor *c, int node,
                         struct envelope_view *v)
{
    size_t at, size;
    if (w->nodes[node].kind == K_UNION && (node = read_branch(w, c, &w->nodes[node])) < 0)
        return -1;
    if (w->nodes[node].kind != K_SIZED)
        return skip_node(w, c, node, 3);
    if (avro_cursor_sized(c, &at, &size) < 0)
        return -1;
    v->table = c->p + at;
    v->table_len = size;
    return 0;
}

static int walk_source(const struct envelope_walker *w, struct avro_cursor *c, int node,
                       struct envelope_view *v)
{
    const struct node *src = &w->nodes[node];
    const struct flat_schema_envelope *e = &w->env;
    if (src->kind != K_RECORD)
        return skip_node(w, c, node, 1);
    for (int i = 0; i < (int)src->n; i++) {
        int k = w->kids[src->first + (size_t)i], rc;
        if (i == e->src_ts_ms)
            rc = capture_long(w, c, k, &v->ts_state, &v->ts_ms);
        else if (i == e->src_txid)
            rc = capture_long(w, c, k, &v->txid_state, &v->txid);
        else if (i == e->src_lsn)
            rc = capture_long(w, c, k, &v->lsn_state, &v->lsn);
        else if (i == e->src_table)
            rc = capture_table(w, c, k, v);
        else
            rc = skip_node(w, c, k, 2);
        if (rc < 0)
            return -1;
    }
    return 0;
}

static int walk_op(const struct envelope_walker *w, struct avro_cursor *c, int node,
                   struct envelope_view *v)
{
    size_t at, size;
    if (w->nodes[node].kind != K_SIZED)
        return skip_node(w, c, node, 1);
    if (avro_cursor_sized(c, &at, &size) < 0)
        return -1;
    v->op = c->p + at;
    v->op_len = size;
    return 0;
}

/* The envelope datum, Avro binary (no framing; the Confluent header is gone): its fields in
 * schema order, each encoded as its type says, with nothing between them:
 *   before, after   a long union branch (zig-zag varint: 0 for null, or the row record's
 *                   index), then for the row its fields in order: the bytes copied verbatim
 *   source          the record's fields: ts_ms a long, table a long length + UTF-8 bytes, txId
 *                   and lsn a branch and (when not null) a long; the rest skipped
 *   op              a long length (2 for "c") + its bytes
 *   anything else   (ts_ms, Debezium's transaction block, ...) skipped by its type
 * and the datum ends exactly at the last field's last byte. */
int envelope_walk(struct envelope_walker *w, const void *datum, size_t len, struct envelope_view *v,
                  char *errstr, size_t errstr_size)
{
    struct avro_cursor c = {datum, len, 0, errstr, errstr_size};
    const struct node *root = &w->nodes[w->root];
    memset(v, 0, sizeof *v);
    for (int i = 0; i < (int)root->n; i++) {
        int k = w->kids[root->first + (size_t)i], rc;
        if (i == w->env.before)
            rc = walk_image(w, &c, k, &v->before, w->cols[0]);
        else if (i == w->env.after)
            rc = walk_image(w, &c, k, &v->after, w->cols[1]);
        else if (i == w->env.op)
            rc = walk_op(w, &c, k, v);
        else if (i == w->env.source)
            rc = walk_source(w, &c, k, v);
        else
            rc = skip_node(w, &c, k, 1);
        if (rc < 0)
            return -1;
    }
    if (c.pos != len) {
        snprintf(errstr, errstr_size, "corrupt Avro: %zu bytes left over after the datum's %zu",
                 len - c.pos, c.pos);
        return -1;
    }
    return 0;
}
