/* salescdc-producer against the local stack's PostgreSQL: schema set-up, seed and lifecycle
 * semantics, reproducibility, exact counts across killed connections and lost COMMIT replies,
 * SIGTERM, and clear errors for bad input. Each case works in its own schema. */
#include <errno.h>
#include <fcntl.h>
#include <libpq-fe.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "itest.h"

extern char **environ;

#define MAX_ARGS 40

static const char *conninfo;
static PGconn *db;
static char tmpdir[64];
static pid_t running;        /* the producer started last, if still running */
static char schemas[32][64]; /* created by this run, dropped at exit even after a failure */
static int n_schemas;

/* A producer process: its stdout/stderr go to files read after it exits. */
struct proc {
    pid_t pid;
    char out_path[128], err_path[128];
    char out[8192], err[8192];
    int status; /* exit code, or 128 + signal */
};

static const char *producer_bin(void)
{
    static char path[4096];
    const char *env = getenv("SALESCDC_PRODUCER_BIN");
    if (env && *env)
        return env;
    ssize_t n = readlink("/proc/self/exe", path, sizeof path - 32);
    ITEST_CHECK(n > 0, "cannot find my own path");
    path[n] = '\0';
    strcpy(strrchr(path, '/') + 1, "salescdc-producer");
    return path;
}

/* Starts the producer with the NULL-terminated ARGS. */
static void start(struct proc *p, const char **args)
{
    static int seq;
    const char *argv[MAX_ARGS + 2] = {producer_bin()};
    for (int i = 0; args[i]; i++) {
        ITEST_CHECK(i < MAX_ARGS, "too many arguments");
        argv[i + 1] = args[i];
    }
    seq++;
    snprintf(p->out_path, sizeof p->out_path, "%s/out.%d", tmpdir, seq);
    snprintf(p->err_path, sizeof p->err_path, "%s/err.%d", tmpdir, seq);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 1, p->out_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 2, p->err_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int rc = posix_spawn(&p->pid, argv[0], &fa, NULL, (char **)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    ITEST_CHECK(rc == 0, "spawn %s: %s", argv[0], strerror(rc));
    running = p->pid;
}

static void slurp(const char *path, char *buf, size_t size)
{
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, size - 1, f) : 0;
    buf[n] = '\0';
    if (f)
        fclose(f);
    unlink(path);
}

/* Waits (bounded) for P to exit and reads its output. */
static void finish(struct proc *p, int timeout_s)
{
    time_t deadline = time(NULL) + timeout_s;
    int st;
    for (;;) {
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        if (r == p->pid)
            break;
        if (time(NULL) > deadline) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            ITEST_CHECK(0, "producer did not exit within %d s", timeout_s);
        }
        usleep(20000);
    }
    running = 0;
    p->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    slurp(p->out_path, p->out, sizeof p->out);
    slurp(p->err_path, p->err, sizeof p->err);
}

/* Runs the producer to completion and returns its exit code. */
static int run(struct proc *p, const char **args)
{
    start(p, args);
    finish(p, 180);
    return p->status;
}

/* The value of KEY in the summary line. */
static unsigned long long summary(const struct proc *p, const char *key)
{
    const char *line = strstr(p->out, "summary ");
    ITEST_CHECK(line, "no summary line; stdout: %s stderr: %s", p->out, p->err);
    char pat[64];
    snprintf(pat, sizeof pat, " %s=", key);
    const char *v = strstr(line, pat);
    ITEST_CHECK(v, "summary lacks %s: %s", key, line);
    return strtoull(v + strlen(pat), NULL, 10);
}

