#!/usr/bin/env python3
"""Integration test of salescdc-s3-sink against the local stack (Kafka, registry, S3, Trino).

Flat order changes (decimals, timestamps, updates, deletes, several hours and two days) are
produced with Confluent's AvroSerializer into a new two-partition topic sales.test<N>.orders.flat.
Sinks (argv[1]) then run with small flush settings, each with its own consumer group, S3 prefix
and Trino table prefix, and the test checks, against values computed here independently:
  - clean run: the object keys are exactly the cuts the flush rules give (keys name the first
    offset); every JSON line matches byte for byte (gunzipped); the _changes table has one row
    per record, the view is the latest state per orderid without deletes, sum(quantity*price)
    per product is exact; /metrics and /healthz answer;
  - kill -9 mid-stream and a restart: the same objects (same bytes), the same Trino results;
  - S3 and Trino down at start (a proxy refusing connections), back later: the same again;
  - format=avro: files fastavro reads (deflate, logical types kept); the view exact to the µs;
  - buffer.max.bytes far below the data, Avro snappy: early "memory" cuts, every record once,
    snappy files that fastavro and Trino read;
  - a column added upstream (schema v2) and partitions by a column (nulls included): the column
    reaches the change table and the view.

Usage: test_sink.py path/to/salescdc-s3-sink   (tests/run provides the environment)
"""
import datetime
import decimal
import gzip
import hashlib
import hmac
import io
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

import fastavro
import requests
from confluent_kafka import Producer
from confluent_kafka.admin import AdminClient, NewTopic
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

SINK_BIN = None
RECORDS = 3000      # changes produced
ORDER_IDS = 400     # distinct orderids
PARTITIONS = 2      # Kafka partitions of the topic
FLUSH_RECORDS = 40  # --flush.records
IDLE_MS = 3000      # --flush.idle.ms: only the end of the data is an idle cut
PRODUCTS = ["Laptop", "Phone", "Tablet", "Headphones", "Charger"]
BASE_MS = 1704146400000  # 2024-01-01 22:00:00 UTC: the data spans midnight
STEP_US = 5400000        # commit time between changes: 3000 changes over 4.5 hours


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set: run through tests/run, or `source .stack/env` "
                         "after `deploy/local/stack up`")
    return value


def wait_until(what, check, timeout_s, interval_s=0.2):
    """Polls CHECK until it returns a true value; fails naming WHAT after TIMEOUT_S."""
    deadline = time.monotonic() + timeout_s
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what} (last: {last!r})")


def check(cond, message):
    if not cond:
        raise AssertionError(message)


# --- S3 (SigV4 by hand: the test venv has no AWS SDK) ---------------------------------------

class S3:
    def __init__(self):
        self.endpoint = env("SALESCDC_S3_ENDPOINT")
        self.bucket = env("SALESCDC_S3_BUCKET")
        self.region = env("SALESCDC_S3_REGION")
        self.access = env("SALESCDC_S3_ACCESS_KEY")
        self.secret = env("SALESCDC_S3_SECRET_KEY")

    def request(self, method, key="", query=None):
        query = query or {}
        host = urllib.parse.urlparse(self.endpoint).netloc
        path = "/" + self.bucket + ("/" + urllib.parse.quote(key, safe="/~") if key else "")
        qs = "&".join(f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(str(v), safe='~')}"
                      for k, v in sorted(query.items()))
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        payload_hash = hashlib.sha256(b"").hexdigest()
        headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
        signed = ";".join(sorted(headers))
        canonical = "\n".join([method, path, qs,
                               "".join(f"{k}:{headers[k]}\n" for k in sorted(headers)),
                               signed, payload_hash])
        scope = f"{day}/{self.region}/s3/aws4_request"
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope,
                             hashlib.sha256(canonical.encode()).hexdigest()])
        k = ("AWS4" + self.secret).encode()
        for part in (day, self.region, "s3", "aws4_request"):
            k = hmac.new(k, part.encode(), hashlib.sha256).digest()
        sig = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["Authorization"] = (f"AWS4-HMAC-SHA256 Credential={self.access}/{scope}, "
                                    f"SignedHeaders={signed}, Signature={sig}")
        del headers["host"]
        url = self.endpoint + path + ("?" + qs if qs else "")
        resp = requests.request(method, url, headers=headers, timeout=30)
        check(resp.status_code in (200, 204), f"S3 {method} {path}?{qs}: {resp.status_code} "
              f"{resp.text[:300]}")
        return resp

    def list(self, prefix):
        """Keys under PREFIX, sorted."""
        keys, token = [], None
        ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if token:
                query["continuation-token"] = token
            root = ET.fromstring(self.request("GET", query=query).content)
            keys += [c.find("s:Key", ns).text for c in root.findall("s:Contents", ns)]
            token_el = root.find("s:NextContinuationToken", ns)
            if token_el is None:
                return sorted(keys)
            token = token_el.text

    def get(self, key):
        return self.request("GET", key).content

    def delete_prefix(self, prefix):
        for key in self.list(prefix):
            self.request("DELETE", key)


