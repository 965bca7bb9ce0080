#!/usr/bin/env python3
"""Chaos test: exactly-once from a PostgreSQL commit to Trino under kill -9 and restarts.

Runs the demo's pipeline (deploy/local/pipeline: connector, transformer, S3 sink) on the local
stack under a seeded salescdc-producer load (lifecycle mode: inserts, updates, deletes) and, every
few seconds, injects one fault chosen by the seed; one cycle is one fault plus the wait until
every service answers again. The faults hit only processes of this worktree's stack and
pipeline, by the pid in their pid file (.stack/run/<service>.pid):

  kill9-connector, kill9-transformer, kill9-sink, kill9-registry   SIGKILL, then start again
  restart-kafka        the broker stopped (SIGTERM, or SIGKILL by the seed) and started again
  restart-s3           the S3 server (MinIO) killed and started again
  restart-postgres     fast (SIGINT) or immediate (SIGQUIT) shutdown of the postmaster, restart
  pause-connector, pause-transformer, pause-sink   SIGSTOP for 12-20 s, then SIGCONT: longer
                       than the Kafka transaction and session timeouts (10 s here)
  pause-kafka          the broker SIGSTOPped for 12-20 s (commits time out: indefinite errors)
  midcommit-connector, midcommit-transformer
                       gdb stops the program at rd_kafka_commit_transaction(); the broker is
                       SIGSTOPped, the program continues into the commit (the EndTxn request goes
                       out), is killed with SIGKILL while it waits for the answer, and the
                       broker is resumed: a commit whose client died mid-way
  commitdone-connector, commitdone-transformer
                       gdb lets rd_kafka_commit_transaction() return, then kills the program
                       before it acts on the result (Kafka committed, the program never knew)

A program that exits by itself is started again (the harness is its supervisor, as systemd
would be) and counted; the connector, the transformer and the sink must never need that (each
recovers in-process; the sink too survives a lost group membership). Ground truth:
public.orders_audit, filled by an AFTER ROW trigger on public.orders
(tools/compare_queries.py --install-audit; not in the publication). Once the load has stopped
and the pipeline has drained, the run passes only if:
  - hive.sales.orders_changes holds exactly the audit's multiset of changes, compared on
    (orderid, op, txid, price, quantity, product_name, status, customer_id): nothing lost,
    nothing duplicated;
  - the view hive.sales.orders equals public.orders row for row;
  - sales.public.orders (CDC, one envelope per change plus a tombstone per delete) and
    sales.public.orders.flat, read from the beginning with isolation.level=read_committed by a
    consumer of our own (confluent-kafka; fastavro with the registry's schemas), hold each
    change once;
  - the slot's retained WAL (pg_current_wal_lsn() - confirmed_flush_lsn) is back under a bound.
It prints one summary line (cycles, faults by kind, changes, lost, duplicated) and exits 1 with
a sample of the differences otherwise.

WARNING: it starts from nothing (tools/pipeline_reset.py: the demo's tables, slot, topics,
objects and Trino tables are dropped) and restarts the stack's services.
Settings from the environment (`source .stack/env`, with the stack's ports).
"""
import argparse
import collections
import json
import os
import pathlib
import random
import signal
import subprocess
import sys
import time
import urllib.request

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools"))
sys.path.insert(0, str(ROOT / "tests" / "e2e"))
import compare_queries as cq  # noqa: E402

STACK, PIPELINE = str(ROOT / "deploy/local/stack"), str(ROOT / "deploy/local/pipeline")
STATE = pathlib.Path(os.environ.get("SALESCDC_STACK_DIR", ROOT / ".stack"))
BUILD = pathlib.Path(os.environ.get("SALESCDC_BUILD_DIR", ROOT / "build"))
PIPELINE_SERVICES = ("connector", "transformer", "s3-sink")
CDC, FLAT = "sales.public.orders", "sales.public.orders.flat"
CHANGES, VIEW = "hive.sales.orders_changes", "hive.sales.orders"
KINDS = ("kill9-connector", "kill9-transformer", "kill9-sink", "kill9-registry", "restart-kafka",
         "restart-s3", "restart-postgres", "pause-connector", "pause-transformer", "pause-sink",
         "pause-kafka", "midcommit-connector", "midcommit-transformer", "commitdone-connector",
         "commitdone-transformer")
