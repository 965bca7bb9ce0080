/* Trino statements of the catalog: table, columns, view, partitions. */
#include "catalog_jobs.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "log.h"

/* Runs SQL (freed here); ALLOW_ERROR (may be NULL) names a Trino error that counts as success.
 * Returns 0 or -1 with errstr. */
static int run(struct trino_client *c, char *sql, const char *allow_error, struct trino_result *r,
               struct sink_metrics *m, char *errstr, size_t errstr_size)
{
    atomic_fetch_add(&m->catalog_statements, 1);
    int rc = trino_execute(c, sql, r, errstr, errstr_size);
    if (rc == TRINO_ERR_QUERY && allow_error && strcmp(r->error_name, allow_error) == 0)
        rc = TRINO_OK;
    if (rc != TRINO_OK)
        atomic_fetch_add(&m->catalog_failures, 1);
    else
        log_debug("trino: %s", sql);
    free(sql);
    return rc == TRINO_OK ? 0 : -1;
}

/* True when ROWS (SHOW COLUMNS: [name, type, extra, comment]) has a column NAME. */
static int has_column(json_t *rows, const char *name)
{
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row)
    {
        const char *col = json_string_value(json_array_get(row, 0));
        if (col && strcasecmp(col, name) == 0)
            return 1;
    }
    return 0;
}

static int add_missing_columns(struct trino_client *c, const struct sink_table_def *d,
                               struct sink_metrics *m, char *errstr, size_t errstr_size)
{
    struct trino_result r = {0};
    int rc = run(c, sink_ddl_show_columns(d), NULL, &r, m, errstr, errstr_size);
    json_t *rows = r.rows ? json_incref(r.rows) : json_array();
    for (size_t i = 0; rc == 0 && i < d->value->n; i++) {
        if (!sink_ddl_is_data_column(d, i) || has_column(rows, d->value->names[i]))
            continue;
        log_info("adding column %s to %s.%s.%s", d->value->names[i], d->catalog, d->schema,
                 d->changes_name);
        rc = run(c, sink_ddl_add_column(d, i), NULL, &r, m, errstr, errstr_size);
    }
    json_decref(rows);
    trino_result_release(&r);
    return rc;
}

static void warn_unmapped(const struct sink_table_def *d)
{
    for (size_t i = 0; i < d->value->n; i++) {
        char *type = sink_ddl_column_type(d->value->children[i], d->format);
        if (!type)
            log_warn("column %s of %s has a type Trino cannot take from %s files; it stays in "
                     "the objects but not in the table",
                     d->value->names[i], d->changes_name,
                     d->format == SINK_FORMAT_JSON ? "JSON" : "Avro");
        free(type);
    }
}

int sink_catalog_ensure_table(struct trino_client *c, const struct sink_table_def *d, int sync,
                              struct sink_metrics *m, char *errstr, size_t errstr_size)
{
    struct trino_result r = {0};
    char why[256];
    int rc = run(c, sink_ddl_create_table(d), NULL, &r, m, errstr, errstr_size);
    if (rc == 0)
        rc = add_missing_columns(c, d, m, errstr, errstr_size);
    if (rc == 0) {
        char *view = sink_ddl_view(d, why, sizeof why);
        if (view)
            rc = run(c, view, NULL, &r, m, errstr, errstr_size);
        else
            log_warn("no view %s.%s.%s: %s", d->catalog, d->schema, d->view_name, why);
    }
    if (rc == 0 && sync && d->partition_mode != SINK_PARTITION_NONE)
        rc = run(c, sink_ddl_sync_partitions(d), NULL, &r, m, errstr, errstr_size);
    if (rc == 0 && sync)
        warn_unmapped(d);
    trino_result_release(&r);
    return rc;
}

int sink_catalog_register(struct trino_client *c, const struct sink_table_def *d, const char *path,
                          struct sink_metrics *m, char *errstr, size_t errstr_size)
{
    if (d->partition_mode == SINK_PARTITION_NONE || !*path)
        return 0;
    struct trino_result r = {0};
    int rc =
        run(c, sink_ddl_register_partition(d, path), "ALREADY_EXISTS", &r, m, errstr, errstr_size);
    trino_result_release(&r);
    if (rc == 0)
        atomic_fetch_add(&m->partitions_registered, 1);
    return rc;
}
