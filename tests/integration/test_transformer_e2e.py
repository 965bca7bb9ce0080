#!/usr/bin/env python3
"""End-to-end check of salescdc-transformer behind the real chain, with an independent reader.

salescdc-producer writes orders into a private schema (seed mode: upserts and deletes; lifecycle
mode: status updates and deletes), the test adds SQL of its own (a multi-row update, a
primary-key change, boundary decimals, a rolled-back transaction), and an AFTER ROW trigger
records every change in an audit table. salescdc-connector (own slot, publication and topic
prefix) streams the changes to a two-partition CDC topic; salescdc-transformer flattens them.
A read_committed confluent-kafka consumer with Confluent's AvroDeserializer then checks that the
flat topic holds exactly one record per audited change (a primary-key change is a delete and a
create), per key in the audit's order, with values equal to PostgreSQL's (decimals exact,
timestamps to the microsecond) and the xid of the change. Also: poisoned records (random bytes
written by the test into the CDC topic) land unchanged in the dead-letter topic with their
headers while good records keep flowing, and a kill -9 of the transformer mid-stream followed by
a restart loses and duplicates nothing (dead letters included).

Usage: test_transformer_e2e.py PRODUCER_BIN CONNECTOR_BIN TRANSFORMER_BIN
(environment from tests/run, or `. .stack/env`; the test venv's python)
"""
import datetime
import decimal
import json
import os
import random
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

from confluent_kafka import OFFSET_BEGINNING, Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext

PG = os.environ["SALESCDC_PG_CONNINFO"]
BROKERS = os.environ["SALESCDC_KAFKA_BROKERS"]
REGISTRY = os.environ["SALESCDC_REGISTRY_URL"]
RUN = f"ite2e{os.getpid()}{uuid.uuid4().hex[:6]}"
SCHEMA, SLOT, PUB, PREFIX = f"{RUN}_s", f"{RUN}_slot", f"{RUN}_pub", RUN
CDC = f"{PREFIX}.{SCHEMA}.orders"
FLAT, DLQ = CDC + ".flat", CDC + ".dlq"
GROUP, TXID = f"{RUN}-group", f"{RUN}-txn"
PARTITIONS = 2
EPOCH = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
COLUMNS = ("orderid", "product_name", "quantity", "price", "customer_id", "status", "created_at",
           "updated_at")
# Every wait is bounded, and all of them together too, so that the clean-up (up to ~50 s) still
# runs before CTest's 300 s timeout would kill the test.
WAIT_S = 60
DEADLINE = time.monotonic() + 220


def log(msg):
    print(f"{time.strftime('%H:%M:%S')} {msg}", flush=True)


