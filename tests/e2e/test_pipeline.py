#!/usr/bin/env python3
"""End-to-end acceptance test of the whole pipeline on the local stack (issue 8):
salescdc-producer -> PostgreSQL -> salescdc-connector -> Kafka -> salescdc-transformer ->
salescdc-s3-sink -> S3 + Trino, against PostgreSQL as the ground truth.

The test runs a pipeline of its own beside anything else on the stack: its own PostgreSQL schema
(the producer's --pg.schema, the connector's --tables), slot and publication, topic prefix,
consumer groups and transactional id, S3 prefix and Trino table prefix. An AFTER ROW trigger
writes every change of <schema>.orders into <schema>.orders_audit (tools/compare_queries.py).

1. Clean run: a seeded producer run in seed mode (inserts, upserts that update, deletes), then
   one in lifecycle mode (status updates, deletes). Once Trino shows every change (bounded wait):
   - every analytics query (deploy/trino/queries) gives the same result on Trino as on
     PostgreSQL, value for value as text (decimals exact, scale included);
   - the view <prefix>orders equals <schema>.orders row for row (timestamps to the millisecond,
     the change table's precision);
   - <prefix>orders_changes holds exactly the audited changes: the same multiset of (orderid,
     op, xid, price, quantity, product, status), so no change is missing or duplicated;
   - the CDC and flat topics, read by an independent consumer (confluent-kafka, read_committed,
     values decoded by fastavro with schemas fetched from the registry by id), hold one envelope
     (CDC: plus a tombstone per delete) and one flat record per audited change, equal to it.
2. Crash run: both producer modes again, concurrently, while the connector, the transformer and
   the sink are each killed with SIGKILL mid-run and restarted; then all of the above again.
   (A connector without --exactly-once, i.e. before that mode landed, is at-least-once across a
   crash by design; it is then restarted with SIGTERM instead, and the test says so.)

Usage: test_pipeline.py PRODUCER CONNECTOR TRANSFORMER SINK  (environment: tests/run, or
`source .stack/env`; the test venv's python)
"""
import collections
import io
import json
import os
import pathlib
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

import fastavro
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "tools"))
import compare_queries as cq  # noqa: E402
import pipeline_reset  # noqa: E402

BROKERS = cq.env("SALESCDC_KAFKA_BROKERS")
REGISTRY = cq.env("SALESCDC_REGISTRY_URL")
RUN = f"e2e{os.getpid()}{uuid.uuid4().hex[:6]}"
SCHEMA, SLOT, PUB = f"{RUN}_s", f"{RUN}_slot", f"{RUN}_pub"
CDC = f"{RUN}.{SCHEMA}.orders"
FLAT = CDC + ".flat"
GROUPS = (f"{RUN}-transformer", f"{RUN}-sink")
S3_PREFIX = f"e2e/{RUN}"
TRINO_PREFIX = f"{RUN}_"
# The query files name hive.sales.orders; the sink names our tables <prefix><schema>_orders.
QUERY_PREFIX = f"{TRINO_PREFIX}{SCHEMA}_"
CHANGES = f"hive.sales.{QUERY_PREFIX}orders_changes"
VIEW = f"hive.sales.{QUERY_PREFIX}orders"
PARTITIONS = 2
WAIT_S = 150  # the bound of every wait
T0 = time.monotonic()


def log(msg):
    print(f"{time.strftime('%H:%M:%S')} +{time.monotonic() - T0:5.1f}s {msg}", flush=True)


def psql(sql):
    return cq.psql(sql)


def wait_for(what, predicate, timeout=WAIT_S, interval=0.3):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(interval)


# --- the programs ---------------------------------------------------------------------------