# Short Kafka timeouts, so that a pause of 12-20 s outlives a transaction (the broker aborts it
# and fences the producer) and a consumer's session (the group rebalances).
PROGRAM_ENV = {"SALESCDC_KAFKA__TRANSACTION_TIMEOUT_MS": "10000",
               "SALESCDC_KAFKA__SESSION_TIMEOUT_MS": "10000"}
WAL_BOUND = 16 << 20
T0 = time.monotonic()


def log(msg):
    print(f"{time.strftime('%H:%M:%S')} +{time.monotonic() - T0:6.1f}s chaos: {msg}", flush=True)


class ChaosError(Exception):
    pass


# --- processes of the stack and the pipeline, by pid file ------------------------------------

def pid_of(service):
    """The live pid recorded in .stack/run/SERVICE.pid, or None."""
    try:
        pid = int((STATE / "run" / f"{service}.pid").read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid if not zombie(pid) else None


def zombie(pid):
    try:
        return pathlib.Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] == "Z"
    except OSError:
        return True


def wait_gone(pid, timeout=90):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        # Gone only once reaped: a killed process's leader thread shows Z while its other
        # threads still exit, and the stack's scripts would take it for alive (kill -0).
        try:
            os.kill(pid, 0)
        except OSError:
            return
        time.sleep(0.1)
    raise ChaosError(f"pid {pid} still alive {timeout}s after it was told to go")


def script(cmd, *args, env=None, check=True, timeout=300):
    p = subprocess.run([cmd, *args], capture_output=True, text=True, timeout=timeout,
                       env={**os.environ, **(env or {})})
    if check and p.returncode != 0:
        raise ChaosError(f"{os.path.basename(cmd)} {' '.join(args)}: exit {p.returncode}: "
                         f"{p.stderr.strip()[-1500:]}")
    return p.returncode == 0


def stack_up(service):
    script(STACK, "up", service)


def pipeline_up(*services):
    return script(PIPELINE, "up", *services, env=PROGRAM_ENV, check=False)


def signal_pid(pid, sig):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        pass


class Supervisor:
    """Starts the pipeline's programs and starts again any that exited on its own."""

    def __init__(self):
        self.known = {}  # service -> pid we started or saw started
        self.exits = collections.Counter()

    def start_all(self):
        if not pipeline_up(*PIPELINE_SERVICES):
            raise ChaosError("deploy/local/pipeline up failed; see .stack/logs/")
        for s in PIPELINE_SERVICES:
            self.known[s] = pid_of(s)
        log("pipeline up: " + ", ".join(f"{s}={p}" for s, p in self.known.items()))

    def restart(self, service):
        """Start SERVICE again after we killed it (returns once it answers)."""
        for _ in range(5):
            if pipeline_up(service) and pid_of(service):
                break
            time.sleep(2)
        self.known[service] = pid_of(service)

    def check(self, expected_down=()):
        """Restarts programs that exited without being told to; stack services likewise."""
        for s in ("postgres", "kafka", "registry", "s3"):
            if s not in expected_down and not pid_of(s):
                log(f"stack service {s} is down: starting it")
                self.exits[s] += 1
                stack_up(s)
        for s in PIPELINE_SERVICES:
            if s in expected_down or pid_of(s):
                continue
            self.exits[s] += 1
            log(f"{s} (pid {self.known.get(s)}) exited on its own: {last_lines(s, 3)}; "
                f"starting it again")
            self.restart(s)

    def stop_all(self):
        script(PIPELINE, "down", check=False)


def last_lines(service, n):
    try:
        lines = (STATE / "logs" / f"{service}.log").read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return " | ".join(ln[-300:] for ln in lines[-n:])


