"""Helpers shared by the connector's Python integration tests (independent of the C code):
psql, the connector's command line, a read_committed confluent-kafka reader that decodes with
fastavro and the schemas fetched from the registry, and cleanup of slots, publications, schemas,
topics and offsets records."""
import io
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request

import fastavro
from confluent_kafka import Consumer, KafkaError, Producer, TopicPartition
from confluent_kafka.admin import AdminClient

PG = os.environ["SALESCDC_PG_CONNINFO"]
BROKERS = os.environ["SALESCDC_KAFKA_BROKERS"]
REGISTRY = os.environ["SALESCDC_REGISTRY_URL"]
OFFSETS_TOPIC = "_salescdc_connector_offsets"


def psql(sql, db_conninfo=PG):
    out = subprocess.run(["psql", db_conninfo, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def wait_for(what, predicate, timeout=120, proc=None):
    """Polls PREDICATE until it returns a true value; fails early if PROC exited."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        if proc is not None and proc.poll() is not None:
            raise AssertionError(f"connector exited ({proc.returncode}) while waiting for {what}")
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


_schemas = {}


def decode(data):
    magic, schema_id = struct.unpack(">bI", data[:5])
    assert magic == 0, f"magic byte {magic}"
    if schema_id not in _schemas:
        with urllib.request.urlopen(f"{REGISTRY}/schemas/ids/{schema_id}") as r:
            _schemas[schema_id] = fastavro.parse_schema(json.loads(json.load(r)["schema"]))
    buf = io.BytesIO(data[5:])
    record = fastavro.schemaless_reader(buf, _schemas[schema_id])
    assert buf.tell() == len(data) - 5, "trailing bytes"
    return record


def read_topic(topic, timeout=120, brokers=BROKERS):
    """Every committed record of TOPIC (all partitions, read_committed, up to the end offsets
    taken now) as (partition, offset, key, value) decoded; value None = tombstone."""
    c = Consumer({"bootstrap.servers": brokers, "group.id": f"check-{os.getpid()}",
                  "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    md = c.list_topics(topic, timeout=30).topics[topic]
    assert md.error is None, f"topic {topic}: {md.error}"
    ends = {}
    for p in md.partitions:
        lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
        if hi > lo:
            ends[p] = hi
    c.assign([TopicPartition(topic, p, 0) for p in ends])
    out, deadline = [], time.time() + timeout
    while ends and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            assert m.error().code() == KafkaError._PARTITION_EOF, m.error()
            if m.offset() >= ends.get(m.partition(), 1 << 62):
                del ends[m.partition()]
            continue
        key = decode(m.key()) if m.key() else None
        out.append((m.partition(), m.offset(), key,
                    decode(m.value()) if m.value() is not None else None))
        if m.offset() + 1 >= ends.get(m.partition(), 1 << 62):
            del ends[m.partition()]
    c.close()
    assert not ends, f"topic {topic} not read to its end: {ends}"
    return out


def unix_conninfo():
    """PG over the server's Unix socket (SALESCDC_PG_SOCKET_DIR, set by .stack/env), or PG
    itself when it is not known."""
    sock = os.environ.get("SALESCDC_PG_SOCKET_DIR")
    if not sock:
        return PG
    fields = [f for f in PG.split() if not f.startswith(("host=", "hostaddr="))]
    return " ".join([*fields, f"host={sock}"])


def connector_args(binary, run, tables, *extra):
    return [binary, "--pg.conninfo", PG, "--slot", f"{run}_slot", "--publication", f"{run}_pub",
            "--tables", tables, "--topic.prefix", run, "--registry.url", REGISTRY,
            "--status.interval.ms", "500", "--kafka.bootstrap.servers", BROKERS,
            "--http.port", "0", *extra]


def slot_confirmed(slot):
    v = psql(f"SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
             f"WHERE slot_name = '{slot}'")
    return int(v) if v else 0


def current_wal():
    return int(psql("SELECT pg_current_wal_lsn() - '0/0'::pg_lsn"))


def wait_confirmed(slot, lsn, proc=None, timeout=300):
    """Waits until the slot confirmed LSN: then everything before it is committed in Kafka."""
    wait_for(f"slot {slot} to confirm {lsn}", lambda: slot_confirmed(slot) >= lsn, timeout, proc)


def offsets_record(name):
    """The newest committed offsets record of connector NAME (dict) or None."""
    found = None
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": f"check-{os.getpid()}",
                  "auto.offset.reset": "earliest", "isolation.level": "read_committed",
                  "enable.auto.commit": False, "enable.partition.eof": True})
    lo, hi = c.get_watermark_offsets(TopicPartition(OFFSETS_TOPIC, 0), timeout=30)
    c.assign([TopicPartition(OFFSETS_TOPIC, 0, 0)])
    pos, deadline = lo, time.time() + 60
    while pos < hi and time.time() < deadline:
        m = c.poll(0.5)
        if m is None:
            continue
        if m.error():
            pos = max(pos, m.offset())
            continue
        if m.key() == name.encode():
            found = json.loads(m.value()) if m.value() is not None else None
        pos = m.offset() + 1
    c.close()
    return found


OPS = {"I": "c", "U": "u", "D": "d"}


def audit_orders(schema):
    """An audit trigger on SCHEMA.orders (salescdc-producer's table) recording every change with
    the id of its transaction, in commit order per row."""
    psql(f"""CREATE TABLE {schema}.audit (seq bigserial PRIMARY KEY, orderid text, op char,
                        txid bigint DEFAULT txid_current());
CREATE FUNCTION {schema}.audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {schema}.audit (orderid, op) VALUES
    (CASE WHEN TG_OP = 'DELETE' THEN OLD.orderid ELSE NEW.orderid END, left(TG_OP, 1));
  RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON {schema}.orders
  FOR EACH ROW EXECUTE FUNCTION {schema}.audit_fn();""")


def audited_changes(schema):
    """{orderid: [(op, 32-bit xid), ...]} in order, and the number of changes."""
    out, n = {}, 0
    rows = psql(f"SELECT orderid, op, txid % 4294967296 FROM {schema}.audit ORDER BY seq")
    for line in rows.split():
        oid, op, txid = line.split("|")
        out.setdefault(oid, []).append((OPS[op], int(txid)))
        n += 1
    return out, n


def verify_changes(records, changes, n_changes):
    """Per key, the events (op, source.txId) are exactly the audited changes, in order, and each
    delete is followed by its tombstone. Returns the number of events."""
    events, total, pending_tombstone = {}, 0, {}
    for _, _, key, val in records:
        oid = key["orderid"]
        if val is None:
            assert pending_tombstone.pop(oid, False), f"tombstone of {oid} without a delete"
            continue
        assert oid not in pending_tombstone, f"delete of {oid} without its tombstone"
        events.setdefault(oid, []).append((val["op"], val["source"]["txId"]))
        if val["op"] == "d":
            pending_tombstone[oid] = True
        total += 1
    for oid in set(events) | set(changes):
        e, a = events.get(oid, []), changes.get(oid, [])
        if e != a:
            seen = {}
            for x in e:
                seen[x] = seen.get(x, 0) + 1
            dup = [x for x, k in seen.items() if k > 1]
            raise AssertionError(f"orderid {oid}: events {e[:6]}... ({len(e)}) != audited "
                                 f"{a[:6]}... ({len(a)}); repeated: {dup[:3]}")
    assert total == n_changes, f"{total} events for {n_changes} audited changes"
    return total


_wm = {}


def written(topic, brokers=BROKERS):
    """Records written to TOPIC so far, committed or not (the high watermark of partition 0)."""
    if brokers not in _wm:
        _wm[brokers] = Consumer({"bootstrap.servers": brokers, "group.id": f"wm-{os.getpid()}",
                                 "isolation.level": "read_uncommitted", "log_level": 0})
    c = _wm[brokers]
    md = c.list_topics(topic, timeout=5).topics.get(topic)
    if md is None or md.error is not None or not md.partitions:
        return 0
    return c.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)[1]


def cleanup(run, topics, log_path=None):
    """Drops what test RUN created; never raises (the test's own error matters more)."""
    name = f"{run}_slot"
    try:
        psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
             f"WHERE slot_name = '{name}'; DROP PUBLICATION IF EXISTS {run}_pub; "
             f"DROP SCHEMA IF EXISTS {run}_s CASCADE")
    except subprocess.CalledProcessError as e:
        print(f"cleanup in PostgreSQL: {e.stderr}", file=sys.stderr)
    admin = AdminClient({"bootstrap.servers": BROKERS})
    for t, f in admin.delete_topics(list(topics)).items() if topics else []:
        try:
            f.result(timeout=30)
        except Exception as e:  # the topic may not exist when the test failed early
            print(f"delete topic {t}: {e}", file=sys.stderr)
    p = Producer({"bootstrap.servers": BROKERS})
    p.produce(OFFSETS_TOPIC, key=name, value=None)  # tombstone: forget the offsets
    p.flush(30)
    if log_path and os.path.exists(log_path):
        os.unlink(log_path)