static void sql(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sql(const char *fmt, ...)
{
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(db, text);
    ExecStatusType st = PQresultStatus(res);
    ITEST_CHECK(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK, "%s: %s", text,
                PQerrorMessage(db));
    PQclear(res);
}

/* Runs a one-value query; returns the value as text (static buffer; "" for NULL). */
static const char *value(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *value(const char *fmt, ...)
{
    static char out[1024];
    char text[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    PGresult *res = PQexec(db, text);
    ITEST_CHECK(PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1, "%s: %s", text,
                PQerrorMessage(db));
    snprintf(out, sizeof out, "%s", PQgetvalue(res, 0, 0));
    PQclear(res);
    return out;
}

#define NUMBER(...) strtoull(value(__VA_ARGS__), NULL, 10)

/* A fresh schema name for one case. */
static const char *fresh_schema(const char *name)
{
    ITEST_CHECK(n_schemas < 32, "too many schemas");
    char *s = schemas[n_schemas++];
    snprintf(s, 64, "producer_it_%d_%s", (int)getpid(), name);
    sql("DROP SCHEMA IF EXISTS %s CASCADE", s);
    return s;
}

/* At exit, also after a failed check: stop the producer and drop every schema made. */
static void clean_up(void)
{
    if (running > 0) {
        kill(running, SIGKILL);
        waitpid(running, NULL, 0);
    }
    for (int i = 0; i < n_schemas; i++) {
        char text[160];
        snprintf(text, sizeof text, "DROP SCHEMA IF EXISTS %.63s CASCADE", schemas[i]);
        PQclear(PQexec(db, text));
    }
    PQfinish(db);
    rmdir(tmpdir);
}

static void drop_schema(const char *schema)
{
    sql("DROP SCHEMA IF EXISTS %s CASCADE", schema);
}

/* Creates the tables of SCHEMA with the producer itself (--init --count 0). */
static void init_schema(const char *schema)
{
    struct proc p;
    const char *args[] = {"--pg.schema", schema, "--init", "--count", "0", NULL};
    ITEST_CHECK(run(&p, args) == 0, "--init failed: %s", p.err);
}

/* Records every row change of SCHEMA.orders (op, old status, new status) in SCHEMA.audit, in
 * the writing transaction: what committed is exactly what the audit holds. */
static void add_audit(const char *schema)
{
    sql("CREATE TABLE %s.audit (op text, old_status text, new_status text)", schema);
    sql("CREATE FUNCTION %s.audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN"
        " INSERT INTO %s.audit VALUES (left(TG_OP, 1),"
        " CASE WHEN TG_OP <> 'INSERT' THEN OLD.status END,"
        " CASE WHEN TG_OP <> 'DELETE' THEN NEW.status END); RETURN NULL; END $$",
        schema, schema);
    sql("CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON %s.orders"
        " FOR EACH ROW EXECUTE FUNCTION %s.audit_fn()",
        schema, schema);
}

/* The summary's counts equal what the audit trigger saw commit, and the table agrees. */
static void check_summary_matches_audit(const struct proc *p, const char *schema)
{
    unsigned long long ins = summary(p, "inserted"), upd = summary(p, "updated"),
                       del = summary(p, "deleted");
    unsigned long long a_ins = NUMBER("SELECT count(*) FROM %s.audit WHERE op = 'I'", schema);
    unsigned long long a_upd = NUMBER("SELECT count(*) FROM %s.audit WHERE op = 'U'", schema);
    unsigned long long a_del = NUMBER("SELECT count(*) FROM %s.audit WHERE op = 'D'", schema);
    ITEST_CHECK(ins == a_ins && upd == a_upd && del == a_del,
                "summary inserted/updated/deleted %llu/%llu/%llu but committed %llu/%llu/%llu", ins,
                upd, del, a_ins, a_upd, a_del);
    unsigned long long rows = NUMBER("SELECT count(*) FROM %s.orders", schema);
    ITEST_CHECK(rows == ins - del, "table has %llu rows, summary says %llu - %llu", rows, ins, del);
    unsigned long long total = ins + upd + del + summary(p, "unchanged");
    ITEST_CHECK(total == summary(p, "orders"), "counts add up to %llu, orders=%llu", total,
                summary(p, "orders"));
}

static void test_init_is_idempotent(void)
{
    const char *s = fresh_schema("init");
    init_schema(s);
    init_schema(s);
    ITEST_CHECK(
        strcmp(value("SELECT relreplident FROM pg_class WHERE oid = '%s.orders'::regclass", s),
               "f") == 0,
        "orders is not REPLICA IDENTITY FULL");
    ITEST_CHECK(NUMBER("SELECT count(*) FROM %s.products", s) == 5, "products");
    ITEST_CHECK(NUMBER("SELECT count(*) FROM %s.customers", s) == 1000, "customers");
    ITEST_CHECK(NUMBER("SELECT count(*) FROM %s.orders", s) == 0, "orders not empty");
    drop_schema(s);
    printf("ok: --init twice creates the tables once, REPLICA IDENTITY FULL\n");
}

static void test_seed_mode_upserts_in_range(void)
{
    const char *s = fresh_schema("seed");
    struct proc p;
    const char *args[] = {"--pg.schema", s,         "--init", "--rate", "0", "--count",
                          "30000",       "--batch", "4000",   "--seed", "7", NULL};
    ITEST_CHECK(run(&p, args) == 0, "exit %d: %s", p.status, p.err);
    unsigned long long ins = summary(&p, "inserted"), upd = summary(&p, "updated");
    unsigned long long rows = NUMBER("SELECT count(*) FROM %s.orders", s);
    ITEST_CHECK(ins + upd == 30000 && upd > 0, "inserted %llu updated %llu", ins, upd);
    ITEST_CHECK(rows == ins && rows <= 10000, "%llu rows, %llu inserted", rows, ins);
    ITEST_CHECK(NUMBER("SELECT count(*) FROM %s.orders WHERE NOT (orderid ~ '^[1-9][0-9]{0,4}$'"
                       " AND orderid::int <= 10000 AND product_name IN ('Laptop', 'Phone',"
                       " 'Tablet', 'Headphones', 'Charger') AND quantity BETWEEN 1 AND 5 AND"
                       " price BETWEEN 10.00 AND 500.00 AND customer_id BETWEEN 1 AND 1000 AND"
                       " status = 'placed' AND updated_at >= created_at)",
                       s) == 0,
                "rows with values out of range");
    ITEST_CHECK(NUMBER("SELECT count(DISTINCT product_name) FROM %s.orders", s) == 5, "products");
    ITEST_CHECK(NUMBER("SELECT count(*) FROM %s.orders o JOIN %s.products USING (product_name)"
                       " JOIN %s.customers USING (customer_id)",
                       s, s, s) == rows,
                "orders that do not join products and customers");
    drop_schema(s);
    printf("ok: seed mode: %llu inserted, %llu updated, all values in range\n", ins, upd);
}

static void test_seed_mode_deletes_are_counted(void)
{
    const char *s = fresh_schema("seeddel");
    init_schema(s);
    add_audit(s);
    struct proc p;
    const char *args[] = {"--pg.schema", s,      "--rate",           "0",  "--count", "20000",
                          "--batch",     "3000", "--delete.percent", "20", NULL};
    ITEST_CHECK(run(&p, args) == 0, "exit %d: %s", p.status, p.err);
    check_summary_matches_audit(&p, s);
    ITEST_CHECK(summary(&p, "deleted") > 0 && summary(&p, "unchanged") > 0, "no deletes");
    drop_schema(s);
    printf("ok: seed mode with deletes: summary equals the committed changes\n");
}

static void test_lifecycle_makes_only_valid_transitions(void)
{
    const char *s = fresh_schema("life");
    init_schema(s);
    add_audit(s);
    struct proc p;
    const char *args[] = {"--pg.schema", s,       "--mode",  "lifecycle", "--rate",           "0",
                          "--count",     "40000", "--batch", "3000",      "--delete.percent", "5",
                          NULL};
    ITEST_CHECK(run(&p, args) == 0, "exit %d: %s", p.status, p.err);
    check_summary_matches_audit(&p, s);
    unsigned long long bad =
        NUMBER("SELECT count(*) FROM %s.audit WHERE (op = 'U' AND (old_status, new_status) NOT IN"
               " (('placed', 'paid'), ('placed', 'cancelled'), ('paid', 'shipped'),"
               " ('paid', 'cancelled'), ('shipped', 'delivered'))) OR (op = 'I' AND new_status <> "
               "'placed')",
               s);
    ITEST_CHECK(bad == 0, "%llu invalid status changes", bad);
    ITEST_CHECK(NUMBER("SELECT count(DISTINCT (old_status, new_status)) FROM %s.audit"
                       " WHERE op = 'U'",
                       s) == 5,
                "not every transition occurred");
    ITEST_CHECK(summary(&p, "deleted") > 0, "no deletes");
    drop_schema(s);
    printf("ok: lifecycle mode: only valid transitions, all five of them\n");
}

/* A digest of SCHEMA.orders: every column, or all but the timestamps. */
static char *digest(const char *schema, int with_timestamps)
{
    return strdup(value(
        "SELECT md5(coalesce(string_agg(concat_ws('|', orderid, product_name, quantity, price,"
        " customer_id, status %s), E'\\n' ORDER BY orderid), '')) FROM %s.orders",
        with_timestamps ? ", created_at, updated_at" : "", schema));
}

static char *produce_digest(const char *name, const char *mode, const char *seed, const char *batch,
                            const char *time_start)
{
    const char *s = fresh_schema(name);
    struct proc p;
    const char *args[] = {"--pg.schema", s,
                          "--init",      "--rate",
                          "0",           "--count",
                          "6000",        "--mode",
                          mode,          "--seed",
                          seed,          "--batch",
                          batch,         "--delete.percent",
                          "10",          time_start ? "--time.start" : NULL,
                          time_start,    NULL};
    ITEST_CHECK(run(&p, args) == 0, "exit %d: %s", p.status, p.err);
    char *d = digest(s, time_start != NULL);
    drop_schema(s);
    return d;
}

static void test_same_seed_gives_identical_tables(void)
{
    const char *t0 = "2024-01-01T00:00:00Z";
    const char *modes[] = {"seed", "lifecycle"};
    for (int m = 0; m < 2; m++) {
        char *a = produce_digest("repa", modes[m], "99", "7", t0);
        char *b = produce_digest("repb", modes[m], "99", "5000", t0);
        char *c = produce_digest("repc", modes[m], "100", "5000", t0);
        char *d = produce_digest("repd", modes[m], "99", "700", NULL);
        char *e = produce_digest("repe", modes[m], "99", "13", NULL);
        ITEST_CHECK(strcmp(a, b) == 0, "%s: same seed, other batch size, different rows", modes[m]);
        ITEST_CHECK(strcmp(a, c) != 0, "%s: another seed gave the same rows", modes[m]);
        ITEST_CHECK(strcmp(d, e) == 0, "%s: now() timestamps: other values differ", modes[m]);
        free(a), free(b), free(c), free(d), free(e);
    }
    printf("ok: --seed reproduces tables byte for byte (timestamps too with --time.start)\n");
}

/* Waits (bounded) until SCHEMA.audit holds at least N rows while P still runs. */
static void wait_for_rows(const struct proc *p, const char *schema, unsigned long long n)
{
    time_t deadline = time(NULL) + 60;
    while (NUMBER("SELECT count(*) FROM %s.audit", schema) < n) {
        ITEST_CHECK(waitpid(p->pid, NULL, WNOHANG) == 0, "producer exited early");
        ITEST_CHECK(time(NULL) < deadline, "fewer than %llu changes after 60 s", n);
        usleep(20000);
    }
}

static void test_killed_connections_lose_and_duplicate_nothing(void)
{
    const char *s = fresh_schema("kill");
    init_schema(s);
    add_audit(s);
    char app[64], info[2048];
    snprintf(app, sizeof app, "producer_it_%d", (int)getpid());
    snprintf(info, sizeof info, "%s application_name=%s", conninfo, app);
    struct proc p;
    const char *args[] = {"--pg.conninfo",
                          info,
                          "--pg.schema",
                          s,
                          "--delete.percent",
                          "10",
                          "--rate",
                          "4000",
                          "--count",
                          "16000",
                          "--batch",
                          "400",
                          NULL};
    start(&p, args);
    int kills = 0;
    for (unsigned long long at = 2000; at <= 8000; at += 3000) {
        wait_for_rows(&p, s, at);
        kills += (int)NUMBER("SELECT count(*) FROM (SELECT pg_terminate_backend(pid)"
                             " FROM pg_stat_activity WHERE application_name = '%s') t",
                             app);
    }
    finish(&p, 120);
    ITEST_CHECK(p.status == 0, "exit %d: %s", p.status, p.err);
    ITEST_CHECK(kills == 3 && summary(&p, "reconnects") >= 3, "kills %d, reconnects %llu", kills,
                summary(&p, "reconnects"));
    ITEST_CHECK(summary(&p, "orders") == 16000, "orders=%llu", summary(&p, "orders"));
    check_summary_matches_audit(&p, s);
    drop_schema(s);
    printf("ok: 3 killed connections: %llu retries, counts exact\n", summary(&p, "retries"));
}

static void test_lost_commit_replies_are_resolved_exactly(void)
{
    const char *s = fresh_schema("commit");
    init_schema(s);
    add_audit(s);
    struct proc p;
    const char *args[] = {"--pg.schema",
                          s,
                          "--mode",
                          "lifecycle",
                          "--rate",
                          "0",
                          "--count",
                          "20000",
                          "--batch",
                          "1000",
                          "--pg.fault.commit.lost.every",
                          "3",
                          NULL};
    ITEST_CHECK(run(&p, args) == 0, "exit %d: %s", p.status, p.err);
    /* every 3rd COMMIT: alternately committed (resolved as such) and rolled back (retried) */
    ITEST_CHECK(summary(&p, "commits_resolved") >= 6 && summary(&p, "retries") >= 3,
                "resolved %llu retries %llu", summary(&p, "commits_resolved"),
                summary(&p, "retries"));
    ITEST_CHECK(summary(&p, "transactions") == 20, "transactions=%llu",
                summary(&p, "transactions"));
    check_summary_matches_audit(&p, s);
    drop_schema(s);
    printf("ok: %llu lost COMMIT replies resolved, counts exact\n",
           summary(&p, "commits_resolved"));
}

static void test_sigterm_commits_and_exits_zero(void)
{
    const char *s = fresh_schema("term");
    init_schema(s);
    add_audit(s);
    struct proc p;
    const char *args[] = {"--pg.schema", s, "--rate", "500", NULL}; /* no limit */
    start(&p, args);
    wait_for_rows(&p, s, 300);
    kill(p.pid, SIGTERM);
    finish(&p, 30);
    ITEST_CHECK(p.status == 0, "exit %d after SIGTERM: %s", p.status, p.err);
    check_summary_matches_audit(&p, s);
    ITEST_CHECK(summary(&p, "orders") >= 300, "orders=%llu", summary(&p, "orders"));
    drop_schema(s);
    printf("ok: SIGTERM: exit 0 after %llu orders, summary exact\n", summary(&p, "orders"));
}

static int count_lines(const char *text)
{
    int n = 0;
    for (; *text; text++)
        n += *text == '\n';
    return n;
}

/* Runs ARGS, expecting exit code CODE and one stderr line containing WANT. */
static void expect_error(int code, const char *want, const char **args)
{
    struct proc p;
    run(&p, args);
    ITEST_CHECK(p.status == code, "%s %s: exit %d, expected %d: %s", args[0], args[1], p.status,
                code, p.err);
    ITEST_CHECK(strstr(p.err, want), "stderr lacks '%s': %s", want, p.err);
    ITEST_CHECK(count_lines(p.err) == 1, "expected one error line: %s", p.err);
    ITEST_CHECK(!strstr(p.err, "secretpw"), "password printed: %s", p.err);
}

static void test_bad_input_fails_with_one_clear_line(void)
{
    const char *s = fresh_schema("bad");
    const char *mode[] = {"--mode", "bogus", NULL};
    expect_error(2, "option mode: 'bogus' is not one of seed, lifecycle", mode);
    const char *rate[] = {"--rate", "-1", NULL};
    expect_error(2, "option rate: -1 is outside", rate);
    const char *unreachable[] = {"--pg.conninfo",
                                 "host=127.0.0.1 port=1 dbname=x user=x password=secretpw", NULL};
    expect_error(1, "connect to PostgreSQL (host 127.0.0.1 port 1", unreachable);
    char wrong_pw[2048];
    snprintf(wrong_pw, sizeof wrong_pw, "%s password=secretpw", conninfo);
    const char *auth[] = {"--pg.conninfo", wrong_pw, NULL};
    expect_error(1, "password authentication failed", auth);
    const char *missing[] = {"--pg.schema", s, "--count", "1", NULL};
    expect_error(1, "does not exist; create it with --init", missing);
    const char *denied[] = {"--pg.schema", "pg_catalog", "--init", "--count", "1", NULL};
    expect_error(1, "permission denied", denied);
    printf("ok: bad mode, negative rate, unreachable server, wrong password, missing tables and "
           "missing privileges each fail with one line\n");
}

int main(void)
{
    conninfo = itest_env("SALESCDC_PG_CONNINFO");
    db = PQconnectdb(conninfo);
    ITEST_CHECK(PQstatus(db) == CONNECTION_OK, "connect: %s", PQerrorMessage(db));
    PQclear(PQexec(db, "SET client_min_messages = warning"));
    strcpy(tmpdir, "/tmp/salescdc-producer-it-XXXXXX");
    ITEST_CHECK(mkdtemp(tmpdir), "mkdtemp: %s", strerror(errno));
    atexit(clean_up);
    test_init_is_idempotent();
    test_seed_mode_upserts_in_range();
    test_seed_mode_deletes_are_counted();
    test_lifecycle_makes_only_valid_transitions();
    test_same_seed_gives_identical_tables();
    test_killed_connections_lose_and_duplicate_nothing();
    test_lost_commit_replies_are_resolved_exactly();
    test_sigterm_commits_and_exits_zero();
    test_bad_input_fails_with_one_clear_line();
    return 0;
}