# --- Trino --------------------------------------------------------------------------------

def trino(sql):
    """Runs SQL; returns the rows (decimals and timestamps as text)."""
    url, headers = env("SALESCDC_TRINO_URL"), {"X-Trino-User": "salescdc-test-sink"}
    r = requests.post(url + "/v1/statement", data=sql, headers=headers, timeout=60).json()
    rows = []
    while True:
        if "error" in r:
            raise AssertionError(f"Trino: {r['error'].get('errorName')}: "
                                 f"{r['error'].get('message')} in: {sql}")
        rows += r.get("data", [])
        if "nextUri" not in r:
            return rows
        r = requests.get(r["nextUri"], headers=headers, timeout=60).json()


# --- the data and what the sink must make of it ---------------------------------------------

VALUE_SCHEMA = {
    "type": "record", "name": "orders", "namespace": "sales.itest", "fields": [
        {"name": "orderid", "type": "string"},
        {"name": "product_name", "type": ["null", "string"], "default": None},
        {"name": "quantity", "type": ["null", "int"], "default": None},
        {"name": "price", "type": ["null", {"type": "bytes", "logicalType": "decimal",
                                            "precision": 10, "scale": 2}], "default": None},
        {"name": "created_at", "type": ["null", {"type": "long",
                                                 "logicalType": "timestamp-micros"}],
         "default": None},
        {"name": "__op", "type": "string"},
        {"name": "__lsn", "type": ["null", "long"], "default": None},
        {"name": "__txid", "type": ["null", "long"], "default": None},
        {"name": "__source_ts_ms", "type": "long"},
        {"name": "__table", "type": "string"},
        {"name": "__deleted", "type": "boolean"},
    ]}
KEY_SCHEMA = {"type": "record", "name": "orders_key", "namespace": "sales.itest",
              "fields": [{"name": "orderid", "type": "string"}]}


def make_changes():
    """The changes, deterministic: creates, updates and deletes over ~4.5 hours of commits."""
    changes, alive, lsn = [], {}, 1000
    for i in range(RECORDS):
        oid = str(1 + (i * 7919) % ORDER_IDS)
        lsn += 1 + i % 3
        ts_ms = BASE_MS + i * STEP_US // 1000 + (i % 7) * 13
        if oid in alive and i % 11 == 0:
            op, row = "d", alive.pop(oid)
        else:
            op = "u" if oid in alive else "c"
            price = decimal.Decimal(1000 + (i * 4391) % 49001) / 100  # 10.00 .. 500.00
            row = {"product_name": PRODUCTS[(i * 3) % 5], "quantity": 1 + i % 5,
                   "price": price.quantize(decimal.Decimal("0.01")),
                   "created_at": ts_ms * 1000 + i % 1000}
            if i % 97 == 0:
                row["product_name"] = None
            alive[oid] = row
        changes.append(dict(orderid=oid, **row, __op=op, __lsn=lsn, __txid=5000 + i,
                            __source_ts_ms=ts_ms, __table="orders", __deleted=op == "d"))
    return changes


def kafka_partition(orderid):
    return int(hashlib.md5(orderid.encode()).hexdigest(), 16) % PARTITIONS


