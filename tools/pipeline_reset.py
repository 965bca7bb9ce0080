#!/usr/bin/env python3
"""Removes what one pipeline left in the stack's services, so that it can start from nothing:
its replication slot and publication, the orders/products/customers tables and the audit table
of its PostgreSQL schema, its Kafka topics and consumer groups, its objects in S3, and its
Trino tables and views. Run it only with the pipeline stopped (deploy/local/pipeline down).

  tools/pipeline_reset.py                    # the demo's pipeline (schema public, slot salescdc)
  tools/pipeline_reset.py --schema s --slot s_slot --publication s_pub --topic-prefix p \
      --s3-prefix p --trino-prefix p_ --group p-transformer --group p-sink

Settings from the environment (`source .stack/env`). Needs confluent-kafka (the test venv).
"""
import argparse
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_queries as cq  # noqa: E402
import demo_status  # noqa: E402

from confluent_kafka.admin import AdminClient  # noqa: E402

TABLES = ("orders", "products", "customers")


def drop_slot(slot, publication, timeout=30):
    """Drops SLOT once no walsender uses it (ending a leftover one after TIMEOUT seconds)."""
    active = f"SELECT active_pid FROM pg_replication_slots WHERE slot_name = '{slot}'"
    deadline = time.monotonic() + timeout
    while cq.psql(active) not in ("",) and time.monotonic() < deadline:
        time.sleep(0.5)
    cq.psql(f"SELECT pg_terminate_backend(active_pid) FROM pg_replication_slots "
            f"WHERE slot_name = '{slot}' AND active_pid IS NOT NULL")
    for _ in range(60):
        try:
            cq.psql(f"SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots "
                    f"WHERE slot_name = '{slot}'")
            break
        except cq.QueryError as e:  # still active for a moment after the terminate
            if "is active" not in str(e):
                raise
            time.sleep(0.5)
    cq.psql(f"DROP PUBLICATION IF EXISTS {publication}")


def drop_tables(schema):
    if schema == "public":
        names = ", ".join(f"public.{t}" for t in TABLES + ("orders_audit",
                                                          "salescdc_producer_runs"))
        cq.psql(f"DROP TABLE IF EXISTS {names} CASCADE; "
                f"DROP FUNCTION IF EXISTS public.orders_audit_change()")
    else:
        cq.psql(f"DROP SCHEMA IF EXISTS {schema} CASCADE")


def delete_topics(prefix, schema, groups):
    """Deletes <prefix>.<schema>.<table>[.flat|.dlq] and GROUPS (missing ones are fine)."""
    admin = AdminClient({"bootstrap.servers": cq.env("SALESCDC_KAFKA_BROKERS"), "log_level": 3})
    existing = set(admin.list_topics(timeout=30).topics)
    topics = [f"{prefix}.{schema}.{t}{s}" for t in TABLES for s in ("", ".flat", ".dlq")]
    topics = [t for t in topics if t in existing]
    if topics:
        for f in admin.delete_topics(topics, operation_timeout=30).values():
            f.result(timeout=60)
    if groups:
        for g, f in admin.delete_consumer_groups(list(groups), request_timeout=30).items():
            try:
                f.result(timeout=60)
            except Exception as e:  # a group that never committed does not exist
                if "GROUP_ID_NOT_FOUND" not in str(e) and "NOT_FOUND" not in str(e):
                    print(f"pipeline_reset: consumer group {g}: {e}", file=sys.stderr)
    return topics


def delete_subjects(topics):
    """Soft-deletes the registry subjects of TOPICS (ids are never reused; missing is fine)."""
    registry = cq.env("SALESCDC_REGISTRY_URL")
    for t in topics:
        for subject in (f"{t}-key", f"{t}-value"):
            req = urllib.request.Request(f"{registry}/subjects/{urllib.parse.quote(subject)}",
                                         method="DELETE")
            try:
                urllib.request.urlopen(req, timeout=10).read()
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    raise


def s3_delete(key):
    """DELETE one object (SigV4 as in demo_status.s3_objects)."""
    endpoint, bucket = cq.env("SALESCDC_S3_ENDPOINT"), cq.env("SALESCDC_S3_BUCKET")
    path = "/" + bucket + "/" + urllib.parse.quote(key, safe="/~")
    req = urllib.request.Request(endpoint + path, method="DELETE",
                                 headers=demo_status.s3_sign("DELETE", path, ""))
    with urllib.request.urlopen(req, timeout=30) as r:
        r.read()


def delete_objects(prefix, schema):
    n = 0
    for t in TABLES:
        table = t if schema == "public" else f"{schema}_{t}"
        under = f"{prefix.strip('/')}/{table}/".lstrip("/")
        for key, _ in list(demo_status.s3_keys(under)):
            s3_delete(key)
            n += 1
    return n


def drop_trino(prefix, schema):
    for t in TABLES:
        table = t if schema == "public" else f"{schema}_{t}"
        cq.run_trino(f"DROP VIEW IF EXISTS hive.sales.{prefix}{table}")
        cq.run_trino(f"DROP TABLE IF EXISTS hive.sales.{prefix}{table}_changes")


def reset(schema="public", slot="salescdc", publication="salescdc", topic_prefix="sales",
          s3_prefix="", trino_prefix="", groups=("salescdc-transformer", "salescdc-s3-sink")):
    drop_slot(slot, publication)
    drop_tables(schema)
    topics = delete_topics(topic_prefix, schema, groups)
    delete_subjects(topics)
    objects = delete_objects(s3_prefix, schema)
    drop_trino(trino_prefix, schema)
    return topics, objects


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--schema", default="public")
    ap.add_argument("--slot", default="salescdc")
    ap.add_argument("--publication", default="salescdc")
    ap.add_argument("--topic-prefix", default="sales")
    ap.add_argument("--s3-prefix", default="")
    ap.add_argument("--trino-prefix", default="")
    ap.add_argument("--group", action="append", dest="groups")
    a = ap.parse_args()
    groups = a.groups if a.groups is not None else ["salescdc-transformer", "salescdc-s3-sink"]
    try:
        topics, objects = reset(a.schema, a.slot, a.publication, a.topic_prefix, a.s3_prefix,
                                a.trino_prefix, groups)
    except cq.QueryError as e:
        raise SystemExit(f"pipeline_reset: {e}")
    print(f"reset: slot {a.slot} and publication {a.publication} dropped, tables of schema "
          f"{a.schema} dropped, {len(topics)} topics and {objects} objects deleted, Trino tables "
          f"and views dropped")


if __name__ == "__main__":
    main()