def psql(sql):
    out = subprocess.run(["psql", PG, "-X", "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                         capture_output=True, text=True, timeout=WAIT_S)
    return out.stdout.strip()


def wait_for(what, predicate, timeout=WAIT_S, step=0.2, cleaning=False):
    deadline = time.monotonic() + timeout
    if not cleaning:
        deadline = min(deadline, DEADLINE)
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(step)


# The audit table: one row per row change of orders, in execution order (one writer at a time,
# so also commit order), with the top-level xid as pgoutput sends it (32 bits) and both images.
AUDIT_SQL = f"""
CREATE TABLE {SCHEMA}.audit (id bigserial PRIMARY KEY, op text NOT NULL,
  xid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint % 4294967296),
  old_row jsonb, new_row jsonb);
CREATE FUNCTION {SCHEMA}.audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {SCHEMA}.audit (op, old_row, new_row) VALUES (TG_OP,
    CASE WHEN TG_OP <> 'INSERT' THEN to_jsonb(OLD) END,
    CASE WHEN TG_OP <> 'DELETE' THEN to_jsonb(NEW) END);
  RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON {SCHEMA}.orders
  FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.audit_change();
CREATE FUNCTION {SCHEMA}.audit_image(r jsonb) RETURNS json LANGUAGE sql AS $$
  SELECT json_build_object('orderid', o.orderid, 'product_name', o.product_name,
    'quantity', o.quantity, 'price', o.price::text, 'customer_id', o.customer_id,
    'status', o.status,
    'created_at', (extract(epoch FROM o.created_at) * 1000000)::bigint,
    'updated_at', (extract(epoch FROM o.updated_at) * 1000000)::bigint)
  FROM jsonb_populate_record(NULL::{SCHEMA}.orders, r) o WHERE r IS NOT NULL $$;
"""


def audit_changes():
    """Every audited change as the flat records it must become: a list of (orderid, op, xid,
    image) in audit order. A primary-key change is a delete of the old key and a create."""
    rows = json.loads(psql(
        f"SELECT coalesce(json_agg(json_build_object('op', op, 'xid', xid, "
        f"'old', {SCHEMA}.audit_image(old_row), 'new', {SCHEMA}.audit_image(new_row)) "
        f"ORDER BY id), '[]') FROM {SCHEMA}.audit"))
    out = []
    for r in rows:
        old, new = r["old"], r["new"]
        if r["op"] == "INSERT":
            out.append((new["orderid"], "c", r["xid"], new))
        elif r["op"] == "DELETE":
            out.append((old["orderid"], "d", r["xid"], old))
        elif old["orderid"] != new["orderid"]:
            out.append((old["orderid"], "d", r["xid"], old))
            out.append((new["orderid"], "c", r["xid"], new))
        else:
            out.append((new["orderid"], "u", r["xid"], new))
    return out


def micros(ts):
    return None if ts is None else (ts - EPOCH) // datetime.timedelta(microseconds=1)


def flat_image(rec):
    """The columns of a flat record in the audit's representation: the decimal as PostgreSQL
    prints numeric(10,2) (value and scale exact), timestamps as microseconds since 1970."""
    assert isinstance(rec["price"], decimal.Decimal), f"price is {type(rec['price'])}"
    image = {c: rec[c] for c in COLUMNS}
    image["price"] = str(rec["price"])
    image["created_at"], image["updated_at"] = micros(rec["created_at"]), micros(rec["updated_at"])
    return image


class Topic:
    """Reads a whole topic from the start of every partition, read_committed by default, until
    at least EXPECTED records came and every partition is at its end. Returns the messages."""

    @staticmethod
    def read(topic, expected, committed=True, timeout=WAIT_S):
        c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"{RUN}-reader",
                      "enable.auto.commit": False, "enable.partition.eof": True,
                      "isolation.level": "read_committed" if committed else "read_uncommitted"})
        try:
            parts = wait_for(f"topic {topic}", lambda: Topic.partitions(c, topic))
            c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in parts])
            got, eof, deadline = [], set(), min(time.monotonic() + timeout, DEADLINE)
            while time.monotonic() < deadline:
                m = c.poll(0.5)
                if m is None:
                    continue
                if m.error():
                    if m.error().code() != -191:  # _PARTITION_EOF
                        raise AssertionError(f"reading {topic}: {m.error()}")
                    eof.add(m.partition())
                    if len(got) >= expected and eof >= set(parts):
                        return got
                    continue
                got.append(m)
                eof.discard(m.partition())
            raise AssertionError(f"timed out after {timeout}s reading {topic}: {len(got)} of "
                                 f"{expected} records")
        finally:
            c.close()

    @staticmethod
    def partitions(client, topic):
        md = client.list_topics(topic, timeout=10).topics.get(topic)
        return sorted(md.partitions) if md and not md.error and md.partitions else None