def iso_micros(us):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(microseconds=us)
    return t.strftime("%Y-%m-%d %H:%M:%S.%f")


def json_line(c):
    """The JSON line the sink must write for change C."""
    def opt(v, f=lambda x: x):
        return None if v is None else f(v)
    obj = {"orderid": c["orderid"], "product_name": c["product_name"],
           "quantity": c["quantity"], "price": opt(c["price"], lambda p: f"{p:.2f}"),
           "created_at": opt(c["created_at"], iso_micros), "__op": c["__op"],
           "__lsn": c["__lsn"], "__txid": c["__txid"], "__source_ts_ms": c["__source_ts_ms"],
           "__table": c["__table"], "__deleted": c["__deleted"]}
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False)


def partition_path(ts_ms):
    t = datetime.datetime(1970, 1, 1) + datetime.timedelta(milliseconds=ts_ms)
    return t.strftime("dt=%Y-%m-%d/hour=%H")


def expected_objects(changes_by_partition, topic, table):
    """Simulates the flush rules: per Kafka partition, one buffer per dt/hour path; when a buffer
    reaches FLUSH_RECORDS every buffer of the partition is cut; the end of the data is an idle
    cut. Returns {relative key: [json lines]}."""
    objects = {}
    for part, changes in changes_by_partition.items():
        buffers = {}  # path -> (first offset, lines)

        def cut():
            for path, (first, lines) in buffers.items():
                key = f"{table}/{path}/{topic}+{part}+{first:020d}.json.gz"
                objects[key] = lines
            buffers.clear()
        for offset, c in enumerate(changes):
            path = partition_path(c["__source_ts_ms"])
            first, lines = buffers.setdefault(path, (offset, []))
            lines.append(json_line(c))
            if len(lines) >= FLUSH_RECORDS:
                cut()
        cut()
    return objects


def expected_state(changes):
    latest = {}
    for c in changes:
        if c["orderid"] not in latest or c["__lsn"] > latest[c["orderid"]]["__lsn"]:
            latest[c["orderid"]] = c
    return {oid: c for oid, c in latest.items() if not c["__deleted"]}


# --- the test -----------------------------------------------------------------------------

def produce(topic, changes, schema=VALUE_SCHEMA, create=True):
    if create:
        admin = AdminClient({"bootstrap.servers": env("SALESCDC_KAFKA_BROKERS")})
        for f in admin.create_topics([NewTopic(topic, PARTITIONS, 1)]).values():
            f.result(timeout=60)
    registry = SchemaRegistryClient({"url": env("SALESCDC_REGISTRY_URL")})
    value_ser = AvroSerializer(registry, json.dumps(schema))
    key_ser = AvroSerializer(registry, json.dumps(KEY_SCHEMA))
    producer = Producer({"bootstrap.servers": env("SALESCDC_KAFKA_BROKERS"),
                         "enable.idempotence": True})
    by_partition = {p: [] for p in range(PARTITIONS)}
    for c in changes:
        value = dict(c)
        if value["created_at"] is not None:
            value["created_at"] = (datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
                                   + datetime.timedelta(microseconds=value["created_at"]))
        part = kafka_partition(c["orderid"])
        producer.produce(topic, partition=part,
                         key=key_ser({"orderid": c["orderid"]},
                                     SerializationContext(topic, MessageField.KEY)),
                         value=value_ser(value, SerializationContext(topic, MessageField.VALUE)))
        by_partition[part].append(c)
        producer.poll(0)
    check(producer.flush(60) == 0, "producer could not deliver every record")
    return by_partition