class Process:
    """A program under test, its output in a temporary file kept for the failure report."""

    def __init__(self, name, args):
        self.name, self.args, self.proc = name, args, None
        self.log = tempfile.NamedTemporaryFile(prefix=f"{RUN}-{name}-", suffix=".log",
                                               delete=False)

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=subprocess.STDOUT)
        return self

    def output(self):
        with open(self.log.name, errors="replace") as f:
            return f.read()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, sig=signal.SIGTERM):
        if self.running():
            self.proc.send_signal(sig)
        return self.proc.wait(WAIT_S)

    def metrics(self):
        """This instance's /metrics as {name{labels}: value} (its port is in its log)."""
        m = re.search(r"metrics on (http://[0-9.]+:[0-9]+)/metrics", self.output())
        if not m:
            return {}
        try:
            text = urllib.request.urlopen(m.group(1) + "/metrics", timeout=10).read().decode()
        except OSError:
            return {}
        return {k: float(v) for k, v in re.findall(r"^(\w+(?:\{[^}]*\})?) (\S+)$", text, re.M)}

    def close(self, show):
        if self.running():
            self.proc.kill()
            self.proc.wait(WAIT_S)
        if show:
            print(f"--- {self.name} log (tail) ---\n{self.output()[-5000:]}", file=sys.stderr)
        pathlib.Path(self.log.name).unlink(missing_ok=True)  # a process may be listed twice


class Pipeline:
    """The three services with this run's names; each can be killed and started again."""

    def __init__(self, bins):
        self.bins = bins
        help_text = subprocess.run([bins["connector"], "--help"], capture_output=True,
                                   text=True).stdout
        self.exactly_once = "--exactly-once" in help_text
        self.connector_http = ["--http.port", "0"] if "--http.port" in help_text else []
        self.procs, self.current = [], {}

    def args(self, service):
        b = self.bins[service]
        if service == "connector":
            return [b, "--slot", SLOT, "--publication", PUB, "--tables", f"{SCHEMA}.orders",
                    "--topic.prefix", RUN, "--registry.url", REGISTRY,
                    "--kafka.bootstrap.servers", BROKERS, "--status.interval.ms", "500",
                    *self.connector_http]
        common = ["--registry.url", REGISTRY, "--kafka.bootstrap.servers", BROKERS,
                  "--http.port", "0", "--kafka.session.timeout.ms", "6000",
                  "--kafka.topic.metadata.refresh.interval.ms", "2000"]
        if service == "transformer":
            return [b, "--topics", CDC, "--group.id", GROUPS[0], "--transaction.id",
                    f"{RUN}-txn", "--format", "avro", "--transaction.max.records", "200",
                    *common]
        return [b, "--topics.regex", FLAT, "--group.id", GROUPS[1], "--format", "json",
                "--s3.prefix", S3_PREFIX, "--trino.url", cq.env("SALESCDC_TRINO_URL"),
                "--trino.table.prefix", TRINO_PREFIX, "--flush.records", "700",
                "--rotate.interval.ms", "3000", "--flush.idle.ms", "1000", *common]

    def start(self, service):
        n = sum(1 for p in self.procs if p.name.startswith(service))
        p = Process(f"{service}-{n + 1}", self.args(service)).start()
        self.procs.append(p)
        self.current[service] = p
        return p

    def check_alive(self):
        for name, p in self.current.items():
            assert p.running(), f"{p.name} exited with {p.proc.returncode}:\n{p.output()[-3000:]}"


def run_producer(binary, *args):
    """Runs salescdc-producer to completion in the test schema; returns its summary fields."""
    p = subprocess.run([binary, "--pg.schema", SCHEMA, "--progress", "off", *args],
                       capture_output=True, text=True, timeout=WAIT_S)
    assert p.returncode == 0, f"producer {args}: exit {p.returncode}: {p.stderr}"
    return dict(re.findall(r"(\w+)=(\S+)", p.stdout))


def producer_process(binary, name, *args):
    return Process(name, [binary, "--pg.schema", SCHEMA, "--progress", "off", *args])


def wait_for_slot():
    """CREATE_REPLICATION_SLOT waits for every transaction running in the cluster to end."""
    wait_for(f"slot {SLOT} to be created and active", lambda: psql(
        f"SELECT active AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots "
        f"WHERE slot_name = '{SLOT}'") == "t")


