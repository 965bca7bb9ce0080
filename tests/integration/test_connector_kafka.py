#!/usr/bin/env python3
"""End-to-end check of salescdc-connector against the local stack, with independent readers:
confluent-kafka consumes the CDC topic (read_committed), fastavro decodes each record with the
schema fetched from the registry by the id in its Confluent header, and the events are compared
with what PostgreSQL holds (decimals exact). Covers insert, upsert, update, primary-key update,
delete (+ tombstone), a rolled-back transaction (nothing), truncate (op t), numeric NaN (null,
with a warning), and SIGTERM (exit 0, confirmed_flush_lsn past every delivered event). Usage: test_connector_kafka.py CONNECTOR_BIN"""
import datetime
import decimal
import io
import json
import os
import signal
import struct
import subprocess
import sys
import time
import urllib.request

import fastavro
from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.admin import AdminClient

PG = os.environ["SALESCDC_PG_CONNINFO"]
BROKERS = os.environ["SALESCDC_KAFKA_BROKERS"]
REGISTRY = os.environ["SALESCDC_REGISTRY_URL"]
RUN = f"itc{os.getpid()}"
SCHEMA, SLOT, PUB, PREFIX = f"{RUN}_s", f"{RUN}_slot", f"{RUN}_pub", RUN
TOPIC = f"{PREFIX}.{SCHEMA}.orders"
UTC = datetime.timezone.utc


def psql(sql):
    out = subprocess.run(["psql", PG, "-v", "ON_ERROR_STOP=1", "-qAtc", sql], check=True,
                         capture_output=True, text=True)
    return out.stdout.strip()


