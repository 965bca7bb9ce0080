/* Records pgoutput messages from a real PostgreSQL server as unit-test fixtures: runs fixed SQL
 * scenarios against a temporary slot and writes each XLogData payload to
 * <dir>/<scenario>_<seq>_<type>.bin (at most a few per message type; see
 * tests/fixtures/pgoutput/README.md). Usage: salescdc-pgoutput-record CONNINFO DIR */
#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pgoutput.h"
#include "repl_proto.h"

struct scenario {
    const char *name;
    int keep_per_type;     /* files written per message type at most */
    const char *options;   /* START_REPLICATION options */
    const char *conn_opts; /* extra conninfo for the replication connection */
    const char *const *sql;
};

static const char *const setup_sql[] = {
    "DROP PUBLICATION IF EXISTS fx_pub",
    "DROP TABLE IF EXISTS fx_items, fx_full, fx_child, fx_parent",
    "DROP TYPE IF EXISTS fx_mood",
    "CREATE TYPE fx_mood AS ENUM ('happy', 'sad')",
    "CREATE TABLE fx_items (id int PRIMARY KEY, name text, price numeric(10,2), mood fx_mood, "
    "note text, born timestamptz)",
    "ALTER TABLE fx_items ALTER note SET STORAGE EXTERNAL",
    "CREATE TABLE fx_full (id int PRIMARY KEY, v text)",
    "ALTER TABLE fx_full REPLICA IDENTITY FULL",
    "CREATE TABLE fx_parent (id serial PRIMARY KEY)",
    "CREATE TABLE fx_child (id int PRIMARY KEY, pid int REFERENCES fx_parent)",
    "CREATE PUBLICATION fx_pub FOR TABLE fx_items, fx_full, fx_parent, fx_child",
    NULL,
};

static const char *const teardown_sql[] = {
    "DROP PUBLICATION IF EXISTS fx_pub",
    "DROP TABLE IF EXISTS fx_items, fx_full, fx_child, fx_parent",
    "DROP TYPE IF EXISTS fx_mood",
    NULL,
};

/* Every message type of proto_version 1 (Origin needs superuser for the origin functions). */
static const char *const v1_sql[] = {
    "INSERT INTO fx_items VALUES (1, 'Laptop', 499.99, 'happy', NULL, "
    "'2024-02-29 12:34:56.789+00')",
    "UPDATE fx_items SET name = 'Phone' WHERE id = 1",
    "UPDATE fx_items SET id = 2 WHERE id = 1",
    "INSERT INTO fx_items VALUES (3, 'Tablet', 10.00, 'sad', repeat('toast', 2000), NULL)",
    "UPDATE fx_items SET name = 'Charger' WHERE id = 3",
    "INSERT INTO fx_full VALUES (1, 'one')",
    "UPDATE fx_full SET v = 'uno' WHERE id = 1",
    "DELETE FROM fx_full WHERE id = 1",
    "DELETE FROM fx_items WHERE id = 2",
    "INSERT INTO fx_parent DEFAULT VALUES",
    "TRUNCATE fx_parent, fx_child RESTART IDENTITY CASCADE",
    "SELECT pg_logical_emit_message(true, 'fx', 'transactional')",
    "SELECT pg_logical_emit_message(false, 'fx', 'non-transactional')",
    "SELECT pg_replication_origin_create('fx_origin')",
    "SELECT pg_replication_origin_session_setup('fx_origin')",
    "BEGIN",
    "SELECT pg_replication_origin_xact_setup('0/12345678', '2024-01-01 00:00:00+00')",
    "INSERT INTO fx_items VALUES (4, 'Headphones', 25.50, NULL, NULL, NULL)",
    "COMMIT",
    "SELECT pg_replication_origin_session_reset()",
    "SELECT pg_replication_origin_drop('fx_origin')",
    NULL,
};

/* Streaming of in-progress transactions (proto_version 2, logical_decoding_work_mem 64kB):
 * a committed one, an aborted one, and one with an aborted subtransaction. */
static const char *const v2_sql[] = {
    "INSERT INTO fx_items SELECT g, 'row ' || g, g, NULL, NULL, NULL "
    "FROM generate_series(100, 2100) g",
    "BEGIN",
    "INSERT INTO fx_items SELECT g, 'row ' || g, g, NULL, NULL, NULL "
    "FROM generate_series(3000, 5000) g",
    "ROLLBACK",
    "BEGIN",
    "INSERT INTO fx_items SELECT g, 'row ' || g, g, NULL, NULL, NULL "
    "FROM generate_series(6000, 8000) g",
    "SAVEPOINT s1",
    "INSERT INTO fx_items SELECT g, 'row ' || g, g, NULL, NULL, NULL "
    "FROM generate_series(9000, 11000) g",
    "ROLLBACK TO SAVEPOINT s1",
    "COMMIT",
    NULL,
};

/* Values in the binary format (option binary 'true'). */
static const char *const bin_sql[] = {
    "INSERT INTO fx_items VALUES (5, 'Phone', 123.45, 'happy', NULL, "
    "'2001-02-03 04:05:06+00')",
    NULL,
};

