#!/usr/bin/env python3
"""A Kafka transaction of salescdc-connector that outlives kafka.transaction.timeout.ms (found by
tests/chaos/run: the broker paused mid-commit): the broker aborts it and fences the producer.
The connector must re-initialise its producer and resume from the offsets topic, not exit.

The sequence: under load, the connector (kafka.transaction.timeout.ms=2000; transactions kept
open up to 1 s with --transaction.commit.when.drained false) is stopped with SIGSTOP inside a
transaction until the broker has aborted that transaction (its abort marker moves the topic's
high watermark while the connector is stopped), then continued: its next
commit or abort is fenced. The connector must keep running, log the fence, and in the end a
read_committed reader sees every audited change exactly once.
Usage: test_connector_txn_timeout.py CONNECTOR_BIN PRODUCER_BIN"""
import os
import signal
import subprocess
import sys
import time

from test_connector_lib import (PG, audit_orders, audited_changes, cleanup, connector_args,
                                current_wal, psql, read_topic, verify_changes, wait_confirmed,
                                wait_for, written)

RUN = f"ito{os.getpid()}"
SCHEMA = f"{RUN}_s"
TOPIC = f"{RUN}.{SCHEMA}.orders"
PROCS = []


def log_has(path, text):
    with open(path, errors="replace") as f:
        return text in f.read()


def stop_until_aborted(proc):
    """SIGSTOPs PROC until the broker wrote an abort marker for its open transaction; True if
    that happened (False: it was between transactions; the caller tries again)."""
    proc.send_signal(signal.SIGSTOP)
    try:
        time.sleep(0.5)  # what was on the wire when it stopped lands first
        before = written(TOPIC)
        deadline = time.time() + 30  # the broker checks for timed-out transactions every 10 s
        while time.time() < deadline:
            if written(TOPIC) > before:
                return True
            time.sleep(0.2)
        return False
    finally:
        proc.send_signal(signal.SIGCONT)


def main():
    binary, producer = sys.argv[1], sys.argv[2]
    log = f"/tmp/{RUN}.log"
    subprocess.run([producer, "--pg.conninfo", PG, "--pg.schema", SCHEMA, "--init", "true",
                    "--count", "0"], check=True, capture_output=True)
    audit_orders(SCHEMA)
    try:
        args = connector_args(binary, RUN, f"{SCHEMA}.orders",
                              "--kafka.transaction.timeout.ms", "2000",
                              # transactions open for up to 1 s (not committed whenever the
                              # stream is drained), so a SIGSTOP lands inside one
                              "--transaction.commit.when.drained", "false",
                              "--transaction.max.ms", "1000")
        proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "a"))
        PROCS.append(proc)
        wait_for("the slot", lambda: psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name "
                                          f"= '{RUN}_slot' AND active"), proc=proc)
        load = subprocess.Popen([producer, "--pg.conninfo", PG, "--pg.schema", SCHEMA,
                                 "--rate", "400", "--count", "40000", "--batch", "20",
                                 "--delete.percent", "5", "--seed", "11", "--progress", "off"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        PROCS.append(load)
        wait_for("1000 records in Kafka", lambda: written(TOPIC) >= 1000, proc=proc)
        for attempt in range(5):
            if stop_until_aborted(proc):
                break
            print(f"attempt {attempt + 1}: no transaction of the connector was open; again")
            assert load.poll() is None, "the load ended before a transaction was timed out"
        else:
            raise AssertionError("no transaction of the connector was aborted by the broker")
        wait_for("the connector to notice the fence",
                 lambda: log_has(log, "producer was fenced"), timeout=60, proc=proc)
        load.send_signal(signal.SIGTERM)  # enough load: it commits what it has and exits
        assert load.wait(timeout=120) == 0, "the producer failed"
        wait_confirmed(f"{RUN}_slot", current_wal(), proc, timeout=300)
        assert proc.poll() is None, f"the connector exited ({proc.returncode})"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0, f"exit code {proc.returncode}"
        changes, n = audited_changes(SCHEMA)
        total = verify_changes(read_topic(TOPIC, timeout=300), changes, n)
        print(f"{total} changes exactly once across a transaction timed out by the broker "
              f"(fenced producer re-initialised)")
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
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