# --- ground truth and what the pipeline made of it -------------------------------------------

def audit():
    """Every change as (orderid, op, xid, price, quantity, product_name, status), audit order."""
    rows = json.loads(psql(
        f"SELECT coalesce(json_agg(json_build_array(orderid, op, xid, image->>'price', "
        f"image->>'quantity', image->>'product_name', image->>'status') ORDER BY id), '[]') "
        f"FROM {SCHEMA}.orders_audit"))
    return [tuple(cq.cell(v) for v in r) for r in rows]


def trino_count(table):
    try:
        return int(cq.run_trino(f"SELECT count(*) FROM {table}")[1][0][0])
    except cq.QueryError as e:
        if "TABLE_NOT_FOUND" in str(e) or "does not exist" in str(e):
            return -1
        raise


def wait_drained(expected, pipeline):
    """Until Trino's change table holds EXPECTED rows (a bounded wait; fails on more)."""
    def caught_up():
        pipeline.check_alive()
        return trino_count(CHANGES) >= expected
    wait_for(f"{expected} rows in {CHANGES}", caught_up)
    n = trino_count(CHANGES)
    assert n == expected, f"{CHANGES} has {n} rows, {expected} changes were made"


def check_queries():
    queries = cq.load_queries()
    results = [cq.compare(q, SCHEMA, QUERY_PREFIX) for q in queries]
    bad = [r.describe() for r in results if not r.agree]
    assert not bad, "queries disagree between Trino and PostgreSQL:\n  " + "\n  ".join(bad)
    return len(results)


def check_view():
    cols = "orderid, product_name, quantity, price, customer_id, status"
    trino = cq.run_trino(f"SELECT {cols}, CAST(created_at AS varchar), "
                         f"CAST(updated_at AS varchar) FROM {VIEW} ORDER BY orderid")[1]
    # The change table's timestamps are timestamp(3): Hive's JSON reader rounds the µs.
    ts = lambda c: (f"to_char(date_trunc('milliseconds', {c} AT TIME ZONE 'UTC' + "
                    f"interval '500 microseconds'), 'YYYY-MM-DD HH24:MI:SS.MS')")
    pg = cq.run_postgres(f"SELECT {cols}, {ts('created_at')} AS created_at, "
                         f"{ts('updated_at')} AS updated_at FROM {SCHEMA}.orders "
                         f"ORDER BY orderid COLLATE \"C\"")[1]
    assert len(trino) == len(pg), f"view has {len(trino)} rows, the table {len(pg)}"
    for t, p in zip(trino, pg):
        assert t == p, f"view row {t} != table row {p}"
    return len(pg)


def check_changes(expected):
    rows = cq.run_trino(f"SELECT orderid, __op, __txid, CAST(price AS varchar), "
                        f"CAST(quantity AS varchar), product_name, status FROM {CHANGES}")[1]
    got, want = collections.Counter(map(tuple, rows)), collections.Counter(expected)
    assert got == want, (f"{CHANGES} != audit: missing {list((want - got).elements())[:5]}, "
                         f"extra {list((got - want).elements())[:5]}")


class Decoder:
    """Confluent wire format by hand (magic 0, 4-byte big-endian schema id, Avro binary), the
    writer schema fetched from the registry by id, the datum decoded by fastavro."""

    def __init__(self):
        self.schemas = {}

    def __call__(self, data):
        assert data[0] == 0 and len(data) >= 5, f"not Confluent-framed: {data[:8]!r}"
        sid = struct.unpack(">I", data[1:5])[0]
        if sid not in self.schemas:
            body = json.loads(urllib.request.urlopen(f"{REGISTRY}/schemas/ids/{sid}",
                                                     timeout=10).read())
            self.schemas[sid] = fastavro.parse_schema(json.loads(body["schema"]))
        buf = io.BytesIO(data[5:])
        datum = fastavro.schemaless_reader(buf, self.schemas[sid])
        assert buf.read() == b"", f"trailing bytes after a datum of schema {sid}"
        return datum