# --- faults ----------------------------------------------------------------------------------

class Faults:
    def __init__(self, rng, sup):
        self.rng, self.sup = rng, sup
        self.done = collections.Counter()

    def run(self, kind):
        what, target = kind.split("-", 1)
        target = "s3-sink" if target == "sink" else target
        detail = getattr(self, what)(target)
        self.done[kind] += 1
        return detail

    def kill9(self, service):
        pid = self.need(service)
        signal_pid(pid, signal.SIGKILL)
        wait_gone(pid)
        if service in PIPELINE_SERVICES:
            self.sup.restart(service)
        else:
            stack_up(service)
        return f"pid {pid} killed -9, now pid {pid_of(service)}"

    def restart(self, service):
        pid = self.need(service)
        if service == "postgres":
            sig = self.rng.choice((signal.SIGINT, signal.SIGQUIT))  # fast / immediate
            how = "fast" if sig == signal.SIGINT else "immediate"
        elif service == "kafka":
            sig = self.rng.choice((signal.SIGTERM, signal.SIGKILL))
            how = "SIGTERM" if sig == signal.SIGTERM else "SIGKILL"
        else:
            sig, how = signal.SIGKILL, "SIGKILL"
        signal_pid(pid, sig)
        wait_gone(pid)
        time.sleep(self.rng.uniform(0.5, 3))
        stack_up(service)
        return f"pid {pid} stopped ({how}), now pid {pid_of(service)}"

    def pause(self, service):
        pid = self.need(service)
        seconds = self.rng.uniform(12, 20)
        signal_pid(pid, signal.SIGSTOP)
        try:
            time.sleep(seconds)
        finally:
            signal_pid(pid, signal.SIGCONT)
        return f"pid {pid} stopped for {seconds:.1f}s"

    def midcommit(self, service):
        return self.gdb_commit(service, finish=False)

    def commitdone(self, service):
        return self.gdb_commit(service, finish=True)

    def gdb_commit(self, service, finish):
        """Stops SERVICE at rd_kafka_commit_transaction() with gdb. FINISH: lets the commit
        return and kills the program (gdb's kill is SIGKILL). Else: stops the broker, lets the
        program go into the commit, and kills it while it waits for the broker's answer."""
        pid, kafka = self.need(service), self.need("kafka")
        cmds = ["set pagination off", "set confirm off", "handle all nostop noprint pass",
                "break rd_kafka_commit_transaction", "continue"]
        cmds += ["finish", "kill"] if finish else [f"shell kill -STOP {kafka}", "detach"]
        args = ["gdb", "-q", "-nx", "-batch", "-p", str(pid)]
        for c in cmds:
            args += ["-ex", c]
        try:
            p = subprocess.run(args, capture_output=True, text=True, timeout=60)
            hit = "Breakpoint 1," in p.stdout
        except subprocess.TimeoutExpired:
            hit = False
        if not finish:
            time.sleep(self.rng.uniform(0.2, 1.5))
        signal_pid(pid, signal.SIGKILL)
        wait_gone(pid)
        if not finish:
            signal_pid(kafka, signal.SIGCONT)
        self.sup.restart(service)
        where = "after the commit returned" if finish else "inside the commit, broker stopped"
        return (f"pid {pid} killed {where}" if hit else
                f"pid {pid} killed (the breakpoint was not reached)")

    def need(self, service):
        pid = pid_of(service)
        if not pid:
            self.sup.check()
            pid = pid_of(service)
        if not pid:
            raise ChaosError(f"{service} is not running, so it cannot be faulted")
        return pid


# --- ground truth and checks -----------------------------------------------------------------

KEY_COLUMNS = ("orderid", "op", "txid", "price", "quantity", "product_name", "status",
               "customer_id")