class Process:
    """A program under test with its log in a temporary file."""

    def __init__(self, name, args):
        self.name, self.args, self.proc = name, args, None
        self.log = tempfile.NamedTemporaryFile(prefix=f"{RUN}-{name}-", suffix=".log",
                                               delete=False)

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log)
        return self

    def output(self):
        with open(self.log.name) as f:
            return f.read()

    def running(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(WAIT_S)

    def kill(self):
        self.proc.kill()
        return self.proc.wait(WAIT_S)

    def close(self, show):
        if self.running():
            self.proc.kill()
            self.proc.wait(WAIT_S)
        if show:
            print(f"--- {self.name} log ---\n{self.output()[-6000:]}", file=sys.stderr)
        os.unlink(self.log.name)


class Transformer(Process):
    def __init__(self, binary, name, *extra):
        super().__init__(name, [
            binary, "--topics", CDC, "--group.id", GROUP, "--transaction.id", TXID,
            "--registry.url", REGISTRY, "--kafka.bootstrap.servers", BROKERS,
            "--http.port", "0", "--transaction.max.records", "50",
            "--kafka.session.timeout.ms", "6000", *extra])

    def metrics(self):
        url = wait_for(f"{self.name}'s metrics address", lambda: (
            m := re.search(r"metrics on (http://[0-9.]+:[0-9]+)/metrics", self.output())) and
            m.group(1), 30)
        text = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
        return {k: int(v) for k, v in re.findall(
            r"^salescdc_transformer_(\w+_total) (\d+)$", text, re.M)}

    def committed(self, counter):
        """The counter of what this instance committed (0 before its HTTP server answers)."""
        try:
            return self.metrics().get(counter, 0)
        except OSError:
            return 0


def run_producer(binary, *args):
    """Runs salescdc-producer to completion in the test schema; returns its summary fields."""
    p = subprocess.run([binary, "--pg.conninfo", PG, "--pg.schema", SCHEMA, "--progress", "off",
                        *args], capture_output=True, text=True, timeout=WAIT_S)
    assert p.returncode == 0, f"producer {args}: exit {p.returncode}: {p.stderr}"
    return dict(re.findall(r"(\w+)=(\S+)", p.stdout))


def own_sql():
    """Changes the producer does not make: a multi-row update, boundary decimals, a primary-key
    change, a delete, and a rolled-back transaction (which must leave no trace)."""
    psql(f"UPDATE {SCHEMA}.orders SET price = price + 0.01, updated_at = updated_at + "
         f"interval '1 microsecond' WHERE orderid IN (SELECT orderid FROM {SCHEMA}.orders "
         f"ORDER BY orderid LIMIT 40)")
    psql(f"INSERT INTO {SCHEMA}.orders (orderid, product_name, quantity, price, customer_id, "
         f"created_at) VALUES ('e2e-max', 'Laptop', 5, 99999999.99, NULL, "
         f"'1969-12-31 23:59:59.999999+00'), ('e2e-min', 'Phone', 1, -99999999.99, 1, "
         f"'2024-02-29 12:34:56.000001+05:30'), ('e2e-zero', 'Tablet', 2, 0.00, 2, now()), "
         f"('e2e-cent', 'Charger', 3, 0.01, 3, now())")
    psql(f"UPDATE {SCHEMA}.orders SET orderid = 'e2e-moved' WHERE orderid = 'e2e-zero'")
    psql(f"DELETE FROM {SCHEMA}.orders WHERE orderid = 'e2e-cent'")
    psql(f"BEGIN; INSERT INTO {SCHEMA}.orders (orderid, price) VALUES ('e2e-rolled-back', 1); "
         f"ROLLBACK")


class Poison:
    """Records that are not envelopes, written by the test straight into the CDC topic."""

    def __init__(self):
        self.producer = Producer({"bootstrap.servers": BROKERS, "enable.idempotence": True})
        self.sent = {}  # name -> (key, value, headers, partition, offset)
        self.rng = random.Random(6)  # the same "random" bytes every run

    def send(self, name, framed_with=None):
        body = self.rng.randbytes(64)
        if framed_with is None:
            value = bytes([0xC0 | body[0]]) + body[1:]  # a magic byte that is not 0
        else:  # Confluent framing with the topic's real schema id, then garbage
            value = b"\x00" + struct.pack(">I", framed_with) + body
        key = self.rng.randbytes(8)
        headers = [("itest.run", RUN.encode()), ("itest.poison", name.encode())]
        partition = len(self.sent) % PARTITIONS
        done = {}
        self.producer.produce(CDC, key=key, value=value, headers=headers, partition=partition,
                              on_delivery=lambda err, m: done.update(err=err, offset=m.offset()))
        assert self.producer.flush(30) == 0 and done.get("err") is None, f"poison {name}: {done}"
        self.sent[name] = (key, value, headers, partition, done["offset"])


def check_dead_letters(poison):
    dlq = Topic.read(DLQ, len(poison.sent))
    assert len(dlq) == len(poison.sent), f"{len(dlq)} dead letters, {len(poison.sent)} poisons"
    seen = set()
    for m in dlq:
        h = dict(m.headers() or [])
        name = h.get("itest.poison", b"?").decode()
        key, value, headers, partition, offset = poison.sent[name]
        assert name not in seen, f"dead letter {name} twice"
        seen.add(name)
        assert (m.key(), m.value()) == (key, value), f"dead letter {name} changed"
        assert [x for x in m.headers() if x[0].startswith("itest.")] == headers, m.headers()
        assert h["salescdc.source.topic"].decode() == CDC
        assert int(h["salescdc.source.partition"]) == partition
        assert int(h["salescdc.source.offset"]) == offset, (h, offset)
        assert h["salescdc.time"].decode().endswith("Z")
        cls = h["salescdc.error.class"].decode()
        assert cls in (("not_framed",) if name.startswith("raw") else
                       ("corrupt_avro", "bad_envelope")), (name, cls, h["salescdc.error"])
        assert h["salescdc.error"], name
    return len(dlq)


def check_flat(expected, registry):
    """The flat topic against the audit: exactly one record per change, per key in order."""
    flat = Topic.read(FLAT, len(expected))
    uncommitted = len(Topic.read(FLAT, len(expected), committed=False))
    assert len(flat) == len(expected), f"flat topic: {len(flat)} records, {len(expected)} changes"
    value_de, key_de = AvroDeserializer(registry), AvroDeserializer(registry)
    want, got = {}, {}
    for orderid, op, xid, image in expected:
        want.setdefault(orderid, []).append((op, xid, image))
    last_lsn = {}
    for m in flat:
        rec = value_de(m.value(), SerializationContext(FLAT, MessageField.VALUE))
        key = key_de(m.key(), SerializationContext(CDC, MessageField.KEY))
        assert key == {"orderid": rec["orderid"]}, (key, rec)
        assert rec["__table"] == "orders" and rec["__deleted"] == (rec["__op"] == "d"), rec
        assert rec["__lsn"] > last_lsn.get(rec["orderid"], -1), f"LSN order of {rec['orderid']}"
        last_lsn[rec["orderid"]] = rec["__lsn"]
        got.setdefault(rec["orderid"], []).append((rec["__op"], rec["__txid"], flat_image(rec)))
    for orderid in sorted(set(want) | set(got)):
        assert got.get(orderid) == want.get(orderid), (
            f"orderid {orderid}: flat {got.get(orderid)} != PostgreSQL {want.get(orderid)}")
    price = next(f["type"] for f in json.loads(
        registry.get_latest_version(FLAT + "-value").schema.schema_str)["fields"]
        if f["name"] == "price")
    assert {"type": "bytes", "logicalType": "decimal", "precision": 10, "scale": 2} in price, price
    return len(flat), uncommitted


def cdc_end():
    """The number of records in the CDC topic, counted by reading it (read_committed) to the end:
    end offsets would also count the control records of a connector that uses transactions."""
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"{RUN}-probe-{uuid.uuid4().hex}",
                  "isolation.level": "read_committed", "enable.partition.eof": True,
                  "enable.auto.commit": False, "auto.offset.reset": "earliest"})
    try:
        c.assign([TopicPartition(CDC, p, 0) for p in range(PARTITIONS)])
        count, at_eof, deadline = 0, set(), time.monotonic() + 60
        while len(at_eof) < PARTITIONS and time.monotonic() < deadline:
            for m in c.consume(1000, timeout=1.0):
                if m.error() is None:
                    count += 1
                elif m.error().code() == KafkaError._PARTITION_EOF:
                    at_eof.add(m.partition())
        return count
    finally:
        c.close()


