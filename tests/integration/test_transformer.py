#!/usr/bin/env python3
"""Integration tests of salescdc-transformer against the local stack's Kafka and registry.

Envelopes with the connector's (Debezium-shaped) schemas from tests/fixtures/envelope are written
by Confluent's own AvroSerializer into a unique input topic; the transformer binary (argv[1])
flattens them; an independent read_committed consumer (Confluent's AvroDeserializer, and fastavro
on the raw bytes) checks every flat record exactly once with exact types, the dead letters with
their headers, the schema change, the JSON format, /metrics, SIGTERM, and kill -9 + restart.

Usage: test_transformer.py path/to/salescdc-transformer   (tests/run provides the environment)
"""
import datetime
import decimal
import io
import json
import os
import re
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request
import uuid

import fastavro
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import (AdminClient, AlterConfigOpType, ConfigEntry, ConfigResource,
                                  NewTopic, ResourceType)
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "..", "fixtures", "envelope")
BIN = None  # set from argv in main
UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 1, 1, tzinfo=UTC)


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set: run through tests/run, or `source .stack/env` "
                         "after `deploy/local/stack up`")
    return value


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as f:
        return f.read()


def unique(prefix):
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def source(table, txid, lsn):
    return {"version": "0.1.0", "connector": "postgresql", "name": "sales",
            "ts_ms": 1704067200000 + txid, "db": "salescdc", "schema": "public", "table": table,
            "txId": txid, "lsn": lsn}


def row(orderid, price, quantity=1, product="Laptop", note=None, v2=False):
    r = {"orderid": orderid, "product_name": product, "quantity": quantity, "price": price,
         "customer_id": None if quantity == 5 else 7, "status": "placed",
         "created_at": T0 + datetime.timedelta(microseconds=123456),
         "updated_at": None}
    if v2:
        r["note"] = note
    return r


def envelope(op, before, after, txid, lsn):
    return {"before": before, "after": after, "source": source("orders", txid, lsn), "op": op,
            "ts_ms": 1704067201000}


class Stack:
    """Clients of the stack's Kafka and registry, shared by the tests."""

    def __init__(self):
        self.brokers = env("SALESCDC_KAFKA_BROKERS")
        self.registry_url = env("SALESCDC_REGISTRY_URL")
        self.registry = SchemaRegistryClient({"url": self.registry_url})
        self.admin = AdminClient({"bootstrap.servers": self.brokers})

    def create_topic(self, name, partitions, config=None):
        futures = self.admin.create_topics([NewTopic(name, partitions, 1, config=config or {})])
        futures[name].result(30)

    def topic_config(self, name, key):
        res = ConfigResource(ResourceType.TOPIC, name)
        return self.admin.describe_configs([res])[res].result(30)[key].value

    def set_topic_config(self, name, key, value):
        res = ConfigResource(ResourceType.TOPIC, name, incremental_configs=[
            ConfigEntry(key, value, incremental_operation=AlterConfigOpType.SET)])
        self.admin.incremental_alter_configs([res])[res].result(30)
        wait_until(f"{name} {key}={value}", lambda: self.topic_config(name, key) == value, 30)

    def serializers(self, value_schema):
        conf = {"auto.register.schemas": True}
        key = AvroSerializer(self.registry, fixture("orders_key.avsc"), conf=conf)
        value = AvroSerializer(self.registry, value_schema, conf=conf)
        return key, value


class Writer:
    """Writes envelopes (and raw bytes) into TOPIC in order, one partition per key's hash."""

    def __init__(self, stack, topic, partitions):
        self.stack, self.topic, self.partitions = stack, topic, partitions
        self.producer = Producer({"bootstrap.servers": stack.brokers, "enable.idempotence": True})
        self.key_ser, self.v1 = stack.serializers(fixture("orders_value_v1.avsc"))
        _, self.v2 = stack.serializers(fixture("orders_value_v2.avsc"))
        self.sent = []  # (partition, key bytes, value bytes or None)

    def partition_of(self, orderid):
        return int(orderid) % self.partitions

    def key(self, orderid):
        return self.key_ser({"orderid": orderid}, SerializationContext(self.topic, MessageField.KEY))

    def send(self, orderid, value_dict=None, raw=None, v2=False, tombstone=False):
        key = self.key(orderid)
        if tombstone:
            value = None
        elif raw is not None:
            value = raw
        else:
            ser = self.v2 if v2 else self.v1
            value = ser(value_dict, SerializationContext(self.topic, MessageField.VALUE))
        part = self.partition_of(orderid)
        self.producer.produce(self.topic, key=key, value=value, partition=part)
        self.sent.append((part, key, value))
        return value

    def flush(self):
        assert self.producer.flush(30) == 0, "input records not delivered"