def audit():
    rows = json.loads(cq.psql(
        "SELECT coalesce(json_agg(json_build_array(orderid, op, xid, image->>'price', "
        "image->>'quantity', image->>'product_name', image->>'status', image->>'customer_id') "
        "ORDER BY id), '[]') FROM public.orders_audit", timeout=300))
    return [tuple(cq.cell(v) for v in r) for r in rows]


def trino_changes():
    rows = cq.run_trino(f"SELECT orderid, __op, CAST(__txid AS varchar), CAST(price AS varchar), "
                        f"CAST(quantity AS varchar), product_name, status, "
                        f"CAST(customer_id AS varchar) FROM {CHANGES}")[1]
    return [tuple(r) for r in rows]


def trino_count():
    try:
        return int(cq.run_trino(f"SELECT count(*) FROM {CHANGES}")[1][0][0])
    except cq.QueryError as e:
        if "TABLE_NOT_FOUND" in str(e) or "does not exist" in str(e):
            return -1
        raise


def diff(name, want, got):
    """(lost, duplicated, lines) of multiset GOT against WANT."""
    w, g = collections.Counter(want), collections.Counter(got)
    missing, extra = list((w - g).elements()), list((g - w).elements())
    lines = []
    if missing or extra:
        lines.append(f"{name}: {len(missing)} missing, {len(extra)} extra "
                     f"({len(got)} rows, {len(want)} expected); key {KEY_COLUMNS}")
        lines += [f"  missing {m}" for m in missing[:8]] + [f"  extra   {e}" for e in extra[:8]]
    return len(missing), len(extra), lines


def check_view():
    cols = "orderid, product_name, quantity, price, customer_id, status"
    trino = cq.run_trino(f"SELECT {cols}, CAST(created_at AS varchar), "
                         f"CAST(updated_at AS varchar) FROM {VIEW} ORDER BY orderid")[1]
    ts = lambda c: (f"to_char(date_trunc('milliseconds', {c} AT TIME ZONE 'UTC' + "
                    f"interval '500 microseconds'), 'YYYY-MM-DD HH24:MI:SS.MS')")
    pg = cq.run_postgres(f"SELECT {cols}, {ts('created_at')} AS created_at, "
                         f"{ts('updated_at')} AS updated_at FROM public.orders "
                         f"ORDER BY orderid COLLATE \"C\"")[1]
    bad = [f"  view {t} != table {p}" for t, p in zip(trino, pg) if t != p][:8]
    if len(trino) != len(pg) or bad:
        tk, pk = {r[0] for r in trino}, {r[0] for r in pg}
        return [f"{VIEW}: {len(trino)} rows, public.orders {len(pg)}; only in the view: "
                f"{sorted(tk - pk)[:8]}, only in the table: {sorted(pk - tk)[:8]}"] + bad
    return []


def read_committed(topic, timeout=120):
    """Every committed record of TOPIC from the beginning, as (key, value) bytes."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": cq.env("SALESCDC_KAFKA_BROKERS"),
                  "group.id": f"salescdc-chaos-reader-{os.getpid()}", "enable.auto.commit": False,
                  "enable.partition.eof": True, "isolation.level": "read_committed",
                  "log_level": 3})
    try:
        parts = sorted(c.list_topics(topic, timeout=30).topics[topic].partitions)
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        got, eof, deadline = [], set(), time.monotonic() + timeout
        while eof != set(parts):
            if time.monotonic() > deadline:
                raise ChaosError(f"reading {topic}: no end reached within {timeout}s")
            for m in c.consume(1000, 0.5):
                if m.error():
                    if m.error().code() != -191:  # _PARTITION_EOF
                        raise ChaosError(f"reading {topic}: {m.error()}")
                    eof.add(m.partition())
                    continue
                eof.discard(m.partition())
                got.append((m.key(), m.value()))
        return got
    finally:
        c.close()


def topic_images(decode, image):
    """CDC envelopes and flat records as audit keys, plus the CDC topic's tombstone count."""
    cdc, tombstones = [], 0
    for key, value in read_committed(CDC):
        if value is None:
            tombstones += 1
            continue
        e = decode(value)
        row = e["before"] if e["op"] == "d" else e["after"]
        cdc.append(image(row, e["op"], e["source"]["txId"]))
    flat = [decode(v) for _, v in read_committed(FLAT)]
    return cdc, tombstones, [image(r, r["__op"], r["__txid"]) for r in flat]