def open_transaction(topic):
    """Whether TOPIC holds records of a transaction still open: its last stable offset (the end
    for read_committed readers) is below its high watermark."""
    ends = []
    for isolation in ("read_committed", "read_uncommitted"):
        c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"{RUN}-probe",
                      "isolation.level": isolation})
        try:
            ends.append([c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                         for p in range(PARTITIONS)])
        finally:
            c.close()
    return any(stable < high for stable, high in zip(*ends))


def cdc_value_schema_id():
    return SchemaRegistryClient({"url": REGISTRY}).get_latest_version(CDC + "-value").schema_id


def wait_for_slot():
    """Waits until the connector's slot exists and streams. CREATE_REPLICATION_SLOT waits for
    every transaction running anywhere in the cluster to end: name them if that takes too long."""
    try:
        wait_for(f"slot {SLOT} to be created and active", lambda: psql(
            f"SELECT active AND confirmed_flush_lsn IS NOT NULL FROM pg_replication_slots "
            f"WHERE slot_name = '{SLOT}'") == "t")
    except AssertionError:
        raise AssertionError(f"slot {SLOT} not created; old transactions it waits for: " + psql(
            "SELECT string_agg(format('pid %s since %s: %s', pid, xact_start, left(query, 80)), "
            "'; ') FROM pg_stat_activity WHERE (backend_xid IS NOT NULL OR backend_xmin IS NOT "
            "NULL) AND pid <> pg_backend_pid()"))


