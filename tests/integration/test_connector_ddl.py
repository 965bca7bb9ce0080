#!/usr/bin/env python3
"""DDL while salescdc-connector streams: ADD COLUMN, DROP COLUMN, RENAME COLUMN and a widening
type change (int → bigint) each register a new compatible version of the value schema and the
events keep flowing, each decodable (fastavro, schema fetched by the id in its header) with the
table's shape at the time of the change. A narrowing change (bigint → text), which the subject's
BACKWARD compatibility refuses (409), stops the connector with exit 1 and an error that names
the table, the subject and the fix. Usage: test_connector_ddl.py CONNECTOR_BIN"""
import json
import os
import signal
import subprocess
import sys
import urllib.request

from test_connector_lib import (REGISTRY, cleanup, connector_args, current_wal, psql, read_topic,
                                wait_confirmed, wait_for)

RUN = f"itd{os.getpid()}"
SCHEMA = f"{RUN}_s"
TOPIC = f"{RUN}.{SCHEMA}.t"
T = f"{SCHEMA}.t"


def versions(subject):
    with urllib.request.urlopen(f"{REGISTRY}/subjects/{subject}/versions") as r:
        return json.load(r)


def header_id(record_bytes):
    return int.from_bytes(record_bytes[1:5], "big")


def main():
    binary, passed = sys.argv[1], 0
    log = f"/tmp/{RUN}.log"
    psql(f"CREATE SCHEMA {SCHEMA}; CREATE TABLE {T} (id int PRIMARY KEY, a text)")
    proc = subprocess.Popen(connector_args(binary, RUN, T), stdout=subprocess.DEVNULL,
                            stderr=open(log, "w"))
    try:
        wait_for("the slot", lambda: psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                          f"'{RUN}_slot' AND active"), proc=proc)
        psql(f"INSERT INTO {T} VALUES (1, 'x')")
        psql(f"ALTER TABLE {T} ADD COLUMN b int; INSERT INTO {T} VALUES (2, 'y', 20); "
             f"UPDATE {T} SET b = 10 WHERE id = 1")
        psql(f"ALTER TABLE {T} DROP COLUMN a; INSERT INTO {T} VALUES (3, 30)")
        psql(f"ALTER TABLE {T} RENAME COLUMN b TO c; INSERT INTO {T} VALUES (4, 40)")
        psql(f"ALTER TABLE {T} ALTER COLUMN c TYPE bigint; INSERT INTO {T} VALUES (5, 50)")
        wait_confirmed(f"{RUN}_slot", current_wal(), proc)
        afters = [(v["op"], v["after"]) for _, _, _, v in read_topic(TOPIC)]
        assert afters == [
            ("c", {"id": 1, "a": "x"}),
            ("c", {"id": 2, "a": "y", "b": 20}),
            ("u", {"id": 1, "a": "x", "b": 10}),
            ("c", {"id": 3, "b": 30}),
            ("c", {"id": 4, "c": 40}),
            ("c", {"id": 5, "c": 50}),
        ], afters
        assert versions(f"{TOPIC}-value") == [1, 2, 3, 4, 5], versions(f"{TOPIC}-value")
        assert versions(f"{TOPIC}-key") == [1]
        passed += 1

        psql(f"ALTER TABLE {T} ALTER COLUMN c TYPE text; INSERT INTO {T} VALUES (6, 'sixty')")
        assert proc.wait(timeout=120) == 1, f"exit code {proc.returncode}"
        text = open(log).read()
        assert f"table {T} changed (ALTER TABLE?)" in text and "HTTP 409" in text, text[-2000:]
        assert "PUT /config/" in text
        passed += 1
    except Exception:
        print("".join(open(log).readlines()[-30:]), file=sys.stderr)
        raise
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            proc.wait()
        cleanup(RUN, [TOPIC], log)
        for subject in (f"{TOPIC}-key", f"{TOPIC}-value"):
            for q in ("", "?permanent=true"):
                try:
                    urllib.request.urlopen(urllib.request.Request(
                        f"{REGISTRY}/subjects/{subject}{q}", method="DELETE"))
                except Exception:
                    pass
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    main()