def key_image(row, op, txid):
    return tuple(cq.cell(v) for v in (row["orderid"], op, txid, row["price"], row["quantity"],
                                      row["product_name"], row["status"], row["customer_id"]))


def retained_wal():
    v = cq.psql("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), confirmed_flush_lsn)::bigint "
                "FROM pg_replication_slots WHERE slot_name = 'salescdc'")
    return int(v) if v else None


# --- the run ---------------------------------------------------------------------------------

def reset_and_start(sup):
    import pipeline_reset
    log("stopping the pipeline and resetting its state (tools/pipeline_reset.py)")
    sup.stop_all()
    for s in ("postgres", "kafka", "registry", "s3", "trino"):
        if not pid_of(s):
            stack_up(s)
    pipeline_reset.reset()
    p = subprocess.run([str(BUILD / "salescdc-producer"), "--init", "--count", "0",
                        "--progress", "off"], capture_output=True, text=True)
    if p.returncode != 0:
        raise ChaosError(f"salescdc-producer --init: {p.stderr.strip()}")
    cq.psql(cq.audit_sql("public"))
    sup.start_all()


def start_producer(seed, rate):
    args = [str(BUILD / "salescdc-producer"), "--mode", "lifecycle", "--rate", str(rate),
            "--batch", "20", "--delete.percent", "5", "--seed", str(seed), "--progress", "off",
            "--pg.reconnect.timeout", "300"]
    logf = open(STATE / "logs" / "chaos-producer.log", "a")
    return subprocess.Popen(args, stdout=logf, stderr=subprocess.STDOUT)


def sleep_supervised(sup, seconds, producer):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        time.sleep(min(1.0, max(0.0, end - time.monotonic())))
        sup.check()
        if producer.poll() is not None:
            raise ChaosError(f"the producer exited with {producer.returncode}; see "
                             f"{STATE}/logs/chaos-producer.log")


def drain(sup, expected, timeout):
    """Until Trino shows EXPECTED changes and the count holds still for a while."""
    deadline, last, stable_since = time.monotonic() + timeout, None, None
    while time.monotonic() < deadline:
        sup.check()
        try:
            n = trino_count()
        except cq.QueryError as e:
            log(f"drain: {e}")
            n = None
        if n != last:
            log(f"drain: {n} of {expected} changes in {CHANGES}")
            last, stable_since = n, time.monotonic()
        elif n is not None and n >= expected and time.monotonic() - stable_since >= 8:
            return n
        time.sleep(2)
    return last


def verify(sup, decoder_image):
    want = audit()
    ops = collections.Counter(e[1] for e in want)
    log(f"load stopped: {len(want)} changes audited {dict(ops)}; draining")
    n = drain(sup, len(want), 600)
    problems, lost, dup = [], 0, 0
    changes = trino_changes()
    lost, dup, lines = diff(CHANGES, want, changes)
    problems += lines
    problems += check_view()
    decode, image = decoder_image
    cdc, tombstones, flat = topic_images(decode, image)
    for name, got in ((CDC, cdc), (FLAT, flat)):
        lo, du, lines = diff(name, want, got)
        problems += lines
        lost, dup = max(lost, lo), max(dup, du)
    if tombstones != ops["d"]:
        problems.append(f"{CDC}: {tombstones} tombstones for {ops['d']} deletes")
    wal = None
    for _ in range(60):
        wal = retained_wal()
        if wal is not None and wal < WAL_BOUND:
            break
        time.sleep(1)
    if wal is None or wal >= WAL_BOUND:
        problems.append(f"slot salescdc retains {wal} bytes of WAL (bound {WAL_BOUND})")
    # Every program must recover in-process (the registry is not a pipeline program).
    for s in ("connector", "transformer", "s3-sink"):
        if sup.exits[s]:
            problems.append(f"{s} exited on its own {sup.exits[s]} time(s) instead of "
                            f"recovering; see {STATE}/logs/{s}.log")
    log(f"checked: {CHANGES} {n} rows, {CDC} {len(cdc)} envelopes + {tombstones} tombstones, "
        f"{FLAT} {len(flat)} records, retained WAL {wal} bytes")
    return len(want), lost, dup, problems