def kill_in_open_transaction(transformer, poison):
    """Writes a poisoned record and kills TRANSFORMER (-9) as soon as its dead letter and flat
    records are seen in a transaction that is still open; tries again with another poisoned
    record when that transaction committed before it was seen."""
    for attempt in range(2, 8):
        poison.send(f"raw-{attempt}")
        try:
            wait_for("a dead letter and flat records in an open transaction",
                     lambda: open_transaction(DLQ) and open_transaction(FLAT), 5, 0)
        except AssertionError:
            continue
        transformer.kill()
        return
    raise AssertionError("never saw a dead letter in an open transaction of transformer-1")


def started(procs, process):
    """Starts PROCESS and remembers it for the clean-up."""
    procs.append(process)
    return process.start()


def scenario(bins, procs):
    producer_bin, connector_bin, transformer_bin = bins
    registry = SchemaRegistryClient({"url": REGISTRY})
    run_producer(producer_bin, "--init", "--count", "0")
    psql(AUDIT_SQL)
    admin = AdminClient({"bootstrap.servers": BROKERS})
    admin.create_topics([NewTopic(CDC, PARTITIONS, 1)])[CDC].result(30)
    connector = started(procs, Process("connector", [
        connector_bin, "--pg.conninfo", PG, "--slot", SLOT, "--publication", PUB,
        "--tables", f"{SCHEMA}.orders", "--topic.prefix", PREFIX, "--registry.url", REGISTRY,
        "--status.interval.ms", "500", "--kafka.bootstrap.servers", BROKERS]))
    wait_for_slot()
    # Transactions of up to two seconds, so that the kill -9 below finds one open.
    first = started(procs, Transformer(transformer_bin, "transformer-1",
                                       "--transaction.max.records", "10000",
                                       "--transaction.max.ms", "2000"))

    # 1. Upserts and deletes from the seed generator, then SQL of our own; all of it flat.
    summary = run_producer(producer_bin, "--mode", "seed", "--rate", "0", "--count", "3000",
                           "--batch", "500", "--delete.percent", "10", "--seed", "11")
    log(f"seed run: {summary}")
    own_sql()
    so_far = len(audit_changes())
    wait_for(f"{so_far} flat records committed",
             lambda: first.committed("records_out_total") >= so_far)
    log(f"{so_far} changes flat before the poison")

    # 2. Poison: dead-lettered with headers, and good records keep flowing after it.
    poison = Poison()
    poison.send("raw-1")
    poison.send("framed-1", framed_with=cdc_value_schema_id())
    wait_for("2 dead letters", lambda: first.committed("records_dlq_total") == 2)

    # 3. Lifecycle changes (updates, deletes) while transformer-1 is killed -9 mid-stream.
    lifecycle = started(procs, Process("lifecycle", [
        producer_bin, "--pg.conninfo", PG, "--pg.schema", SCHEMA, "--progress", "off",
        "--mode", "lifecycle", "--rate", "1500", "--count", "9000", "--delete.percent", "5",
        "--seed", "12"]))
    wait_for("transformer-1 to commit lifecycle changes",
             lambda: first.committed("records_out_total") >= so_far + 1000)
    kill_in_open_transaction(first, poison)
    assert lifecycle.running(), "the lifecycle run ended before the kill: not mid-stream"
    log("transformer-1 killed -9 mid-stream, in an open transaction")
    second = started(procs, Transformer(transformer_bin, "transformer-2"))
    assert lifecycle.proc.wait(WAIT_S) == 0, lifecycle.output()
    log(f"lifecycle run: {lifecycle.output().strip().splitlines()[-1]}")

    # 4. Everything once: the flat topic equals the audit, the dead letters are there once.
    # The CDC topic first: an envelope per change, a tombstone after each delete, the poison.
    expected = audit_changes()
    ops = {op: sum(1 for e in expected if e[1] == op) for op in "cud"}
    assert all(ops.values()), f"every op must occur: {ops}"
    cdc_records = len(expected) + ops["d"] + len(poison.sent)
    wait_for(f"{cdc_records} records in {CDC}", lambda: cdc_end() >= cdc_records)
    assert cdc_end() == cdc_records, f"{CDC}: {cdc_end()} records, expected {cdc_records}"
    Topic.read(FLAT, len(expected))  # waits (bounded) until all of them are there
    assert second.stop() == 0, "transformer-2 did not exit 0 on SIGTERM"
    assert connector.stop() == 0, "connector did not exit 0 on SIGTERM"
    n, uncommitted = check_flat(expected, registry)  # final: nothing runs any more
    dead = check_dead_letters(poison)
    log(f"flat topic == audit: {n} records {ops}; read_uncommitted sees {uncommitted} "
        f"({uncommitted - n} aborted by the kill); dead letters {dead}")
    return n