def read_topic(topic, expected):
    """Every committed record of TOPIC (read_committed, from the beginning) as (key, value)
    bytes, once each partition is at its end and at least EXPECTED records came."""
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"{RUN}-reader",
                  "enable.auto.commit": False, "enable.partition.eof": True,
                  "isolation.level": "read_committed"})
    try:
        md = c.list_topics(topic, timeout=10).topics[topic]
        parts = sorted(md.partitions)
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
        got, eof, deadline = [], set(), time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            m = c.poll(0.5)
            if m is None:
                continue
            if m.error():
                assert m.error().code() == -191, f"reading {topic}: {m.error()}"
                eof.add(m.partition())
                if len(got) >= expected and eof >= set(parts):
                    return got
                continue
            got.append((m.key(), m.value()))
            eof.discard(m.partition())
        raise AssertionError(f"reading {topic}: {len(got)} of {expected} records")
    finally:
        c.close()


def check_topics(expected):
    """The CDC topic: an envelope per change and a tombstone per delete; the flat topic: one
    record per change; both equal to the audit."""
    decode, deletes = Decoder(), sum(1 for e in expected if e[1] == "d")
    cdc = read_topic(CDC, len(expected) + deletes)
    envelopes, tombstones = [], 0
    for key, value in cdc:
        k = decode(key)
        if value is None:
            tombstones += 1
            continue
        e = decode(value)
        row = e["before"] if e["op"] == "d" else e["after"]
        assert e["op"] in "cud" and row is not None, e
        assert k == {"orderid": row["orderid"]}, (k, e)
        assert (e["source"]["schema"], e["source"]["table"]) == (SCHEMA, "orders"), e["source"]
        envelopes.append(image(row, e["op"], e["source"]["txId"]))
    assert tombstones == deletes, f"{CDC}: {tombstones} tombstones, {deletes} deletes"
    want = collections.Counter(expected)
    got = collections.Counter(envelopes)
    assert got == want, (f"{CDC} != audit: missing {list((want - got).elements())[:5]}, "
                         f"extra {list((got - want).elements())[:5]}")
    flat = [decode(v) for _, v in read_topic(FLAT, len(expected))]
    assert all(r["__deleted"] == (r["__op"] == "d") for r in flat)
    got = collections.Counter(image(r, r["__op"], r["__txid"]) for r in flat)
    assert got == want, (f"{FLAT} != audit: missing {list((want - got).elements())[:5]}, "
                         f"extra {list((got - want).elements())[:5]}")
    return len(cdc), len(flat)


def image(row, op, txid):
    return tuple(cq.cell(v) for v in (row["orderid"], op, txid, row["price"], row["quantity"],
                                      row["product_name"], row["status"]))


def verify(pipeline, phase):
    expected = audit()
    ops = collections.Counter(e[1] for e in expected)
    assert all(ops[o] for o in "cud"), f"every op must occur: {dict(ops)}"
    wait_drained(len(expected), pipeline)
    log(f"{phase}: Trino shows all {len(expected)} changes {dict(ops)}")
    n = check_queries()
    rows = check_view()
    check_changes(expected)
    cdc, flat = check_topics(expected)
    log(f"{phase}: {n} queries agree; view == table ({rows} rows); change table == audit; "
        f"{CDC}: {cdc} records, {FLAT}: {flat} records, all decoded and equal to the audit")


# --- the scenario ----------------------------------------------------------------------------