class Sink:
    """One salescdc-s3-sink process for a run (group, S3 prefix and Trino prefix)."""

    def __init__(self, run, topic, log_dir, extra=()):
        self.run, self.topic = run, topic
        self.prefix = f"itest/sink-{run}"
        self.table_prefix = f"{run.replace('-', '_')}_"
        self.log = open(os.path.join(log_dir, f"sink-{run}.log"), "ab")
        self.args = [SINK_BIN, "--topics.regex", topic, "--group.id", f"itest-sink-{run}",
                     "--s3.prefix", self.prefix, "--trino.table.prefix", self.table_prefix,
                     "--flush.records", str(FLUSH_RECORDS), "--flush.idle.ms", str(IDLE_MS),
                     "--rotate.interval.ms", "86400000", "--http.port", "-1",
                     "--trino.retry.ms", "1000", "--log.level", "info",
                     # the restarted member must not wait 45 s for the killed one to expire
                     "--kafka.session.timeout.ms", "6000", *extra]
        self.proc = None

    def start(self):
        env_vars = dict(os.environ, SALESCDC_S3_ENDPOINT=env("SALESCDC_S3_ENDPOINT"),
                        SALESCDC_TRINO_URL=env("SALESCDC_TRINO_URL"))
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log, env=env_vars)

    def metrics_url(self):
        """The /metrics URL the sink logged (with --http.port 0)."""
        def logged():
            with open(self.log.name, "rb") as f:
                m = re.search(rb"metrics on (http://[0-9.:]+)/metrics", f.read())
            return m and m.group(1).decode()
        return wait_until("the metrics address in the log", logged, 30)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=30)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        rc = self.proc.wait(timeout=120)
        check(rc == 0, f"sink {self.run} exited {rc} after SIGTERM (log: {self.log.name})")