def cleanup():
    # The connector is gone; its walsender may still be waiting (e.g. in CREATE_REPLICATION_SLOT
    # behind an old transaction): end that backend of ours, then drop the slot.
    active = f"SELECT active_pid FROM pg_replication_slots WHERE slot_name = '{SLOT}'"
    try:
        wait_for(f"slot {SLOT} to be released", lambda: psql(active) == "", 15, cleaning=True)
    except AssertionError:
        psql(f"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
             f"WHERE slot_name = '{SLOT}' AND active_pid IS NOT NULL")
        wait_for(f"slot {SLOT} to be released", lambda: psql(active) == "", 30, cleaning=True)
    psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
         f"WHERE slot_name = '{SLOT}'")
    psql(f"DROP PUBLICATION IF EXISTS {PUB}; DROP SCHEMA IF EXISTS {SCHEMA} CASCADE")
    admin = AdminClient({"bootstrap.servers": BROKERS})
    for topic, f in admin.delete_topics([CDC, FLAT, DLQ], operation_timeout=30).items():
        try:
            f.result(timeout=30)
        except Exception as e:  # a topic may be missing when the test failed early
            print(f"delete topic {topic}: {e}", file=sys.stderr)
    registry = SchemaRegistryClient({"url": REGISTRY})
    for subject in (CDC + "-key", CDC + "-value", FLAT + "-value"):
        try:
            registry.delete_subject(subject)  # soft: ids are never reused
        except Exception as e:
            print(f"delete subject {subject}: {e}", file=sys.stderr)


def main():
    if len(sys.argv) != 4:
        raise SystemExit("usage: test_transformer_e2e.py PRODUCER_BIN CONNECTOR_BIN "
                         "TRANSFORMER_BIN")
    bins = [os.path.abspath(b) for b in sys.argv[1:]]
    procs, ok = [], False
    try:
        n = scenario(bins, procs)
        ok = True
    finally:
        for p in procs:
            p.close(show=not ok)
        cleanup()
    print(f"1 passed, 0 failed ({n} flat records checked)")


if __name__ == "__main__":
    main()
