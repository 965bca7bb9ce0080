#!/usr/bin/env python3
"""Integration tests of salescdc-registry with Confluent's own Python client (confluent-kafka).

Against the local stack's registry (SALESCDC_REGISTRY_URL) and Kafka (SALESCDC_KAFKA_BROKERS):
register, lookup, fetch by id, versions, compatibility (409), config, soft delete, an
AvroSerializer/AvroDeserializer round trip through a real topic, concurrent clients.
Against a registry of its own (the binary given as argv[1]) on a spare port and its own topic:
kill -9 and restart keeps every id, new ids are larger, basic auth, SIGTERM exits 0.

Usage: test_registry.py [path/to/salescdc-registry]   (tests/run provides the environment)
"""
import concurrent.futures
import decimal
import datetime
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request
import uuid

from confluent_kafka import Consumer, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.schema_registry.error import SchemaRegistryError
from confluent_kafka.serialization import MessageField, SerializationContext

V1_TYPE = "application/vnd.schemaregistry.v1+json"
REGISTRY_BIN = None  # set from argv in main


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set: run through tests/run, or `source .stack/env` "
                         "after `deploy/local/stack up`")
    return value


def record(name, fields):
    return json.dumps({"type": "record", "name": name, "namespace": "itest", "fields": fields})


def unique(prefix):
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def http(url, method="GET", body=None, content_type=V1_TYPE, auth=None):
    """Returns (status, parsed JSON or text) without raising on HTTP errors."""
    data = body.encode() if isinstance(body, str) else body
    req = urllib.request.Request(url, data=data, method=method)
    if body is not None:
        req.add_header("Content-Type", content_type)
    if auth:
        import base64
        req.add_header("Authorization", "Basic " + base64.b64encode(auth.encode()).decode())
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            status, text = resp.status, resp.read().decode()
    except urllib.error.HTTPError as e:
        status, text = e.code, e.read().decode()
    try:
        return status, json.loads(text)
    except ValueError:
        return status, text


