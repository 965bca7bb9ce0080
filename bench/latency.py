#!/usr/bin/env python3
"""Commit-to-consumer latency of a CDC topic: for every change event a read_committed consumer
receives, receive time (this machine's clock) minus the event's source.ts_ms (the source
transaction's commit time, as PostgreSQL reports it), in milliseconds.

Reads Debezium-style envelopes (before/after/source/op/ts_ms) in either encoding:
  avro   Confluent wire format (magic byte 0, 4-byte schema id, Avro binary); the writer schema
         is fetched from the registry by id (GET /schemas/ids/ID) and decoded with fastavro
  json   Kafka Connect's JsonConverter, with schemas ({"schema": ..., "payload": envelope}) or
         without (the envelope itself)
  auto   (default) per record: magic byte 0 -> avro, '{' -> json
Tombstones (null values) are counted, not measured. Records that are not envelopes fail loudly.

As a module (what bench/run does):

    import latency
    meter = latency.Meter(brokers, topic)            # assigned now, from offset 0 (start=...)
    result = meter.run(count=5000, timeout_s=60)      # blocks until 5000 events or timeout
    result.summary()    # {"events": .., "tombstones": .., "p50_ms": .., "p99_ms": .., ...}

  Meter(brokers, topic, fmt="auto", registry=None, start="beginning"|"end", group=None)
      assigns every partition of TOPIC (which must exist) at once, so a Meter created before
      the load starts sees all of it. registry: the schema registry URL for avro (default
      $SALESCDC_REGISTRY_URL).
  Meter.run(count=None, timeout_s=60, idle_s=None, stop=None) -> Result
      consumes until COUNT events (tombstones not included) were received, or TIMEOUT_S passed,
      or nothing arrived for IDLE_S after the first record, or stop(result) returns true
      (result: the Result so far, e.g. to stop at a count known only later).
  Result.summary(since_ms=None) -> dict: counts and p50/p90/p99/max/mean latency in ms
      (nearest rank) over the events whose source.ts_ms >= since_ms (all by default: use it
      to leave a warm-up out).

As a program (prints Result.summary() as one JSON object; exit 1 if COUNT was not reached):

    bench/latency.py --topic T [--brokers B] [--format auto|avro|json] [--registry URL]
                     [--count N] [--timeout S] [--idle S] [--start beginning|end]

Needs confluent-kafka, fastavro and requests (the test venv; the program re-runs itself with
.venv/bin/python when they are missing).
"""
import argparse
import io
import json
import math
import os
import struct
import sys
import time
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
try:
    import fastavro
    import requests
    from confluent_kafka import OFFSET_BEGINNING, OFFSET_END, Consumer, KafkaException, \
        TopicPartition
except ImportError:  # run with the test venv's python when it exists
    _venv = os.path.join(ROOT, ".venv", "bin", "python")
    if __name__ == "__main__" and os.path.exists(_venv) and sys.executable != _venv:
        os.execv(_venv, [_venv, *sys.argv])
    raise


class Decoder:
    """source.ts_ms of one record value: Confluent-framed Avro or Connect JSON."""

    def __init__(self, fmt="auto", registry=None):
        if fmt not in ("auto", "avro", "json"):
            raise ValueError(f"latency: unknown format {fmt!r} (auto, avro or json)")
        self.fmt = fmt
        self.registry = (registry or os.environ.get("SALESCDC_REGISTRY_URL", "")).rstrip("/")
        self.schemas = {}  # schema id -> parsed writer schema

    def schema(self, schema_id):
        if schema_id not in self.schemas:
            if not self.registry:
                raise ValueError(f"latency: Avro record with schema id {schema_id} but no "
                                 "registry URL (--registry or SALESCDC_REGISTRY_URL)")
            r = requests.get(f"{self.registry}/schemas/ids/{schema_id}", timeout=10)
            if r.status_code != 200:
                raise ValueError(f"latency: registry {self.registry} has no schema id "
                                 f"{schema_id}: HTTP {r.status_code} {r.text[:200]}")
            self.schemas[schema_id] = fastavro.parse_schema(json.loads(r.json()["schema"]))
        return self.schemas[schema_id]

    def envelope(self, value):
        """The decoded envelope (a dict) of a non-null record value."""
        fmt = self.fmt
        if fmt == "auto":
            fmt = "avro" if value[:1] == b"\0" else "json" if value[:1] == b"{" else None
        if fmt == "avro":
            if len(value) < 5 or value[0] != 0:
                raise ValueError("latency: not Confluent wire format (magic byte 0 + schema id)")
            (schema_id,) = struct.unpack(">I", value[1:5])
            return fastavro.schemaless_reader(io.BytesIO(value[5:]), self.schema(schema_id))
        if fmt == "json":
            doc = json.loads(value)
            if isinstance(doc, dict) and "payload" in doc and "schema" in doc:
                doc = doc["payload"]  # JsonConverter with schemas.enable=true
            return doc
        raise ValueError(f"latency: record value is neither Avro (magic 0) nor JSON: "
                         f"{value[:16]!r}")

    def source_ts_ms(self, value):
        env = self.envelope(value)
        try:
            ts = env["source"]["ts_ms"]
        except (KeyError, TypeError):
            raise ValueError(f"latency: record is not a CDC envelope with source.ts_ms: "
                             f"{str(env)[:200]}") from None
        if hasattr(ts, "timestamp"):  # a timestamp-millis logical type, decoded to datetime
            return ts.timestamp() * 1000.0
        return float(ts)