def wait_for(what, predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


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


def consume(count):
    """The first COUNT records of the topic as (key, value) decoded; value None = tombstone."""
    c = Consumer({"bootstrap.servers": BROKERS, "group.id": RUN, "auto.offset.reset": "earliest",
                  "isolation.level": "read_committed", "enable.auto.commit": False})
    c.assign([TopicPartition(TOPIC, 0, 0)])
    records, deadline = [], time.time() + 60
    while len(records) < count and time.time() < deadline:
        m = c.poll(0.5)
        if m is None or m.error():
            continue
        key = decode(m.key()) if m.key() else None
        records.append((key, decode(m.value()) if m.value() is not None else None))
    extra = c.poll(2.0)
    c.close()
    assert len(records) == count, f"got {len(records)} records, expected {count}"
    assert extra is None or extra.error(), "more records than expected"
    return records


def pg_rows():
    rows = json.loads(psql(f"SELECT coalesce(json_agg(t ORDER BY orderid), '[]') FROM "
                           f"(SELECT orderid, product_name, quantity, price::text, created_at "
                           f"FROM {SCHEMA}.orders) t"))
    return {r["orderid"]: r for r in rows}


def same_row(avro_row, pg_row):
    ts = datetime.datetime.fromisoformat(pg_row["created_at"]).astimezone(UTC)
    return (avro_row["orderid"] == pg_row["orderid"]
            and avro_row["product_name"] == pg_row["product_name"]
            and avro_row["quantity"] == pg_row["quantity"]
            and avro_row["price"] == decimal.Decimal(pg_row["price"])
            and avro_row["created_at"] == ts)


def connector_args(binary, tables):
    return [binary, "--pg.conninfo", PG, "--slot", SLOT, "--publication", PUB, "--tables", tables,
            "--topic.prefix", PREFIX, "--registry.url", REGISTRY, "--status.interval.ms", "500",
            "--kafka.bootstrap.servers", BROKERS, "--http.port", "0"]


def run_failing(binary, tables, expect):
    """Runs the connector expecting a start-up failure (exit 1) whose log names EXPECT."""
    p = subprocess.run(connector_args(binary, tables), capture_output=True, text=True, timeout=60)
    assert p.returncode == 1, f"exit {p.returncode} for {tables}: {p.stderr}"
    assert expect in p.stderr, f"{expect!r} not in: {p.stderr}"


def check_events(records, snap1, snap2, snap3):
    ops = [(v["op"] if v else "tombstone") for _, v in records]
    assert ops == ["c", "c", "c", "u", "d", "tombstone", "c", "d", "tombstone", "t", "c"], ops
    keys = [k["orderid"] if k else None for k, _ in records]
    assert keys == ["o1", "o2", "o3", "o1", "o2", "o2", "o2b", "o3", "o3", None, "o4"], keys
    for i, oid in enumerate(["o1", "o2", "o3"]):
        assert records[i][1]["before"] is None and same_row(records[i][1]["after"], snap1[oid])
    assert same_row(records[3][1]["after"], snap2["o1"]), records[3]
    assert records[4][1]["before"]["orderid"] == "o2" and records[4][1]["after"] is None
    assert records[4][1]["before"]["price"] is None  # REPLICA IDENTITY DEFAULT: key only
    assert same_row(records[6][1]["after"], snap3["o2b"]), records[6]
    assert records[9][1]["before"] is None and records[9][1]["after"] is None
    # numeric NaN has no Avro decimal form: null (numeric.special=null), the rest of the row kept
    assert records[10][1]["after"]["price"] is None, records[10]
    assert records[10][1]["after"]["product_name"] == "Phone", records[10]
    lsns = []
    for _, v in records:
        if v:
            s = v["source"]
            assert (s["db"], s["schema"], s["table"], s["connector"], s["name"]) == (
                "salescdc", SCHEMA, "orders", "postgresql", PREFIX), s
            assert isinstance(s["txId"], int) and s["ts_ms"] > 0 and v["ts_ms"] >= s["ts_ms"]
            lsns.append(s["lsn"])
    assert lsns == sorted(lsns), lsns
    return max(lsns)


def change_rows():
    psql(f"INSERT INTO {SCHEMA}.orders VALUES ('o1', 'Laptop', 1, 499.99, "
         f"'2024-01-01 10:00:00.123456+00'), ('o2', 'Phone', 2, 10.00, '1969-12-31 23:59:59+00'),"
         f" ('o3', 'Tablet', 5, 123.45, '2024-02-29 12:34:56+05:30')")
    snap1 = pg_rows()
    psql(f"INSERT INTO {SCHEMA}.orders VALUES ('o1', 'Laptop', 4, 99999999.99, "
         f"'2024-01-01 10:00:00.123456+00') ON CONFLICT (orderid) DO UPDATE SET "
         f"quantity = excluded.quantity, price = excluded.price")
    snap2 = pg_rows()
    psql(f"UPDATE {SCHEMA}.orders SET orderid = 'o2b' WHERE orderid = 'o2'")
    snap3 = pg_rows()
    psql(f"BEGIN; INSERT INTO {SCHEMA}.orders VALUES ('o9', 'Charger', 1, 1.00, now()); ROLLBACK")
    psql(f"DELETE FROM {SCHEMA}.orders WHERE orderid = 'o3'")
    psql(f"TRUNCATE {SCHEMA}.orders")
    psql(f"INSERT INTO {SCHEMA}.orders VALUES ('o4', 'Phone', 1, 'NaN', now())")
    return snap1, snap2, snap3


def main():
    binary, passed = sys.argv[1], 0
    psql(f"CREATE SCHEMA {SCHEMA}; CREATE TABLE {SCHEMA}.orders (orderid text PRIMARY KEY, "
         f"product_name text, quantity int, price numeric(10,2), created_at timestamptz); "
         f"CREATE TABLE {SCHEMA}.nokey (a int)")
    proc = None
    try:
        run_failing(binary, f"{SCHEMA}.missing", f"table {SCHEMA}.missing does not exist")
        run_failing(binary, f"{SCHEMA}.nokey", "REPLICA IDENTITY FULL")
        passed += 2
        proc = subprocess.Popen(connector_args(binary, f"{SCHEMA}.orders"),
                                stderr=open(f"/tmp/{RUN}.log", "w"))
        wait_for("the slot to become active", lambda: psql(
            f"SELECT active FROM pg_replication_slots WHERE slot_name = '{SLOT}'") == "t")
        run_failing(binary, f"{SCHEMA}.orders", "is active for PID ")  # the walsender's pid
        passed += 1
        snaps = change_rows()
        max_lsn = check_events(consume(11), *snaps)
        assert "numeric NaN/Infinity has no Avro decimal form" in open(f"/tmp/{RUN}.log").read()
        passed += 1
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, f"exit code {proc.returncode}"
        flushed = psql(f"SELECT confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
                       f"WHERE slot_name = '{SLOT}'")
        assert int(flushed) > max_lsn, f"confirmed_flush {flushed} <= last event {max_lsn}"
        passed += 1
    except Exception:
        if proc:
            print(open(f"/tmp/{RUN}.log").read(), file=sys.stderr)
        raise
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
             f"WHERE slot_name = '{SLOT}'; DROP PUBLICATION IF EXISTS {PUB}; "
             f"DROP SCHEMA {SCHEMA} CASCADE")
        admin = AdminClient({"bootstrap.servers": BROKERS})
        for f in admin.delete_topics([TOPIC]).values():
            try:
                f.result(timeout=30)
            except Exception as e:  # the topic may not exist when the test failed early
                print(f"delete topic {TOPIC}: {e}", file=sys.stderr)
        if os.path.exists(f"/tmp/{RUN}.log"):
            os.unlink(f"/tmp/{RUN}.log")
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    main()