def main():
    ap = argparse.ArgumentParser(
        prog="tests/chaos/run", formatter_class=argparse.RawDescriptionHelpFormatter,
        description=__doc__)
    ap.add_argument("--cycles", type=int, default=10, help="faults to inject (default 10)")
    ap.add_argument("--seed", type=int, default=None, help="random seed (default: random, "
                    "printed); the same seed gives the same faults and load")
    ap.add_argument("--rate", type=int, default=400,
                    help="producer operations per second (default 400)")
    ap.add_argument("--interval", type=float, nargs=2, default=(3.0, 6.0), metavar=("MIN", "MAX"),
                    help="seconds of load between faults (default 3 6)")
    ap.add_argument("--kinds", default=",".join(KINDS),
                    help="comma-separated fault kinds to draw from (default: all)")
    a = ap.parse_args()
    if a.cycles < 0:
        ap.error("--cycles must be 0 or more")
    kinds = [k for k in a.kinds.split(",") if k]
    unknown = [k for k in kinds if k not in KINDS]
    if unknown or not kinds:
        ap.error(f"unknown fault kind {unknown} (known: {', '.join(KINDS)})")
    seed = a.seed if a.seed is not None else random.randrange(1 << 31)
    rng = random.Random(seed)
    cq.env("SALESCDC_PG_CONNINFO")
    import test_pipeline as tp  # the e2e test's Decoder (registry + fastavro)

    sup = Supervisor()
    faults = Faults(rng, sup)
    producer = None
    log(f"seed {seed}, {a.cycles} cycles, kinds: {', '.join(kinds)}")
    try:
        reset_and_start(sup)
        producer = start_producer(seed, a.rate)
        order = []
        for i in range(a.cycles):
            if not order:
                order = rng.sample(kinds, len(kinds))
            kind = order.pop()
            sleep_supervised(sup, rng.uniform(*a.interval), producer)
            written = cq.psql("SELECT count(*) FROM public.orders_audit")
            t = time.monotonic()
            detail = faults.run(kind)
            sup.check()
            log(f"cycle {i + 1}/{a.cycles}: {kind}: {detail}; recovered in "
                f"{time.monotonic() - t:.1f}s ({written} changes written before it)")
        sleep_supervised(sup, rng.uniform(*a.interval), producer)
        producer.send_signal(signal.SIGTERM)
        if producer.wait(120) != 0:
            raise ChaosError(f"the producer exited with {producer.returncode}")
        changes, lost, dup, problems = verify(sup, (tp.Decoder(), key_image))
    except ChaosError as e:
        changes, lost, dup, problems = -1, -1, -1, [str(e)]
    finally:
        if producer and producer.poll() is None:
            producer.kill()
        sup.stop_all()
    kinds_done = ",".join(f"{k}={n}" for k, n in sorted(faults.done.items())) or "none"
    exits = ",".join(f"{k}={n}" for k, n in sorted(sup.exits.items())) or "none"
    print(f"chaos: seed={seed} cycles={a.cycles} faults[{kinds_done}] self-exits[{exits}] "
          f"changes={changes} lost={lost} duplicated={dup} "
          f"{'OK' if not problems else 'FAILED'} in {time.monotonic() - T0:.0f}s", flush=True)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        for s in PIPELINE_SERVICES:
            print(f"--- {STATE}/logs/{s}.log (last lines) ---\n{last_lines(s, 15)}",
                  file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