def percentile(sorted_values, p):
    """Nearest-rank percentile of an ascending list (p in 0..100)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(p / 100.0 * len(sorted_values)))
    return sorted_values[rank - 1]


class Result:
    def __init__(self, topic):
        self.topic = topic
        self.samples = []  # (source ts_ms, latency ms), in arrival order
        self.tombstones = 0
        self.first_receive = None
        self.last_receive = None

    @property
    def events(self):
        return len(self.samples)

    def summary(self, since_ms=None):
        lat = sorted(l for ts, l in self.samples if since_ms is None or ts >= since_ms)
        out = {"topic": self.topic, "events": self.events, "tombstones": self.tombstones,
               "measured": len(lat)}
        for name, p in (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99)):
            out[name] = None if not lat else round(percentile(lat, p), 1)
        out["max_ms"] = round(lat[-1], 1) if lat else None
        out["mean_ms"] = round(sum(lat) / len(lat), 1) if lat else None
        if self.first_receive and self.last_receive and self.last_receive > self.first_receive:
            out["receive_span_s"] = round(self.last_receive - self.first_receive, 3)
        return out


class Meter:
    """A read_committed consumer of every partition of TOPIC that measures envelopes."""

    def __init__(self, brokers, topic, fmt="auto", registry=None, start="beginning",
                 group=None):
        if start not in ("beginning", "end"):
            raise ValueError(f"latency: start must be beginning or end, not {start!r}")
        self.topic = topic
        self.decoder = Decoder(fmt, registry)
        self.consumer = Consumer({
            "bootstrap.servers": brokers,
            "group.id": group or f"salescdc-latency-{uuid.uuid4().hex[:12]}",
            "isolation.level": "read_committed",
            "enable.auto.commit": False,
            "enable.partition.eof": False,
            "fetch.wait.max.ms": 10,
            "fetch.error.backoff.ms": 10,
        })
        md = self.consumer.list_topics(topic, timeout=15).topics.get(topic)
        if md is None or md.error or not md.partitions:
            self.consumer.close()
            raise ValueError(f"latency: topic {topic} does not exist "
                             f"({md.error if md else 'no metadata'}); create it first")
        offset = OFFSET_BEGINNING if start == "beginning" else OFFSET_END
        self.consumer.assign([TopicPartition(topic, p, offset) for p in md.partitions])

    def run(self, count=None, timeout_s=60.0, idle_s=None, stop=None):
        result = Result(self.topic)
        deadline = time.monotonic() + timeout_s
        last = None
        try:
            while time.monotonic() < deadline:
                if count is not None and result.events >= count:
                    break
                if stop is not None and stop(result):
                    break
                if idle_s and last and time.monotonic() - last > idle_s:
                    break
                # poll() returns as soon as one record is there (consume(n, timeout) would wait
                # for n records or the whole timeout, adding up to the timeout to every stamp);
                # what is already queued behind it is taken at once with the same stamp.
                first = self.consumer.poll(0.05)
                now_ms = time.time() * 1000.0
                msgs = [first] + self.consumer.consume(num_messages=999, timeout=0) if first \
                    else []
                for m in msgs:
                    if m.error():
                        raise KafkaException(m.error())
                    last = time.monotonic()
                    if result.first_receive is None:
                        result.first_receive = now_ms / 1000.0
                    result.last_receive = now_ms / 1000.0
                    if m.value() is None:
                        result.tombstones += 1
                        continue
                    ts = self.decoder.source_ts_ms(m.value())
                    result.samples.append((ts, now_ms - ts))
        finally:
            self.consumer.close()
        return result


def main():
    ap = argparse.ArgumentParser(description="commit-to-consumer latency of a CDC topic "
                                 "(receive time - source.ts_ms), as JSON")
    ap.add_argument("--topic", required=True)
    ap.add_argument("--brokers", default=os.environ.get("SALESCDC_KAFKA_BROKERS"),
                    help="bootstrap servers (default $SALESCDC_KAFKA_BROKERS)")
    ap.add_argument("--format", default="auto", choices=("auto", "avro", "json"))
    ap.add_argument("--registry", default=os.environ.get("SALESCDC_REGISTRY_URL"),
                    help="schema registry for avro (default $SALESCDC_REGISTRY_URL)")
    ap.add_argument("--count", type=int, help="stop after this many events (tombstones "
                    "not included); exit 1 if fewer arrive")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds (default 60)")
    ap.add_argument("--idle", type=float, help="stop after this many seconds without a record")
    ap.add_argument("--start", default="beginning", choices=("beginning", "end"))
    args = ap.parse_args()
    if not args.brokers:
        ap.error("--brokers or SALESCDC_KAFKA_BROKERS is needed")
    try:
        meter = Meter(args.brokers, args.topic, args.format, args.registry, args.start)
        result = meter.run(args.count, args.timeout, args.idle)
    except (ValueError, KafkaException) as e:
        print(str(e), file=sys.stderr)
        return 1
    print(json.dumps(result.summary()))
    if args.count is not None and result.events < args.count:
        print(f"latency: {result.events} of {args.count} events arrived in {args.timeout} s",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