static const struct scenario scenarios[] = {
    {"v1", 100, "proto_version '1', publication_names 'fx_pub', messages 'true'", "", v1_sql},
    {"v2", 3, "proto_version '2', publication_names 'fx_pub', streaming 'on', messages 'true'",
     " options='-c logical_decoding_work_mem=64kB'", v2_sql},
    {"bin", 100, "proto_version '1', publication_names 'fx_pub', binary 'true', messages 'true'",
     "", bin_sql},
};

static void die(const char *what, PGconn *c)
{
    fprintf(stderr, "pgoutput_record: %s: %s", what, c ? PQerrorMessage(c) : "failed\n");
    exit(1);
}

static void exec_all(PGconn *c, const char *const *sql)
{
    for (; *sql; sql++) {
        PGresult *res = PQexec(c, *sql);
        ExecStatusType st = PQresultStatus(res);
        if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
            die(*sql, c);
        PQclear(res);
    }
}

/* Writes one payload unless the scenario's quota for its type is used up. */
static void save(const char *dir, const struct scenario *s, int *seq, int *counts,
                 const struct pgoutput_msg *m, const char *data, size_t len)
{
    char path[512];
    if (counts[(unsigned char)m->type]++ >= s->keep_per_type)
        return;
    snprintf(path, sizeof path, "%s/%s_%03d_%c%s.bin", dir, s->name, (*seq)++, (char)m->type,
             m->type >= 'a' ? "_" : ""); /* lower-case types stay distinct on any file system */
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, len, f) != len || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* Reads the stream until the end marker message; returns the number of messages read. With
 * FX_TRACE set in the environment, prints the type and xid of every message. */
static int record_stream(PGconn *repl, const char *dir, const struct scenario *scenario)
{
    struct pgoutput_decoder *dec = pgoutput_decoder_new();
    int seq = 0, counts[256] = {0}, total = 0, done = 0;
    char err[512];
    while (!done) {
        char *buf = NULL;
        int n = PQgetCopyData(repl, &buf, 0);
        if (n < 0)
            die("read replication stream", repl);
        struct repl_proto_msg rm;
        struct pgoutput_msg m;
        if (repl_proto_parse(buf, (size_t)n, &rm, err, sizeof err) < 0 ||
            (rm.kind == REPL_PROTO_XLOGDATA &&
             pgoutput_decode(dec, rm.data, rm.len, &m, err, sizeof err) < 0)) {
            fprintf(stderr, "pgoutput_record: %s\n", err);
            exit(1);
        }
        if (rm.kind == REPL_PROTO_XLOGDATA) {
            total++;
            if (getenv("FX_TRACE"))
                printf("%c xid=%u\n", (char)m.type, m.xid);
            done = m.type == PGOUTPUT_MESSAGE && strcmp(m.u.message.prefix, "fx_end") == 0;
            if (!done)
                save(dir, scenario, &seq, counts, &m, rm.data, rm.len);
        }
        PQfreemem(buf);
    }
    pgoutput_decoder_destroy(dec);
    return total;
}

static void run_scenario(const char *conninfo, const char *dir, const struct scenario *s)
{
    char info[2048], sql[512];
    static const char *const end_sql[] = {"SELECT pg_logical_emit_message(false, 'fx_end', '')",
                                          NULL};
    snprintf(info, sizeof info, "%s replication=database%s", conninfo, s->conn_opts);
    PGconn *repl = PQconnectdb(info), *c = PQconnectdb(conninfo);
    if (PQstatus(repl) != CONNECTION_OK || PQstatus(c) != CONNECTION_OK)
        die("connect", PQstatus(repl) != CONNECTION_OK ? repl : c);
    snprintf(sql, sizeof sql, "CREATE_REPLICATION_SLOT fx_slot_%d TEMPORARY LOGICAL pgoutput",
             (int)getpid());
    const char *const slot_sql[] = {sql, NULL};
    exec_all(repl, slot_sql);
    exec_all(c, s->sql);
    exec_all(c, end_sql);
    snprintf(sql, sizeof sql, "START_REPLICATION SLOT fx_slot_%d LOGICAL 0/0 (%s)", (int)getpid(),
             s->options);
    PGresult *res = PQexec(repl, sql);
    if (PQresultStatus(res) != PGRES_COPY_BOTH)
        die(sql, repl);
    PQclear(res);
    printf("%s: %d messages\n", s->name, record_stream(repl, dir, s));
    PQfinish(repl);
    PQfinish(c);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr,
                "usage: %s CONNINFO DIR  (CONNINFO: a superuser, e.g. "
                "\"host=$SALESCDC_PG_SOCKET_DIR port=55432 dbname=salescdc user=postgres\")\n",
                argv[0]);
        return 2;
    }
    PGconn *c = PQconnectdb(argv[1]);
    if (PQstatus(c) != CONNECTION_OK)
        die("connect", c);
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++) {
        exec_all(c, setup_sql);
        run_scenario(argv[1], argv[2], &scenarios[i]);
    }
    exec_all(c, teardown_sql);
    PQfinish(c);
    return 0;
}
