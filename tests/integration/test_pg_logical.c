/* Smoke test: libpq creates a logical slot on a pgoutput publication and reads one change. */
#include <libpq-fe.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

struct reader {
    const unsigned char *p, *end;
};

static uint64_t read_u(struct reader *r, int bytes)
{
    ITEST_CHECK(r->end - r->p >= bytes, "pgoutput message truncated");
    uint64_t v = 0;
    for (int i = 0; i < bytes; i++)
        v = v << 8 | *r->p++;
    return v;
}

static const char *read_str(struct reader *r)
{
    const char *s = (const char *)r->p;
    size_t n = strnlen(s, (size_t)(r->end - r->p));
    ITEST_CHECK(r->p + n < r->end, "unterminated string in pgoutput message");
    r->p += n + 1;
    return s;
}

static void exec_ok(PGconn *c, const char *sql)
{
    PGresult *res = PQexec(c, sql);
    ExecStatusType st = PQresultStatus(res);
    ITEST_CHECK(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", sql, PQerrorMessage(c));
    PQclear(res);
}

static PGconn *connect_or_fail(const char *conninfo)
{
    PGconn *c = PQconnectdb(conninfo);
    ITEST_CHECK(PQstatus(c) == CONNECTION_OK, "connect: %s", PQerrorMessage(c));
    return c;
}

/* Waits (bounded) for the next CopyData message of the replication stream. */
static int next_copy_data(PGconn *repl, char **buf, time_t deadline)
{
    for (;;) {
        int n = PQgetCopyData(repl, buf, 1);
        if (n != 0)
            return n;
        ITEST_CHECK(time(NULL) < deadline, "no change arrived from the slot within 60 s");
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(PQsocket(repl), &fds);
        struct timeval tv = {1, 0};
        select(PQsocket(repl) + 1, &fds, NULL, NULL, &tv);
        ITEST_CHECK(PQconsumeInput(repl), "read replication stream: %s", PQerrorMessage(repl));
    }
}

/* Decodes one pgoutput Insert (tuple of two text columns) and checks its values. */
static void check_insert(struct reader *r, uint32_t relid, const char *want_name)
{
    ITEST_CHECK(read_u(r, 4) == relid, "insert for an unexpected relation");
    ITEST_CHECK(read_u(r, 1) == 'N', "insert without new tuple");
    ITEST_CHECK(read_u(r, 2) == 2, "insert tuple should have 2 columns");
    const char *want[2] = {"42", want_name};
    for (int i = 0; i < 2; i++) {
        ITEST_CHECK(read_u(r, 1) == 't', "column %d is not sent as text", i);
        uint32_t len = (uint32_t)read_u(r, 4);
        ITEST_CHECK(len == strlen(want[i]) && memcmp(r->p, want[i], len) == 0,
                    "column %d is '%.*s', expected '%s'", i, (int)len, (const char *)r->p, want[i]);
        r->p += len;
    }
}

/* Reads the stream until the Commit of the transaction holding our Insert; returns inserts seen. */
static int read_one_change(PGconn *repl, const char *table, const char *want_name)
{
    time_t deadline = time(NULL) + 60;
    uint32_t relid = 0;
    int inserts = 0, committed = 0;
    while (!committed) {
        char *buf = NULL;
        int n = next_copy_data(repl, &buf, deadline);
        ITEST_CHECK(n > 0, "replication stream ended: %s", PQerrorMessage(repl));
        struct reader r = {(unsigned char *)buf, (unsigned char *)buf + n};
        if (read_u(&r, 1) == 'w') {
            r.p += 24; /* dataStart, walEnd, sendTime */
            switch (read_u(&r, 1)) {
            case 'R':
                relid = (uint32_t)read_u(&r, 4);
                ITEST_CHECK(strcmp(read_str(&r), "public") == 0, "relation namespace");
                ITEST_CHECK(strcmp(read_str(&r), table) == 0, "relation name");
                break;
            case 'I':
                check_insert(&r, relid, want_name);
                inserts++;
                break;
            case 'C': committed = inserts > 0; break;
            }
        }
        PQfreemem(buf);
    }
    return inserts;
}

int main(void)
{
    const char *conninfo = itest_env("SALESCDC_PG_CONNINFO");
    char sql[512], table[64], pub[64], slot[64], name[64], repl_info[1024];
    snprintf(table, sizeof table, "smoke_%d", (int)getpid());
    snprintf(pub, sizeof pub, "smoke_pub_%d", (int)getpid());
    snprintf(slot, sizeof slot, "smoke_slot_%d", (int)getpid());
    snprintf(name, sizeof name, "gadget-%ld", (long)time(NULL));
    snprintf(repl_info, sizeof repl_info, "%s replication=database", conninfo);

    PGconn *sqlc = connect_or_fail(conninfo);
    snprintf(sql, sizeof sql, "CREATE TABLE %s (id int primary key, name text)", table);
    exec_ok(sqlc, sql);
    snprintf(sql, sizeof sql, "CREATE PUBLICATION %s FOR TABLE %s", pub, table);
    exec_ok(sqlc, sql);

    PGconn *repl = connect_or_fail(repl_info);
    snprintf(sql, sizeof sql, "CREATE_REPLICATION_SLOT %s TEMPORARY LOGICAL pgoutput", slot);
    exec_ok(repl, sql);
    snprintf(sql, sizeof sql, "INSERT INTO %s VALUES (42, '%s')", table, name);
    exec_ok(sqlc, sql);

    snprintf(sql, sizeof sql,
             "START_REPLICATION SLOT %s LOGICAL 0/0 (proto_version '1', publication_names '%s')",
             slot, pub);
    PGresult *res = PQexec(repl, sql);
    ITEST_CHECK(PQresultStatus(res) == PGRES_COPY_BOTH, "%s: %s", sql, PQerrorMessage(repl));
    PQclear(res);
    int inserts = read_one_change(repl, table, name);
    ITEST_CHECK(inserts == 1, "expected exactly 1 insert, got %d", inserts);
    PQfinish(repl); /* the temporary slot goes with the connection */

    snprintf(sql, sizeof sql, "DROP PUBLICATION %s", pub);
    exec_ok(sqlc, sql);
    snprintf(sql, sizeof sql, "DROP TABLE %s", table);
    exec_ok(sqlc, sql);
    PQfinish(sqlc);
    printf("ok: slot %s on publication %s delivered the insert of '%s'\n", slot, pub, name);
    return 0;
}