def wait_until(what, check, timeout_s):
    """Polls CHECK until it returns a true value; fails naming WHAT after TIMEOUT_S."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(0.2)


class StackRegistryTest(unittest.TestCase):
    """The stack's registry, through Confluent's client."""

    @classmethod
    def setUpClass(cls):
        cls.url = env("SALESCDC_REGISTRY_URL")
        cls.brokers = env("SALESCDC_KAFKA_BROKERS")
        cls.client = SchemaRegistryClient({"url": cls.url})

    def assert_sr_error(self, call, status, code):
        with self.assertRaises(SchemaRegistryError) as ctx:
            call()
        self.assertEqual((ctx.exception.http_status_code, ctx.exception.error_code),
                         (status, code), ctx.exception.error_message)
        return ctx.exception

    def test_register_lookup_fetch_and_versions(self):
        subject = unique("itest") + "-value"
        text = record("Order", [{"name": "id", "type": "string"}])
        schema_id = self.client.register_schema(subject, Schema(text, "AVRO"))
        status, again = http(f"{self.url}/subjects/{subject}/versions", "POST",
                             json.dumps({"schema": text}))
        self.assertEqual((status, again), (200, {"id": schema_id}))  # idempotent on the server
        found = self.client.lookup_schema(subject, Schema(text, "AVRO"))
        self.assertEqual((found.schema_id, found.version), (schema_id, 1))
        self.assertEqual(SchemaRegistryClient({"url": self.url}).get_schema(schema_id).schema_str,
                         text)
        self.assertEqual(self.client.get_versions(subject), [1])
        latest = self.client.get_latest_version(subject)
        self.assertEqual((latest.schema_id, latest.version, latest.subject),
                         (schema_id, 1, subject))
        self.assertIn(subject, self.client.get_subjects())
        status, raw = http(f"{self.url}/schemas/ids/{schema_id}/schema")
        self.assertEqual((status, raw), (200, json.loads(text)))

    def test_incompatible_change_is_409_until_compatibility_is_lowered(self):
        subject = unique("itest") + "-value"
        v1 = record("Order", [{"name": "id", "type": "string"}])
        v2 = record("Order", [{"name": "id", "type": "string"}, {"name": "qty", "type": "int"}])
        v3 = record("Order", [{"name": "id", "type": "string"},
                              {"name": "note", "type": "string", "default": ""}])
        first = self.client.register_schema(subject, Schema(v1, "AVRO"))
        self.assertFalse(self.client.test_compatibility(subject, Schema(v2, "AVRO")))
        err = self.assert_sr_error(lambda: self.client.register_schema(subject, Schema(v2, "AVRO")),
                                   409, 409)
        self.assertIn("incompatible with an earlier schema", err.error_message)
        self.assertTrue(self.client.test_compatibility(subject, Schema(v3, "AVRO")))
        self.assertGreater(self.client.register_schema(subject, Schema(v3, "AVRO")), first)
        self.client.set_compatibility(subject_name=subject, level="NONE")
        self.assertEqual(self.client.get_compatibility(subject), "NONE")
        self.assertGreater(self.client.register_schema(subject, Schema(v2, "AVRO")), first)
        self.assertEqual(self.client.get_versions(subject), [1, 2, 3])

    def test_errors_have_confluent_codes(self):
        self.assert_sr_error(lambda: SchemaRegistryClient({"url": self.url}).get_schema(2**31 - 1),
                             404, 40403)
        self.assert_sr_error(lambda: self.client.get_versions(unique("nosuch")), 404, 40401)
        self.assert_sr_error(lambda: self.client.register_schema(
            unique("itest"), Schema('{"type":"record","name":"X"}', "AVRO")), 422, 42201)
        status, body = http(f"{self.url}/subjects/x/versions", "POST", '{"schema": ')
        self.assertEqual((status, body["error_code"]), (400, 400))
        status, body = http(f"{self.url}/subjects/x/versions/abc")
        self.assertEqual((status, body["error_code"]), (422, 42202))
        status, body = http(f"{self.url}/config", "PUT", '{"compatibility":"SIDEWAYS"}')
        self.assertEqual((status, body["error_code"]), (422, 42203))

    def test_soft_delete_keeps_the_id_served(self):
        subject = unique("itest") + "-value"
        text = record("Gone", [{"name": "x", "type": "long"}])
        schema_id = self.client.register_schema(subject, Schema(text, "AVRO"))
        self.assertEqual(self.client.delete_subject(subject), [1])
        self.assert_sr_error(lambda: self.client.get_versions(subject), 404, 40401)
        status, body = http(f"{self.url}/schemas/ids/{schema_id}")
        self.assertEqual((status, body["schema"]), (200, text))

    def test_avro_round_trip_over_kafka(self):
        topic = unique("itest-avro")
        schema = record("Sale", [
            {"name": "orderid", "type": "string"},
            {"name": "quantity", "type": "int"},
            {"name": "price", "type": {"type": "bytes", "logicalType": "decimal",
                                       "precision": 10, "scale": 2}},
            {"name": "created_at", "type": {"type": "long", "logicalType": "timestamp-micros"}},
            {"name": "status", "type": ["null", "string"], "default": None},
        ])
        value = {"orderid": "42", "quantity": 3, "price": decimal.Decimal("123.45"),
                 "created_at": datetime.datetime(2024, 5, 6, 7, 8, 9, 123456,
                                                 tzinfo=datetime.timezone.utc),
                 "status": None}
        serializer = AvroSerializer(self.client, schema)
        ctx = SerializationContext(topic, MessageField.VALUE)
        payload = serializer(value, ctx)
        producer = Producer({"bootstrap.servers": self.brokers, "enable.idempotence": True})
        producer.produce(topic, value=payload)
        self.assertEqual(producer.flush(30), 0, "message not delivered within 30 s")
        consumer = Consumer({"bootstrap.servers": self.brokers, "group.id": unique("itest"),
                             "auto.offset.reset": "earliest"})
        consumer.subscribe([topic])
        try:
            msg = wait_until(f"the message on {topic}",
                             lambda: (lambda m: m if m is not None and not m.error() else None)(
                                 consumer.poll(1.0)), 60)
        finally:
            consumer.close()
        magic, schema_id = struct.unpack(">bI", msg.value()[:5])
        registered = self.client.lookup_schema(f"{topic}-value", Schema(schema, "AVRO"))
        self.assertEqual((magic, schema_id), (0, registered.schema_id))
        # A fresh client: the writer schema comes from the registry, not from a cache.
        fresh = SchemaRegistryClient({"url": self.url})
        decoded = AvroDeserializer(fresh)(msg.value(), ctx)
        self.assertEqual(decoded, value)  # Decimal and datetime: logical types were kept
        AdminClient({"bootstrap.servers": self.brokers}).delete_topics([topic])

    def test_concurrent_clients_get_distinct_ids(self):
        prefix = unique("itest-conc")
        for n in range(4):  # several writers per subject, with unrelated schemas
            self.client.set_compatibility(subject_name=f"{prefix}-{n}", level="NONE")

        def register(i):
            text = record(f"C{i}", [{"name": "n", "type": "int"}])
            status, body = http(f"{self.url}/subjects/{prefix}-{i % 4}/versions", "POST",
                                json.dumps({"schema": text}))
            self.assertEqual(status, 200, body)
            return i, body["id"]

        with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
            results = list(pool.map(register, range(32)))
        ids = [schema_id for _, schema_id in results]
        self.assertEqual(len(set(ids)), 32)
        for i, schema_id in results:
            status, body = http(f"{self.url}/schemas/ids/{schema_id}")
            self.assertEqual(json.loads(body["schema"])["name"], f"C{i}")


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class OwnRegistry:
    """A registry process of this test's own, on a spare port and its own topic."""

    def __init__(self, topic, port, log_path, extra=()):
        self.port = port
        self.url = f"http://127.0.0.1:{port}"
        # Isolated from the stack's SALESCDC_* settings: this private instance gets only its flags.
        clean_env = {k: v for k, v in os.environ.items() if not k.startswith("SALESCDC_")}
        self.log = open(log_path, "ab")
        self.proc = subprocess.Popen(
            [REGISTRY_BIN, f"--listen.port={port}", f"--store.topic={topic}",
             f"--kafka.bootstrap.servers={env('SALESCDC_KAFKA_BROKERS')}",
             "--store.replication.factor=1", *extra],
            stdout=self.log, stderr=self.log, env=clean_env)

    def wait_ready(self, auth=None):
        def ready():
            if self.proc.poll() is not None:
                raise AssertionError(f"registry exited with {self.proc.returncode}")
            try:
                return http(f"{self.url}/healthz", auth=auth)[0] == 200
            except OSError:
                return False
        wait_until("the registry's /healthz", ready, 90)

    def kill9(self):
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(30)
        self.log.close()

    def terminate(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(30)
        finally:
            self.log.close()


class RestartTest(unittest.TestCase):
    """kill -9 and restart: every id is served again, and new ids are larger."""

    def test_kill9_restart_keeps_every_id(self):
        if not REGISTRY_BIN:
            self.skipTest("no registry binary given")
        brokers = env("SALESCDC_KAFKA_BROKERS")
        topic = unique("_schemas_itest")
        log_path = tempfile.mktemp(prefix="salescdc-registry-itest-", suffix=".log")
        try:
            self.run_restart(topic, log_path)
        except BaseException:
            with open(log_path, encoding="utf-8", errors="replace") as f:
                sys.stderr.write("registry log:\n" + f.read()[-4000:])
            raise
        finally:
            AdminClient({"bootstrap.servers": brokers}).delete_topics([topic])
            os.unlink(log_path)

    def run_restart(self, topic, log_path):
        port = free_port()
        first = OwnRegistry(topic, port, log_path)
        first.wait_ready()
        http(f"{first.url}/config", "PUT", '{"compatibility":"NONE"}')
        registered = {}
        for i in range(12):
            text = record(f"K{i}", [{"name": "v", "type": "int"}])
            status, body = http(f"{first.url}/subjects/restart-{i % 3}/versions", "POST",
                                json.dumps({"schema": text}))
            self.assertEqual(status, 200, body)
            registered[body["id"]] = text
        first.kill9()

        password = "pw-" + uuid.uuid4().hex
        second = OwnRegistry(topic, port, log_path,
                             ("--auth.user=itest", f"--auth.password={password}"))
        auth = f"itest:{password}"
        second.wait_ready()
        self.assertEqual(http(f"{second.url}/subjects")[0], 401)
        client = SchemaRegistryClient({"url": second.url, "basic.auth.user.info": auth})
        for schema_id, text in registered.items():
            self.assertEqual(client.get_schema(schema_id).schema_str, text)
        self.assertEqual(sorted(client.get_subjects()), ["restart-0", "restart-1", "restart-2"])
        self.assertEqual(client.get_versions("restart-1"), [1, 2, 3, 4])
        self.assertEqual(client.get_compatibility(None), "NONE")
        new_id = client.register_schema("restart-0", Schema(record("New", []), "AVRO"))
        self.assertGreater(new_id, max(registered))
        self.assertEqual(second.terminate(), 0, "SIGTERM must exit 0")
        with open(log_path, encoding="utf-8", errors="replace") as f:
            self.assertNotIn(password, f.read(), "the password must never be logged")


def main():
    global REGISTRY_BIN
    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        REGISTRY_BIN = os.path.abspath(args.pop(0))
    else:
        default = os.path.join(os.path.dirname(__file__), "..", "..", "build", "salescdc-registry")
        REGISTRY_BIN = os.path.abspath(default) if os.path.exists(default) else None
    unittest.main(argv=[sys.argv[0], "-v", *args])


if __name__ == "__main__":
    main()
