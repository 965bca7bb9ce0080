/* The connector's plain SQL session: preflight checks with errors that name the fix, creation of
 * the publication, the slot's state, and catalog facts pgoutput does not send (primary key,
 * NOT NULL). */
#ifndef SALESCDC_PGCATALOG_H
#define SALESCDC_PGCATALOG_H

#include <libpq-fe.h>
#include <stddef.h>
#include <stdint.h>

#include "relcache.h"

/* A captured table: "schema.table" (or "table", meaning public) split. */
struct pgcatalog_table {
    char *schema, *name;
};

struct pgcatalog;

/* Connects a plain session with CONNINFO (borrowed). Returns it (caller frees with
 * pgcatalog_destroy()), or NULL with errstr naming the server and the cause. */
struct pgcatalog *pgcatalog_new(const char *conninfo, char *errstr, size_t errstr_size);
void pgcatalog_destroy(struct pgcatalog *cat);

/* Splits the comma-separated LIST into *TABLES (caller frees with pgcatalog_tables_free()).
 * Returns the count, or -1 with errstr naming the bad entry. */
int pgcatalog_parse_tables(const char *list, struct pgcatalog_table **tables, char *errstr,
                           size_t errstr_size);
void pgcatalog_tables_free(struct pgcatalog_table *tables, int n);

/* Checks what the connector needs of the server: wal_level=logical, REPLICATION privilege, each
 * table exists and can publish updates/deletes (a primary key or a usable REPLICA IDENTITY), and
 * a free replication slot if SLOT does not exist yet. Returns 0, or -1 with errstr naming the
 * problem and the fix. */
int pgcatalog_preflight(struct pgcatalog *cat, const struct pgcatalog_table *tables, int ntables,
                        const char *slot, char *errstr, size_t errstr_size);

/* Creates publication PUB for TABLES (or FOR ALL TABLES when ALL_TABLES) if it does not exist;
 * adds missing tables to an existing one. Returns 0, or -1 with errstr. */
int pgcatalog_ensure_publication(struct pgcatalog *cat, const char *pub,
                                 const struct pgcatalog_table *tables, int ntables, int all_tables,
                                 char *errstr, size_t errstr_size);

/* Returned by pgcatalog_slot_state() when another process streams from the slot. */
#define PGCATALOG_SLOT_BUSY (-2)

/* Looks up slot SLOT: returns 1 and sets *CONFIRMED (its confirmed_flush_lsn) when it exists and
 * is free, 0 when it does not exist; -1 with errstr when it belongs to another plugin or
 * database; PGCATALOG_SLOT_BUSY with errstr naming the process (pid, application name, address)
 * that streams from it. */
int pgcatalog_slot_state(struct pgcatalog *cat, const char *slot, uint64_t *confirmed, char *errstr,
                         size_t errstr_size);

/* Sets key (primary key columns; the replica identity when the table has none) and not_null of
 * REL's columns from the catalog. Returns 0, or -1 with errstr (the relation may be gone). */
int pgcatalog_describe(struct pgcatalog *cat, struct relcache_rel *rel, char *errstr,
                       size_t errstr_size);

/* The server version (e.g. 150020). */
int pgcatalog_server_version(const struct pgcatalog *cat);

/* Non-zero while the session's connection is up (a failed query on a live connection is the
 * user's to fix; on a lost one, retrying can help). */
int pgcatalog_connected(const struct pgcatalog *cat);

/* The database connected to (borrowed). */
const char *pgcatalog_dbname(const struct pgcatalog *cat);

/* Sets *LSN to the server's current WAL position. Returns 0 or -1 with errstr. */
int pgcatalog_current_wal_lsn(struct pgcatalog *cat, uint64_t *lsn, char *errstr,
                              size_t errstr_size);

/* Runs SQL (no parameters, any result discarded). Returns 0, or -1 with errstr "WHAT: cause". */
int pgcatalog_exec(struct pgcatalog *cat, const char *sql, const char *what, char *errstr,
                   size_t errstr_size);

/* Parses "X/Y" into an LSN; returns 0, or -1 if TEXT is not an LSN. */
int pgcatalog_parse_lsn(const char *text, uint64_t *lsn);

#endif
