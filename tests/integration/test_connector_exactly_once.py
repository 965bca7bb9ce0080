#!/usr/bin/env python3
"""Exactly-once of salescdc-connector across kill -9: salescdc-producer writes 100,000 changes
(upserts and deletes, 100 per transaction) into its own schema while the connector is killed
with SIGKILL twice in the middle of its work and restarted; a read_committed consumer
(confluent-kafka + fastavro, independent of the C code) must then see every change exactly once
and in order, compared with an audit trigger table in PostgreSQL that recorded every change with
its transaction id. Stops on the slot's confirmed LSN, never on a sleep. The connector reads
over the server's Unix socket when SALESCDC_PG_SOCKET_DIR is set (the local stack), where its
read-ahead thread runs (the other tests use TCP).
Usage: test_connector_exactly_once.py CONNECTOR_BIN PRODUCER_BIN"""
import os
import signal
import subprocess
import sys

from test_connector_lib import (PG, audit_orders, audited_changes, cleanup, connector_args,
                                current_wal, psql, read_topic, unix_conninfo, verify_changes,
                                wait_confirmed, wait_for, written)

RUN = f"itx{os.getpid()}"
SCHEMA = f"{RUN}_s"
TOPIC = f"{RUN}.{SCHEMA}.orders"
CHANGES = 100000
PROCS = []


def setup(producer):
    subprocess.run([producer, "--pg.conninfo", PG, "--pg.schema", SCHEMA, "--init", "true",
                    "--count", "0"], check=True, capture_output=True)
    audit_orders(SCHEMA)


def start(args, log):
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "a"))
    PROCS.append(proc)
    return proc


def run(binary, producer, log):
    args = connector_args(binary, RUN, f"{SCHEMA}.orders")
    args[args.index("--pg.conninfo") + 1] = unix_conninfo()
    proc = start(args, log)
    wait_for("the slot", lambda: psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                      f"'{RUN}_slot' AND active"), proc=proc)
    load = subprocess.Popen([producer, "--pg.conninfo", PG, "--pg.schema", SCHEMA, "--rate", "0",
                             "--count", str(CHANGES), "--batch", "100", "--delete.percent", "5",
                             "--seed", "7"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    PROCS.append(load)
    for mark in (25000, 60000):
        wait_for(f"{mark} records in Kafka", lambda: written(TOPIC) >= mark, proc=proc)
        proc.kill()
        proc.wait()
        print(f"killed the connector (SIGKILL) at {written(TOPIC)} records written")
        proc = start(args, log)
    out, _ = load.communicate(timeout=300)
    assert load.returncode == 0, "the producer failed"
    wait_confirmed(f"{RUN}_slot", current_wal(), proc, timeout=600)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, f"exit code {proc.returncode}"
    return out.decode().strip().splitlines()[-1]


def main():
    binary, producer, passed = sys.argv[1], sys.argv[2], 0
    log = f"/tmp/{RUN}.log"
    setup(producer)
    try:
        summary = run(binary, producer, log)
        changes, n = audited_changes(SCHEMA)
        total = verify_changes(read_topic(TOPIC, timeout=300), changes, n)
        skipped = sum(int(w.split("=")[1]) for line in open(log) if "stream ended" in line
                      for w in line.split() if w.startswith("skipped="))
        print(f"{total} changes exactly once across 2 kills ({skipped} transactions skipped as "
              f"already committed); producer: {summary}")
        passed += 1
    except Exception:
        if os.path.exists(log):
            print("".join(open(log).readlines()[-40:]), file=sys.stderr)
        raise
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        cleanup(RUN, [TOPIC], log)
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    main()