class Proxy:
    """A TCP proxy to TARGET ("host:port") that refuses connections (accepts and closes them at
    once) until forwarding is switched on: a service that is down, then back."""

    def __init__(self, target):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.forwarding = False
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            conn, _ = self.server.accept()
            if not self.forwarding:
                conn.close()
                continue
            upstream = socket.create_connection(self.target)
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def pipe(src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def stored_objects(s3, prefix):
    """{key relative to PREFIX: raw bytes} of every object under PREFIX."""
    return {k[len(prefix) + 1:]: s3.get(k) for k in s3.list(prefix + "/")}


def record_count(key, raw):
    if key.endswith(".avro"):
        return sum(1 for _ in fastavro.reader(io.BytesIO(raw)))
    return gzip.decompress(raw).count(b"\n")


def wait_stored(s3, sink, total):
    def done():
        if sink.proc.poll() is not None:
            raise AssertionError(f"sink {sink.run} exited {sink.proc.returncode} "
                                 f"(log: {sink.log.name})")
        n = sum(record_count(k, s3.get(k)) for k in s3.list(sink.prefix + "/"))
        return n if n >= total else False
    stored = wait_until(f"{total} records stored by sink {sink.run}", done, 180, 1.0)
    check(stored == total, f"sink {sink.run} stored {stored} records, expected {total}")


def check_objects(objects, expected, run):
    check(sorted(objects) == sorted(expected),
          f"run {run}: object keys differ:\n only stored: {sorted(set(objects) - set(expected))[:5]}"
          f"\n only expected: {sorted(set(expected) - set(objects))[:5]}")
    for key, raw in objects.items():
        check(key.endswith(".json.gz") and re.search(r"\+[0-9]\+[0-9]{20}\.json\.gz$", key),
              f"key {key} is not <topic>+<partition>+<20-digit offset>.json.gz")
        lines = gzip.decompress(raw).decode().splitlines()
        check(lines == expected[key], f"run {run}: content of {key} differs: "
              f"first stored {lines[:1]}, first expected {expected[key][:1]}")


def trino_results(sink, table):
    changes = f'hive.sales."{sink.table_prefix}{table}_changes"'
    view = f'hive.sales."{sink.table_prefix}{table}"'
    count = trino(f"SELECT count(*), count(DISTINCT (orderid, __lsn)) FROM {changes}")[0]
    state = trino(f"SELECT orderid, product_name, quantity, CAST(price AS varchar), "
                  f"CAST(created_at AS varchar) FROM {view} ORDER BY orderid")
    sums = trino(f"SELECT product_name, CAST(sum(quantity * price) AS varchar) FROM {view} "
                 f"GROUP BY 1 ORDER BY 1 NULLS FIRST")
    return count, state, sums


def row_count(table):
    """Rows in TABLE, or None while the sink has not created it yet."""
    try:
        return trino(f"SELECT count(*) FROM {table}")[0][0]
    except AssertionError as e:
        if "TABLE_NOT_FOUND" in str(e):
            return None
        raise


def check_trino(sink, table, changes):
    changes_table = f'hive.sales."{sink.table_prefix}{table}_changes"'
    wait_until(f"{len(changes)} rows in {changes_table}",
               lambda: row_count(changes_table) == len(changes), 120, 1.0)
    count, state, sums = trino_results(sink, table)
    check(count == [len(changes), len(changes)], f"_changes: {count}, want {len(changes)} rows, "
          "all distinct")
    latest = expected_state(changes)
    # Hive's timestamp precision is milliseconds: Trino rounds the µs text half up.
    want_state = [[oid, c["product_name"], c["quantity"], f"{c['price']:.2f}",
                   iso_micros((c["created_at"] + 500) // 1000 * 1000)[:23]]
                  for oid, c in sorted(latest.items())]
    check(state == want_state, f"view rows differ: got {state[:3]}, want {want_state[:3]}")
    totals = {}
    for c in latest.values():
        totals[c["product_name"]] = totals.get(c["product_name"], 0) + c["quantity"] * c["price"]
    want_sums = [[p, f"{v:.2f}"] for p, v in sorted(totals.items(), key=lambda kv: (
        kv[0] is not None, kv[0] or ""))]
    check(sums == want_sums, f"sum(quantity*price) per product: got {sums}, want {want_sums}")
    return count, state, sums


def delete_topic(topic):
    """Deletes the test topic, which the default topics.regex of any other sink would match."""
    admin = AdminClient({"bootstrap.servers": env("SALESCDC_KAFKA_BROKERS")})
    try:
        for f in admin.delete_topics([topic]).values():
            f.result(timeout=60)
    except Exception as e:  # leave it
        print(f"cannot delete topic {topic}: {e}", file=sys.stderr)


def cleanup(s3, sinks, table):
    for sink in sinks:
        try:
            trino(f'DROP VIEW IF EXISTS hive.sales."{sink.table_prefix}{table}"')
            trino(f'DROP TABLE IF EXISTS hive.sales."{sink.table_prefix}{table}_changes"')
            s3.delete_prefix(sink.prefix + "/")
        except Exception as e:  # leave it: names are unique
            print(f"cleanup of run {sink.run}: {e}", file=sys.stderr)


def run_clean(s3, topic, table, changes, expected, log_dir, n):
    """A clean run: objects and Trino as computed here; /metrics and /healthz answer."""
    sink = Sink(f"s{n}-clean", topic, log_dir, ["--http.port", "0"])
    sink.start()
    wait_stored(s3, sink, len(changes))
    objects = stored_objects(s3, sink.prefix)
    check_objects(objects, expected, sink.run)
    results = check_trino(sink, table, changes)
    url = sink.metrics_url()
    check(requests.get(url + "/healthz", timeout=10).status_code == 200, "/healthz is not 200")
    metrics = requests.get(url + "/metrics", timeout=10).text
    for line in (f"salescdc_sink_objects_total {len(expected)}",
                 f"salescdc_sink_stored_records_total {len(changes)}",
                 "salescdc_sink_buffered_records 0", 'salescdc_sink_flushes_total{reason="idle"}'):
        check(line in metrics, f"/metrics lacks '{line}'")
    sink.stop()
    print(f"clean run: {len(objects)} objects, {len(changes)} records, Trino and /metrics match")
    return sink, objects, results


def run_kill9(s3, topic, table, changes, clean_objects, clean_results, log_dir, n):
    """kill -9 as soon as the first object landed, restart: the same objects and results."""
    sink = Sink(f"s{n}-kill9", topic, log_dir)
    sink.start()
    wait_until("the first object of the run to be killed",
               lambda: s3.list(sink.prefix + "/"), 60, 0.02)
    sink.kill9()
    landed = len(s3.list(sink.prefix + "/"))
    sink.start()
    wait_stored(s3, sink, len(changes))
    objects = stored_objects(s3, sink.prefix)
    check(objects == clean_objects, "objects after kill -9 and restart differ from the clean run's")
    check(check_trino(sink, table, changes) == clean_results, "Trino results after kill -9 differ")
    sink.stop()
    print(f"kill -9 after {landed} object(s) and restart: the same {len(objects)} objects "
          "(byte for byte) and Trino results")
    return sink


def run_outage(s3, topic, table, changes, clean_objects, clean_results, log_dir, n):
    """S3 and Trino down at start (a proxy refusing connections), back later: nothing lost,
    nothing doubled, the catalog catches up."""
    s3_proxy = Proxy(urllib.parse.urlparse(env("SALESCDC_S3_ENDPOINT")).netloc)
    trino_proxy = Proxy(urllib.parse.urlparse(env("SALESCDC_TRINO_URL")).netloc)
    sink = Sink(f"s{n}-outage", topic, log_dir, [
        "--s3.endpoint", f"http://127.0.0.1:{s3_proxy.port}", "--s3.max.attempts", "2",
        "--upload.backoff.initial.ms", "200", "--upload.backoff.max.ms", "1000",
        "--trino.url", f"http://127.0.0.1:{trino_proxy.port}"])
    sink.start()

    def retried():
        with open(sink.log.name, "rb") as f:
            return f.read().count(b"upload failed, retrying") >= 3
    wait_until("the sink retrying uploads while S3 is down", retried, 60)
    check(not s3.list(sink.prefix + "/"), "objects landed while S3 was down")
    s3_proxy.forwarding = True
    wait_stored(s3, sink, len(changes))
    check(stored_objects(s3, sink.prefix) == clean_objects, "objects after the outage differ")
    trino_proxy.forwarding = True
    check(check_trino(sink, table, changes) == clean_results, "Trino results after the outage "
          "differ")
    sink.stop()
    print("S3 and Trino down at start, back later: the same objects and Trino results")
    return sink


def check_avro(s3, sink, table, changes, codec):
    """Every record stored once in Avro files of CODEC that fastavro reads (logical types kept);
    the Trino view exact to the µs. Returns the keys."""
    wait_stored(s3, sink, len(changes))
    keys = s3.list(sink.prefix + "/")
    check(all(k.endswith(".avro") for k in keys), f"not Avro keys: {keys[:3]}")
    reader = fastavro.reader(io.BytesIO(s3.get(keys[0])))
    check(reader.codec == codec, f"codec {reader.codec}, expected {codec}")
    check(reader.writer_schema["fields"][3]["type"][1].get("logicalType") == "decimal",
          "the file's schema lost the decimal logical type")
    view = f'hive.sales."{sink.table_prefix}{table}"'
    changes_table = f'hive.sales."{sink.table_prefix}{table}_changes"'
    wait_until(f"{len(changes)} rows in {changes_table}",
               lambda: row_count(changes_table) == len(changes), 120, 1.0)
    latest = expected_state(changes)
    got = trino(f"SELECT orderid, CAST(price AS varchar), CAST(created_at AS varchar) FROM {view} "
                "ORDER BY orderid")
    want = [[oid, f"{c['price']:.2f}", iso_micros(c["created_at"])]
            for oid, c in sorted(latest.items())]
    check(got == want, f"Avro view: got {got[:2]}, want {want[:2]}")
    return keys


def run_avro(s3, topic, table, changes, log_dir, n):
    """format=avro: Avro files (schema verbatim, deflate) that fastavro and Trino read."""
    sink = Sink(f"s{n}-avro", topic, log_dir, ["--format", "avro"])
    sink.start()
    keys = check_avro(s3, sink, table, changes, "deflate")
    sink.stop()
    print(f"format=avro: {len(keys)} files read by fastavro; Trino view exact to the µs")
    return sink


def run_memory(s3, topic, table, changes, log_dir, n):
    """buffer.max.bytes: with a bound far below what the buffers would hold (no count cut), the
    partitions holding the most are stored early, and still every record lands once; Avro
    snappy files that fastavro and Trino read."""
    sink = Sink(f"s{n}-memory", topic, log_dir,
                ["--format", "avro", "--avro.codec", "snappy", "--flush.records", "1000000",
                 "--buffer.max.bytes", "150000", "--http.port", "0"])
    sink.start()
    keys = check_avro(s3, sink, table, changes, "snappy")
    metrics = requests.get(sink.metrics_url() + "/metrics", timeout=10).text
    m = re.search(r'^salescdc_sink_flushes_total\{reason="memory"\} (\d+)$', metrics, re.M)
    check(m and int(m.group(1)) > 0, "no flush for the memory bound in /metrics")
    held = re.search(r"^salescdc_sink_buffered_bytes (\d+)$", metrics, re.M)
    check(held and int(held.group(1)) == 0, f"buffered bytes after the last flush: {held}")
    sink.stop()
    print(f"buffer.max.bytes: {m.group(1)} memory flushes, {len(keys)} snappy Avro files, every "
          "record once, Trino view exact")
    return sink


def run_evolve(s3, log_dir, n):
    """A column added upstream (a new value schema version) becomes a column of the change table
    and the view; partitions by a column's value (product_name, nulls included)."""
    topic, table = f"sales.test{n}.items.flat", f"test{n}_items"
    v1 = [c for c in make_changes()[:300]]
    v2_schema = json.loads(json.dumps(VALUE_SCHEMA))
    v2_schema["fields"].insert(5, {"name": "discount", "type": ["null", {
        "type": "bytes", "logicalType": "decimal", "precision": 5, "scale": 2}], "default": None})
    v2 = [dict(c, __lsn=c["__lsn"] + 100000, __op="u" if c["__op"] != "d" else "d",
               discount=decimal.Decimal("1.50")) for c in make_changes()[300:340]]
    produce(topic, v1)
    sink = Sink(f"s{n}-evolve", topic, log_dir, ["--partition.by", "column",
                                                 "--partition.column", "product_name"])
    sink.start()
    wait_stored(s3, sink, len(v1))
    produce(topic, v2, v2_schema, create=False)
    wait_stored(s3, sink, len(v1) + len(v2))
    keys = s3.list(sink.prefix + "/")
    check(any("/product_name=__HIVE_DEFAULT_PARTITION__/" in k for k in keys) and
          any("/product_name=Laptop/" in k for k in keys), f"column partitions: {keys[:3]}")
    changes_table = f'hive.sales."{sink.table_prefix}{table}_changes"'
    wait_until("the discount column and every row in Trino",
               lambda: row_count(f"{changes_table} WHERE discount IS NOT NULL") == len(v2)
               and row_count(changes_table) == len(v1) + len(v2), 120, 1.0)
    latest = expected_state(v1 + v2)
    got = trino(f'SELECT orderid, product_name, CAST(discount AS varchar) FROM hive.sales."'
                f'{sink.table_prefix}{table}" ORDER BY orderid')
    want = [[oid, c["product_name"], "1.50" if "discount" in c else None]
            for oid, c in sorted(latest.items())]
    check(got == want, f"view after the schema change: got {got[:3]}, want {want[:3]}")
    sink.stop()
    print(f"schema change: column discount added to {table}_changes and its view; partitions by "
          "product_name")
    return sink, table


def main():
    global SINK_BIN
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    SINK_BIN = os.path.abspath(sys.argv[1])
    n = f"{int(time.time())}{os.getpid() % 1000:03d}"
    topic, table = f"sales.test{n}.orders.flat", f"test{n}_orders"
    s3 = S3()
    changes = make_changes()
    by_partition = produce(topic, changes)
    expected = expected_objects(by_partition, topic, table)
    log_dir = tempfile.mkdtemp(prefix="test_sink_")
    print(f"logs in {log_dir}")
    clean, objects, results = run_clean(s3, topic, table, changes, expected, log_dir, n)
    sinks = [clean,
             run_kill9(s3, topic, table, changes, objects, results, log_dir, n),
             run_outage(s3, topic, table, changes, objects, results, log_dir, n),
             run_avro(s3, topic, table, changes, log_dir, n),
             run_memory(s3, topic, table, changes, log_dir, n)]
    cleanup(s3, sinks, table)
    delete_topic(topic)
    evolve, evolve_table = run_evolve(s3, log_dir, n)
    cleanup(s3, [evolve], evolve_table)
    delete_topic(evolve.topic)
    print("test_sink: ok")


if __name__ == "__main__":
    main()
