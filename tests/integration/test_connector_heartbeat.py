#!/usr/bin/env python3
"""Heartbeats, /metrics and /healthz of salescdc-connector. While the captured table stays idle,
WAL is written elsewhere (a table outside the publication, and transactional logical messages in
another database): the slot's confirmed_flush_lsn must still move past it, so the slot holds no
WAL for it. The heartbeat action query runs on the source database. /metrics reports events by
table and op, the confirmed LSN, the lag, transactions and heartbeats; /healthz answers 200 while
streaming. Stops on LSNs and counts, never on a sleep.
Usage: test_connector_heartbeat.py CONNECTOR_BIN"""
import os
import re
import signal
import subprocess
import sys
import urllib.request

from test_connector_lib import (PG, cleanup, connector_args, current_wal, free_port, psql,
                                read_topic, slot_confirmed, wait_for)

RUN = f"ith{os.getpid()}"
SCHEMA = f"{RUN}_s"
TOPIC = f"{RUN}.{SCHEMA}.t"
OTHER_DB = re.sub(r"dbname=\S+", "dbname=postgres", PG)


def get(port, path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except urllib.error.URLError:  # not listening yet
        return 0, ""


def metric(text, name, labels=""):
    m = re.search(rf"^{re.escape(name + labels)} (\d+)$", text, re.M)
    return int(m.group(1)) if m else None


def unrelated_wal():
    """Writes WAL the connector has nothing to publish for; returns the position after it."""
    psql(f"INSERT INTO {SCHEMA}.other SELECT g FROM generate_series(1, 1000) g")
    for i in range(20):
        psql(f"SELECT pg_logical_emit_message(true, 'salescdc-test', 'x{i}')", OTHER_DB)
    return current_wal()


def main():
    binary, passed = sys.argv[1], 0
    log, port = f"/tmp/{RUN}.log", free_port()
    psql(f"CREATE SCHEMA {SCHEMA}; CREATE TABLE {SCHEMA}.t (id int PRIMARY KEY, v text); "
         f"CREATE TABLE {SCHEMA}.other (id int); CREATE TABLE {SCHEMA}.beat (at timestamptz)")
    args = connector_args(binary, RUN, f"{SCHEMA}.t", "--http.port", str(port),
                          "--heartbeat.interval.ms", "500", "--heartbeat.action.query",
                          f"INSERT INTO {SCHEMA}.beat VALUES (now())")
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "w"))
    try:
        wait_for("/healthz 200", lambda: get(port, "/healthz")[0] == 200, proc=proc)
        psql(f"INSERT INTO {SCHEMA}.t VALUES (1, 'a'), (2, 'b'); UPDATE {SCHEMA}.t SET v = 'c' "
             f"WHERE id = 1; DELETE FROM {SCHEMA}.t WHERE id = 2")
        wait_for("4 events in /metrics", lambda: (metric(
            get(port, "/metrics")[1], "salescdc_connector_events_total",
            f'{{table="{SCHEMA}.t",op="c"}}') or 0) >= 2, proc=proc)
        text = get(port, "/metrics")[1]
        for op, n in (("c", 2), ("u", 1), ("d", 1), ("r", 0)):
            assert metric(text, "salescdc_connector_events_total",
                          f'{{table="{SCHEMA}.t",op="{op}"}}') == n, (op, text)
        assert metric(text, "salescdc_connector_transactions_total") >= 1, text
        passed += 1

        for rnd in range(3):  # retained WAL stays bounded, round after round
            target = unrelated_wal()
            wait_for(f"confirmed_flush past unrelated WAL {target}",
                     lambda: slot_confirmed(f"{RUN}_slot") >= target, timeout=60, proc=proc)
        text = get(port, "/metrics")[1]
        assert metric(text, "salescdc_connector_heartbeats_total") >= 1, text
        assert metric(text, "salescdc_connector_confirmed_lsn") >= target, text
        assert metric(text, "salescdc_connector_lag_bytes") is not None, text
        assert metric(text, "salescdc_connector_state") == 2, text
        assert int(psql(f"SELECT count(*) FROM {SCHEMA}.beat")) >= 1, "action query never ran"
        passed += 1

        events = [v["op"] if v else "tombstone" for _, _, _, v in read_topic(TOPIC)]
        assert events == ["c", "c", "u", "d", "tombstone"], events  # heartbeats add nothing
        assert get(port, "/nothing")[0] == 404
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, f"exit code {proc.returncode}"
        passed += 1
    except Exception:
        print("".join(open(log).readlines()[-40:]), file=sys.stderr)
        raise
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        cleanup(RUN, [TOPIC], log)
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    main()