def read_committed(brokers, topic, expected, timeout_s=120):
    """Reads TOPIC with isolation.level=read_committed until EXPECTED records came, then on to
    the end of every partition (so that a duplicate written with them would be seen too).
    Returns the messages."""
    consumer = Consumer({"bootstrap.servers": brokers, "group.id": unique("itest-reader-"),
                         "auto.offset.reset": "earliest", "enable.auto.commit": False,
                         "isolation.level": "read_committed", "enable.partition.eof": True})
    consumer.subscribe([topic])
    got, eof, deadline = [], set(), time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline:
            m = consumer.poll(0.5)
            if m is None:
                continue
            if m.error():
                if m.error().code() == -191:  # _PARTITION_EOF
                    eof.add(m.partition())
                    assignment = consumer.assignment()
                    if len(got) >= expected and assignment and eof >= {p.partition for p in assignment}:
                        return got
                    continue
                if m.error().code() == 3:  # UNKNOWN_TOPIC_OR_PART: not created yet
                    continue
                raise AssertionError(f"reading {topic}: {m.error()}")
            got.append(m)
            eof.discard(m.partition())
        raise AssertionError(f"timed out after {timeout_s}s reading {topic}: {len(got)} of "
                             f"{expected} records")
    finally:
        consumer.close()


class Transformer:
    """The binary under test, on its own group, transactional.id and a free HTTP port."""

    def __init__(self, topic, group, txid, *extra):
        self.log = tempfile.NamedTemporaryFile(prefix="transformer-", suffix=".log", delete=False)
        self.args = [BIN, "--topics", topic, "--group.id", group, "--transaction.id", txid,
                     "--http.port", "0", "--transaction.max.records", "25",
                     "--kafka.session.timeout.ms", "6000", *extra]
        self.proc = None

    def start(self):
        self.proc = subprocess.Popen(self.args, stdout=self.log, stderr=self.log)
        return self

    def output(self):
        with open(self.log.name) as f:
            return f.read()

    def metrics_url(self):
        def find():
            m = re.search(r"metrics on (http://[0-9.]+:[0-9]+)/metrics", self.output())
            return m and m.group(1)
        return wait_until("the transformer's metrics address", find, 30)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(60)

    def kill(self):
        self.proc.kill()
        self.proc.wait(30)

    def cleanup(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(30)
        os.unlink(self.log.name)


def wait_until(what, check, timeout_s):
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.2)


def headers_of(msg):
    return {k: v.decode() for k, v in (msg.headers() or [])}


class TransformerTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.stack = Stack()

    def run_transformer(self, topic, *extra, txid=None, group=None):
        t = Transformer(topic, group or unique("itest-group-"), txid or unique("itest-txn-"), *extra)
        self.addCleanup(t.cleanup)
        return t.start()

    def test_flat_records_exactly_once_with_types_dead_letters_and_schema_change(self):
        topic = unique("sales.it") + ".orders"
        self.stack.create_topic(topic, 2)
        w = Writer(self.stack, topic, 2)
        prices = [decimal.Decimal(p) for p in ("123.45", "0.05", "-12.30", "99999999.99", "10.00")]
        expected = {}  # (orderid, op) -> price
        for i in range(1, 41):
            oid = str(i)
            price = prices[i % len(prices)]
            w.send(oid, envelope("c", None, row(oid, price, quantity=i % 5 + 1), 1000 + i, 5000 + i))
            expected[(oid, "c")] = price
        w.send("3", envelope("u", row("3", prices[3]), row("3", decimal.Decimal("1.01")), 2001, 9001))
        expected[("3", "u")] = decimal.Decimal("1.01")
        w.send("4", envelope("d", row("4", prices[4], product="Phone"), None, 2002, 9002))
        expected[("4", "d")] = prices[4]
        w.send("4", tombstone=True)
        w.send("5", envelope("t", None, None, 2003, 9003))  # truncate: dropped
        w.send("6", raw=b"\x01this is not Avro")              # wrong magic byte
        w.send("8", raw=b"\x00" + struct.pack(">I", 2**31 - 2) + b"\x02")  # unknown schema id
        good = w.v1(envelope("c", None, row("10", prices[0]), 2004, 9004),
                    SerializationContext(topic, MessageField.VALUE))
        w.send("10", raw=good[:-3])                            # truncated Avro
        for i in range(41, 46):                                # a new column upstream
            oid = str(i)
            w.send(oid, envelope("c", None, row(oid, prices[0], note=f"n{i}", v2=True), 3000 + i,
                                 12000 + i), v2=True)
            expected[(oid, "c")] = prices[0]
        w.flush()

        t = self.run_transformer(topic)
        flat = read_committed(self.stack.brokers, topic + ".flat", len(expected))
        dlq = read_committed(self.stack.brokers, topic + ".dlq", 3)
        self.assertEqual(len(flat), len(expected), "each change exactly once")
        self.assertEqual(len(dlq), 3)

        deser = AvroDeserializer(self.stack.registry)
        seen = {}
        for m in flat:
            rec = deser(m.value(), SerializationContext(m.topic(), MessageField.VALUE))
            key = (rec["orderid"], rec["__op"])
            self.assertNotIn(key, seen, f"duplicate {key}")
            seen[key] = rec
            self.assertEqual(rec["price"], expected[key])
            self.assertIsInstance(rec["price"], decimal.Decimal)
            self.assertEqual(rec["created_at"], T0 + datetime.timedelta(microseconds=123456))
            self.assertEqual(rec["__deleted"], rec["__op"] == "d")
            self.assertEqual(rec["__table"], "orders")
            self.assertEqual(m.key(), w.key(rec["orderid"]), "same key bytes")
            self.assertEqual(m.partition(), w.partition_of(rec["orderid"]), "same partition")
        self.assertEqual(set(seen), set(expected))
        self.assertEqual(seen[("4", "d")]["product_name"], "Phone")  # the before image
        self.assertEqual((seen[("3", "u")]["__lsn"], seen[("3", "u")]["__txid"]), (9001, 2001))
        self.assertEqual(seen[("1", "c")]["__source_ts_ms"], 1704067200000 + 1001)
        self.assertIsNone(seen[("4", "c")]["customer_id"])       # quantity 5 -> null
        self.assertEqual(seen[("42", "c")]["note"], "n42")
        self.assertNotIn("note", seen[("1", "c")])

        # The registered flat schemas: two versions (a column added upstream), logical types kept,
        # readable by fastavro on the raw bytes.
        subject = topic + ".flat-value"
        self.assertEqual(self.stack.registry.get_versions(subject), [1, 2])
        latest = json.loads(self.stack.registry.get_latest_version(subject).schema.schema_str)
        price_type = next(f["type"] for f in latest["fields"] if f["name"] == "price")
        self.assertEqual(price_type[1], {"type": "bytes", "logicalType": "decimal",
                                         "precision": 10, "scale": 2})
        parsed = fastavro.parse_schema(latest)
        raw = next(m.value() for m in flat if m.value()[1:5] == struct.pack(
            ">I", self.stack.registry.get_latest_version(subject).schema_id))
        rec = fastavro.schemaless_reader(io.BytesIO(raw[5:]), parsed)
        self.assertEqual(rec["price"], prices[0])

        # Dead letters: unchanged, with the reason and the origin.
        classes = {}
        for m in dlq:
            h = headers_of(m)
            classes[h["salescdc.error.class"]] = (m, h)
            self.assertEqual(h["salescdc.source.topic"], topic)
            origin = [s for s in w.sent if s[2] == m.value()]
            self.assertEqual(len(origin), 1)
            self.assertEqual(int(h["salescdc.source.partition"]), origin[0][0])
            self.assertTrue(h["salescdc.time"].endswith("Z"))
            self.assertTrue(h["salescdc.source.offset"].isdigit())
        self.assertEqual(set(classes), {"not_framed", "unknown_schema", "corrupt_avro"})
        self.assertIn("magic byte is 0x01", classes["not_framed"][1]["salescdc.error"])
        self.assertIn("schema id 2147483646", classes["unknown_schema"][1]["salescdc.error"])
        self.assertIn("40403", classes["unknown_schema"][1]["salescdc.error"])

        # Metrics count what was committed; SIGTERM exits 0.
        url = t.metrics_url()
        total_in = len(w.sent)
        def counted():
            text = urllib.request.urlopen(url + "/metrics", timeout=10).read().decode()
            m = re.search(r"^salescdc_transformer_records_in_total (\d+)$", text, re.M)
            return m and int(m.group(1)) == total_in and text
        text = wait_until("records_in_total to reach every input record", counted, 30)
        self.assertIn(f"salescdc_transformer_records_dlq_total 3\n", text)
        self.assertIn(f"salescdc_transformer_records_out_total {len(expected)}\n", text)
        self.assertIn("salescdc_transformer_records_dropped_total 2\n", text)  # tombstone, truncate
        self.assertRegex(text, r'salescdc_transformer_consumer_lag\{topic="[^"]+",partition="0"\} 0')
        self.assertEqual(urllib.request.urlopen(url + "/healthz", timeout=10).status, 200)
        self.assertEqual(t.stop(), 0, t.output())

    def test_json_format_and_passed_tombstones(self):
        topic = unique("sales.it") + ".orders"
        self.stack.create_topic(topic, 1)
        w = Writer(self.stack, topic, 1)
        w.send("1", envelope("c", None, row("1", decimal.Decimal("-0.50")), 1, 2))
        w.send("1", envelope("d", row("1", decimal.Decimal("-0.50")), None, 3, 4))
        w.send("1", tombstone=True)
        w.flush()
        t = self.run_transformer(topic, "--format", "json", "--tombstones", "pass",
                                 "--columns.exclude", "status", "--columns.rename",
                                 "orderid:order_id")
        out = read_committed(self.stack.brokers, topic + ".flat", 3)
        self.assertEqual(len(out), 3)
        first = json.loads(out[0].value())
        self.assertEqual(first, {
            "order_id": "1", "product_name": "Laptop", "quantity": 1, "price": "-0.50",
            "customer_id": 7, "created_at": "2024-01-01T00:00:00.123456Z", "updated_at": None,
            "__op": "c", "__lsn": 2, "__txid": 1, "__source_ts_ms": 1704067200001,
            "__table": "orders", "__deleted": False})
        self.assertEqual(json.loads(out[1].value())["__deleted"], True)
        self.assertIsNone(out[2].value())
        self.assertEqual(out[2].key(), w.key("1"))
        self.assertEqual(t.stop(), 0, t.output())

    def test_kill_9_mid_stream_and_restart_keeps_exactly_once(self):
        topic = unique("sales.it") + ".orders"
        self.stack.create_topic(topic, 2)
        w = Writer(self.stack, topic, 2)
        n, half = 3000, 1500

        def send(first, last):
            for i in range(first, last):
                oid = str(i)
                w.send(oid, envelope("c", None, row(oid, decimal.Decimal(i) / 100), i, i))
            w.flush()
        # The first half is written before the first instance starts and the second half only
        # after it was killed, so the kill always lands before the end of the input however fast
        # the transformer is; three records per transaction leave it mid-stream most of the time.
        send(0, half)
        txid, group = unique("itest-txn-"), unique("itest-group-")
        first = self.run_transformer(topic, "--transaction.max.records", "3", txid=txid,
                                     group=group)
        read_committed(self.stack.brokers, topic + ".flat", 300)  # some committed
        first.kill()
        before = read_committed(self.stack.brokers, topic + ".flat", 0)
        self.assertGreaterEqual(len(before), 300, "records committed before the kill")
        self.assertLessEqual(len(before), half, "nothing beyond the input, nothing doubled")
        send(half, n)
        second = self.run_transformer(topic, txid=txid, group=group)
        out = read_committed(self.stack.brokers, topic + ".flat", n)
        deser = AvroDeserializer(self.stack.registry)
        ids = [deser(m.value(), SerializationContext(m.topic(), MessageField.VALUE))["orderid"]
               for m in out]
        self.assertEqual(len(ids), n, "no duplicate, no loss for read_committed")
        self.assertEqual(sorted(ids), sorted(str(i) for i in range(n)))
        self.assertEqual(second.stop(), 0, second.output())


    def test_records_too_large_for_the_output_topic_go_to_the_dead_letter_queue(self):
        """A flat record larger than the output topic's max.message.bytes is a dead letter
        (class record_too_large) and the records around it flow on: found before producing
        when the limit is known, and after the broker refused it (one abort, the limit read
        again) when the topic's limit was lowered while the transformer ran."""
        topic = unique("sales.it") + ".orders"
        self.stack.create_topic(topic, 1)
        self.stack.create_topic(topic + ".flat", 1, {"max.message.bytes": "4096"})
        w = Writer(self.stack, topic, 1)
        n = 0

        def good(count):
            nonlocal n
            for _ in range(count):
                n += 1
                w.send(str(n), envelope("c", None, row(str(n), decimal.Decimal("1.00")), n, n))

        good(5)
        w.send("9001", envelope("c", None, row("9001", decimal.Decimal("2.00"), product="L" * 20000),
                                9001, 9001))
        good(5)
        w.flush()
        t = self.run_transformer(topic)
        self.assertEqual(len(read_committed(self.stack.brokers, topic + ".flat", 10)), 10)
        dlq = read_committed(self.stack.brokers, topic + ".dlq", 1)
        self.assertEqual(len(dlq), 1)
        h = headers_of(dlq[0])
        self.assertEqual(h["salescdc.error.class"], "record_too_large")
        self.assertIn("max.message.bytes 4096", h["salescdc.error"])
        self.assertEqual(dlq[0].value(), w.sent[5][2], "the input record, unchanged")
        self.assertNotIn("transaction aborted", t.output(), "found before producing")

        # The limit lowered behind the transformer's back: the broker refuses the record.
        self.stack.set_topic_config(topic + ".flat", "max.message.bytes", "2048")
        w.send("9002", envelope("c", None, row("9002", decimal.Decimal("3.00"), product="M" * 3000),
                                9002, 9002))
        good(5)
        w.flush()
        flat = read_committed(self.stack.brokers, topic + ".flat", 15)
        dlq = read_committed(self.stack.brokers, topic + ".dlq", 2)
        self.assertEqual(len(dlq), 2)
        self.assertEqual(headers_of(dlq[1])["salescdc.error.class"], "record_too_large")
        self.assertIn("max.message.bytes 2048", headers_of(dlq[1])["salescdc.error"])
        deser = AvroDeserializer(self.stack.registry)
        ids = sorted(int(deser(m.value(), SerializationContext(m.topic(), MessageField.VALUE))
                         ["orderid"]) for m in flat)
        self.assertEqual(ids, list(range(1, 16)), "every good record once, in spite of the abort")
        self.assertLessEqual(t.output().count("transaction aborted"), 2, t.output())
        self.assertIn("max.message.bytes again", t.output())
        self.assertEqual(t.stop(), 0, t.output())

    def test_at_least_once_mode_commits_offsets_after_delivery(self):
        topic = unique("sales.it") + ".orders"
        self.stack.create_topic(topic, 2)
        w = Writer(self.stack, topic, 2)
        n = 200
        for i in range(n):
            w.send(str(i), envelope("c", None, row(str(i), decimal.Decimal("1.00")), i, i))
        w.flush()
        group = unique("itest-group-")
        t = self.run_transformer(topic, "--exactly-once", "false", group=group)
        out = read_committed(self.stack.brokers, topic + ".flat", n)
        self.assertEqual(len(out), n, "a clean run writes each change once")
        c = Consumer({"bootstrap.servers": self.stack.brokers, "group.id": group})
        try:
            def committed():
                parts = c.committed([TopicPartition(topic, p) for p in range(2)], timeout=10)
                return sum(max(p.offset, 0) for p in parts) == n
            wait_until("the group's offsets to cover every input record", committed, 30)
        finally:
            c.close()
        self.assertIn("transactional.id=(none: at-least-once)", t.output())
        self.assertEqual(t.stop(), 0, t.output())

    def test_two_instances_share_the_partitions(self):
        topic = unique("sales.it") + ".orders"
        self.stack.create_topic(topic, 2)
        group = unique("itest-group-")
        a = self.run_transformer(topic, group=group)
        b = self.run_transformer(topic, group=group)
        def one_each():
            last = [re.findall(r"partitions assigned count=(\d+)", t.output()) for t in (a, b)]
            return all(found and found[-1] == "1" for found in last)
        wait_until("one partition assigned to each instance", one_each, 60)
        w = Writer(self.stack, topic, 2)
        n = 400
        for i in range(n):
            w.send(str(i), envelope("c", None, row(str(i), decimal.Decimal("1.00")), i, i))
        w.flush()
        out = read_committed(self.stack.brokers, topic + ".flat", n)
        self.assertEqual(len(out), n)
        def share(t):
            text = urllib.request.urlopen(t.metrics_url() + "/metrics", timeout=10).read().decode()
            return int(re.search(r"^salescdc_transformer_records_in_total (\d+)$", text,
                                 re.M).group(1))
        wait_until("both instances' counts to add up to every record",
                   lambda: share(a) + share(b) == n, 30)
        self.assertGreater(share(a), 0, "instance a got a partition")
        self.assertGreater(share(b), 0, "instance b got a partition")
        self.assertEqual(a.stop(), 0, a.output())
        self.assertEqual(b.stop(), 0, b.output())


def main():
    global BIN
    if len(sys.argv) < 2:
        raise SystemExit("usage: test_transformer.py path/to/salescdc-transformer")
    BIN = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