def clean_run(bins, pipeline):
    run_producer(bins["producer"], "--init", "--count", "0")
    psql(cq.audit_sql(SCHEMA))
    admin = AdminClient({"bootstrap.servers": BROKERS})
    admin.create_topics([NewTopic(CDC, PARTITIONS, 1)])[CDC].result(30)
    pipeline.start("connector")
    wait_for_slot()
    pipeline.start("transformer")
    pipeline.start("s3-sink")
    s = run_producer(bins["producer"], "--mode", "seed", "--rate", "0", "--count", "4000",
                     "--batch", "250", "--delete.percent", "10", "--seed", "21")
    log(f"seed run: inserted={s['inserted']} updated={s['updated']} deleted={s['deleted']}")
    s = run_producer(bins["producer"], "--mode", "lifecycle", "--rate", "0", "--count", "3000",
                     "--batch", "100", "--delete.percent", "5", "--seed", "22")
    log(f"lifecycle run: inserted={s['inserted']} updated={s['updated']} "
        f"deleted={s['deleted']}")
    verify(pipeline, "clean run")


def crash_run(bins, pipeline, procs):
    before = len(audit())
    seed = producer_process(bins["producer"], "seed-2", "--mode", "seed", "--rate", "1000",
                            "--count", "12000", "--batch", "50", "--delete.percent", "10",
                            "--seed", "31")
    life = producer_process(bins["producer"], "lifecycle-2", "--mode", "lifecycle", "--rate",
                            "400", "--count", "4800", "--batch", "20", "--delete.percent", "5",
                            "--seed", "32")
    procs.extend([seed, life])
    seed.start()
    life.start()
    written = lambda: int(psql(f"SELECT count(*) FROM {SCHEMA}.orders_audit")) - before
    for service, at in (("connector", 2000), ("s3-sink", 5000), ("transformer", 8000)):
        wait_for(f"{at} more changes", lambda: written() >= at)
        old = pipeline.current[service]
        if service == "s3-sink":  # kill it while it holds records it has not stored
            wait_for("the sink to buffer records", lambda: old.metrics().get(
                "salescdc_sink_buffered_records", 0) > 0, 30, 0.05)
        if service == "transformer":  # and this one inside a transaction of this run
            wait_for("the transformer to be at work", lambda: old.metrics().get(
                "salescdc_transformer_records_in_total", 0) > 0, 30, 0.05)
        assert seed.running(), "the producer finished before the kill: not mid-run"
        graceful = service == "connector" and not pipeline.exactly_once
        old.stop(signal.SIGTERM if graceful else signal.SIGKILL)
        log(f"{old.name} {'stopped (SIGTERM)' if graceful else 'killed -9'} after {written()} "
            f"changes of the run")
        pipeline.start(service)
        if service == "connector":
            wait_for_slot()
    assert seed.proc.wait(WAIT_S) == 0, seed.output()
    assert life.proc.wait(WAIT_S) == 0, life.output()
    log(f"crash run: producers done, {written()} changes")
    if not pipeline.exactly_once:
        log("NOTE: this connector has no --exactly-once (at-least-once across a crash by "
            "design), so it was restarted with SIGTERM rather than killed")
    verify(pipeline, "crash run")


def main():
    if len(sys.argv) != 5:
        raise SystemExit("usage: test_pipeline.py PRODUCER CONNECTOR TRANSFORMER SINK")
    bins = dict(zip(("producer", "connector", "transformer", "s3-sink"),
                    map(os.path.abspath, sys.argv[1:])))
    pipeline, procs, ok = Pipeline(bins), [], False
    log(f"run {RUN}: schema {SCHEMA}, topics {CDC}[.flat], s3://.../{S3_PREFIX}/, "
        f"Trino {CHANGES}")
    try:
        clean_run(bins, pipeline)
        crash_run(bins, pipeline, procs)
        ok = True
    finally:
        for p in pipeline.procs:
            if p.running():
                p.stop()
        for p in dict.fromkeys(pipeline.procs + procs):  # each process once
            p.close(show=not ok)
        if ok or not os.environ.get("SALESCDC_E2E_KEEP"):
            pipeline_reset.reset(SCHEMA, SLOT, PUB, RUN, S3_PREFIX, TRINO_PREFIX, GROUPS)
    print(f"1 passed, 0 failed ({time.monotonic() - T0:.0f} s)")


if __name__ == "__main__":
    main()
