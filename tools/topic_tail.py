#!/usr/bin/env python3
"""Prints the last records of a topic decoded (Confluent-framed Avro, schemas from the registry),
one JSON object per line: partition, offset, key, value (null for a tombstone). Debian's kcat is
built without Avro support, so this stands in for `kcat -s avro`.

  tools/topic_tail.py sales.public.orders          # the last 5 CDC envelopes
  tools/topic_tail.py sales.public.orders.flat -n 20

Settings from the environment (`source .stack/env`); needs the test venv (.venv/bin/python).
"""
import argparse
import base64
import datetime
import decimal
import json
import os
import sys

from confluent_kafka import Consumer, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer
from confluent_kafka.serialization import MessageField, SerializationContext


def plain(v):
    if isinstance(v, decimal.Decimal):
        return str(v)
    if isinstance(v, (datetime.datetime, datetime.date)):
        return v.isoformat()
    if isinstance(v, bytes):
        return base64.b64encode(v).decode()
    return str(v)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("topic")
    ap.add_argument("-n", type=int, default=5, help="records per partition (default 5)")
    a = ap.parse_args()
    brokers = os.environ.get("SALESCDC_KAFKA_BROKERS", "127.0.0.1:59092")
    registry = SchemaRegistryClient({"url": os.environ.get("SALESCDC_REGISTRY_URL",
                                                           "http://127.0.0.1:58081")})
    de = AvroDeserializer(registry)
    c = Consumer({"bootstrap.servers": brokers, "group.id": f"salescdc-topic-tail-{os.getpid()}",
                  "enable.auto.commit": False, "isolation.level": "read_committed"})
    md = c.list_topics(a.topic, timeout=10).topics.get(a.topic)
    if not md or md.error or not md.partitions:
        raise SystemExit(f"topic_tail: no topic {a.topic} on {brokers}")
    parts, ends = [], {}
    for p in sorted(md.partitions):
        low, high = c.get_watermark_offsets(TopicPartition(a.topic, p), timeout=10)
        ends[p] = high
        parts.append(TopicPartition(a.topic, p, max(low, high - a.n)))
    c.assign(parts)
    done = {p for p, high in ends.items() if high == 0}
    while len(done) < len(ends):
        m = c.poll(5)
        if m is None:
            break  # the rest of the range is transaction markers or aborted records
        if m.error():
            continue
        ctx = lambda field: SerializationContext(a.topic, field)
        value = m.value() and de(m.value(), ctx(MessageField.VALUE))
        try:
            key = m.key() and de(m.key(), ctx(MessageField.KEY))
        except Exception:  # a key that is not Avro (e.g. a test's raw bytes)
            key = m.key().hex()
        print(json.dumps({"partition": m.partition(), "offset": m.offset(), "key": key,
                          "value": value}, default=plain))
        if m.offset() + 1 >= ends[m.partition()]:
            done.add(m.partition())
    c.close()


if __name__ == "__main__":
    try:
        main()
    except BrokenPipeError:
        sys.exit(0)
