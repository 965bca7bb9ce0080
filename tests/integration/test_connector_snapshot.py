#!/usr/bin/env python3
"""Initial snapshot of salescdc-connector, checked by an independent reader (confluent-kafka,
read_committed, + fastavro) against an audit trigger table in PostgreSQL that records every
change. (1) Rows existing before the start plus a writer running during the snapshot: every key's
events are [r of its state at the slot's consistent point] followed by exactly the audited
changes after that point (c/u/d), nothing doubled, nothing missed. (2) kill -9 in the middle of a
snapshot, restart: the cut-short snapshot was never counted as done (offsets record "running"),
is taken again, and the reader still sees each row exactly once. (3) The snapshot modes
initial_only, initial, always and never. Run (1) uses the idempotent producer
(--exactly-once false), the others Kafka transactions. Stops on the slot's confirmed
LSN, never on a sleep. Usage: test_connector_snapshot.py CONNECTOR_BIN"""
import collections
import decimal
import os
import signal
import subprocess
import sys
import time

from confluent_kafka import Consumer, TopicPartition

from test_connector_lib import (BROKERS, cleanup, connector_args, current_wal, offsets_record,
                                psql, read_topic, wait_confirmed, wait_for)

RUN = f"its{os.getpid()}"
RUN2 = f"{RUN}b"
SCHEMA = f"{RUN}_s"
ROWS = 50000
OPS = {"I": "c", "U": "u", "D": "d"}


def setup():
    s = SCHEMA
    psql(f"""CREATE SCHEMA {s};
CREATE TABLE {s}.items (id int PRIMARY KEY, v int NOT NULL, note text, price numeric(10,2));
INSERT INTO {s}.items SELECT i, 0, 'n' || i, (i % 100000) / 100.0 FROM generate_series(1, {ROWS}) i;
ANALYZE {s}.items;
CREATE TABLE {s}.audit (seq bigserial PRIMARY KEY, id int, op char, v int,
                        txid bigint DEFAULT txid_current());
CREATE FUNCTION {s}.audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {s}.audit (id, op, v) VALUES (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END,
    left(TG_OP, 1), CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE NEW.v END);
  RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON {s}.items
  FOR EACH ROW EXECUTE FUNCTION {s}.audit_fn();
CREATE PROCEDURE {s}.writer(base int, n int) LANGUAGE plpgsql AS $$
BEGIN
  FOR i IN 1..n LOOP
    UPDATE {s}.items SET v = v + 1 WHERE id = 1 + (i * 7919) % {ROWS};
    INSERT INTO {s}.items VALUES (base + i, 1, 'n' || (base + i), ((base + i) % 100000) / 100.0);
    IF i % 3 = 0 THEN DELETE FROM {s}.items WHERE id = 1 + (i * 104729) % {ROWS}; END IF;
    IF i % 5 = 0 THEN UPDATE {s}.items SET v = v + 1 WHERE id = base + i - 1; END IF;
    COMMIT;
  END LOOP;
END $$;""")


def audit():
    out = collections.defaultdict(list)
    for line in psql(f"SELECT id, op, coalesce(v, -1) FROM {SCHEMA}.audit ORDER BY seq").split():
        i, op, v = line.split("|")
        out[int(i)].append((OPS[op], None if v == "-1" else int(v)))
    return out


def states(initial, changes):
    """State (v, or None when absent) before any of CHANGES and after each."""
    st = [initial]
    for op, v in changes:
        st.append(None if op == "d" else v)
    return st


def verify(records, changes):
    """Each key: [r of its state at some point k of its audited changes] + exactly changes[k:]."""
    events = collections.defaultdict(list)
    values_checked = 0
    for _, _, key, val in records:
        if val is None:
            continue  # tombstone
        after = val["after"]
        events[key["id"]].append((val["op"], after["v"] if after else None))
        if after:
            assert after["note"] == f"n{key['id']}", val
            assert after["price"] == decimal.Decimal(key["id"] % 100000) / 100, val
            values_checked += 1
    reads = 0
    for k in set(events) | set(changes) | set(range(1, ROWS + 1)):
        e, a = events.get(k, []), changes.get(k, [])
        ops = [op for op, _ in e]
        assert ops.count("r") <= 1 and ("r" not in ops or ops[0] == "r"), f"key {k}: {e}"
        st = states(0 if k <= ROWS else None, a)
        seen = e[0][1] if ops and ops[0] == "r" else None
        rest = e[1:] if ops and ops[0] == "r" else e
        reads += ops[:1] == ["r"]
        ok = any(rest == a[i:] for i in range(len(a) + 1) if st[i] == seen)
        assert ok, f"key {k}: events {e} do not continue its audited changes {a} exactly once"
    return reads, sum(len(e) for e in events.values()), values_checked


def writer(base, n):
    return subprocess.Popen(["psql", os.environ["SALESCDC_PG_CONNINFO"], "-v", "ON_ERROR_STOP=1",
                             "-qc", f"CALL {SCHEMA}.writer({base}, {n})"])


def log_time(path, needle):
    """Wall-clock time of the first log line containing NEEDLE, or None."""
    for line in open(path):
        if needle in line:
            ts = line.split()[0].split("=", 1)[1]
            return time.mktime(time.strptime(ts[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return None


_watermarks = None


def uncommitted_records(topic):
    """The high watermark of TOPIC: it counts records of open transactions too."""
    global _watermarks
    if _watermarks is None:
        _watermarks = Consumer({"bootstrap.servers": BROKERS, "group.id": f"wm-{os.getpid()}",
                               "isolation.level": "read_uncommitted"})
    md = _watermarks.list_topics(topic, timeout=5).topics.get(topic)
    if md is None or md.error is not None or not md.partitions:
        return 0
    return _watermarks.get_watermark_offsets(TopicPartition(topic, 0), timeout=5)[1]


def finish_run(run, proc, writers, log):
    """Waits until the writer is done and everything it wrote is in Kafka: the snapshot is
    recorded done and the slot confirmed the WAL position after the writer's last commit (a new
    slot starts at its consistent point, so the slot alone does not say the snapshot is in)."""
    for w in writers:
        assert w.wait(timeout=300) == 0, "writer failed"
    end = current_wal()
    wait_for("the snapshot to be recorded done",
             lambda: (offsets_record(f"{run}_slot") or {}).get("snapshot") == "done", proc=proc)
    wait_confirmed(f"{run}_slot", end, proc)
    records = read_topic(f"{run}.{SCHEMA}.items")
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, f"exit code {proc.returncode}"
    assert "snapshot table done" in open(log).read(), "no per-table snapshot progress logged"
    return records


def concurrent_snapshot(binary, log):
    proc = start(connector_args(binary, RUN, f"{SCHEMA}.items", "--snapshot.fetch.rows", "200",
                                "--exactly-once", "false"), log, "w")
    wait_for("the slot", lambda: psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                      f"'{RUN}_slot'"), proc=proc)
    started = time.time()
    w = writer(100000, 3000)
    records = finish_run(RUN, proc, [w], log)
    done = log_time(log, "snapshot complete")
    assert done and done >= int(started), "the writer did not run during the snapshot"
    reads, n, checked = verify(records, audit())
    print(f"concurrent snapshot: {reads} rows read (r), {n - reads} changes, "
          f"{checked} row images checked")
    assert n > reads > 0


def killed_snapshot(binary, log):
    """The first run's producer is throttled by ordinary librdkafka settings (a 1,000-message
    queue, 200 ms linger), so the snapshot takes seconds: kill -9 once part of it is written."""
    args = connector_args(binary, RUN2, f"{SCHEMA}.items")
    throttled = args + ["--kafka.queue.buffering.max.messages", "1000", "--kafka.linger.ms", "200"]
    proc = start(throttled, log, "w")
    topic = f"{RUN2}.{SCHEMA}.items"
    wait_for("the slot", lambda: psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                      f"'{RUN2}_slot'"), proc=proc)
    w = writer(200000, 3000)
    wait_for("snapshot rows in Kafka", lambda: uncommitted_records(topic) > 10000, proc=proc)
    proc.kill()
    proc.wait()
    assert uncommitted_records(topic) < ROWS, "the snapshot was complete before the kill"
    rec = offsets_record(f"{RUN2}_slot")
    assert rec and rec["snapshot"] == "running", f"offsets record after kill -9: {rec}"
    proc = start(args, log, "a")
    records = finish_run(RUN2, proc, [w, writer(300000, 1000)], log)
    assert "cut short" in open(log).read(), "the restart did not say the snapshot was cut short"
    rec = offsets_record(f"{RUN2}_slot")
    assert rec and rec["snapshot"] == "done", f"offsets record after the snapshot: {rec}"
    reads, n, _ = verify(records, audit())
    print(f"snapshot after kill -9: {reads} rows read (r) once each, {n - reads} changes")


def ops_of(topic):
    return collections.Counter(v["op"] if v else "tombstone" for _, _, _, v in read_topic(topic))


def snapshot_modes(binary, log):
    """initial_only exits 0 after its snapshot and keeps the slot; initial then streams without a
    second snapshot; always reads everything again; never reads nothing."""
    run, small = f"{RUN}m", f"{SCHEMA}.small"
    topic = f"{run}.{SCHEMA}.small"
    psql(f"CREATE TABLE {small} (id int PRIMARY KEY, v int); "
         f"INSERT INTO {small} SELECT g, 0 FROM generate_series(1, 1000) g")
    args = connector_args(binary, run, small)
    try:
        assert start(args + ["--snapshot.mode", "initial_only"], log, "w").wait(60) == 0
        assert ops_of(topic) == {"r": 1000}
        assert (offsets_record(f"{run}_slot") or {}).get("snapshot") == "done"
        psql(f"UPDATE {small} SET v = 1 WHERE id = 1")
        proc = start(args, log, "a")
        wait_confirmed(f"{run}_slot", current_wal(), proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert ops_of(topic) == {"r": 1000, "u": 1}, ops_of(topic)
        proc = start(args + ["--snapshot.mode", "always"], log, "a")
        wait_for("a second snapshot", lambda: ops_of(topic)["r"] >= 2000, proc=proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert ops_of(topic) == {"r": 2000, "u": 1}, ops_of(topic)
        assert "replication slot dropped" in open(log).read()
    finally:
        cleanup(run, [topic])
    run, topic = f"{RUN}n", f"{RUN}n.{SCHEMA}.small"
    try:
        proc = start(connector_args(binary, run, small, "--snapshot.mode", "never"), log, "a")
        wait_for("the slot", lambda: psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                          f"'{run}_slot' AND active"), proc=proc)
        psql(f"INSERT INTO {small} VALUES (1001, 0)")
        wait_confirmed(f"{run}_slot", current_wal(), proc)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        assert ops_of(topic) == {"c": 1}, ops_of(topic)
    finally:
        cleanup(run, [topic])
    print("snapshot modes initial_only, initial, always, never: as documented")


PROCS = []


def start(args, log, mode):
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, mode))
    PROCS.append(proc)
    return proc


def main():
    binary, passed = sys.argv[1], 0
    logs = [f"/tmp/{RUN}.log", f"/tmp/{RUN2}.log", f"/tmp/{RUN}m.log"]
    setup()
    try:
        concurrent_snapshot(binary, logs[0])
        passed += 1
        killed_snapshot(binary, logs[1])
        passed += 1
        snapshot_modes(binary, logs[2])
        passed += 1
    except Exception:
        for path in logs:
            if os.path.exists(path):
                print(f"--- {path}", file=sys.stderr)
                print("".join(open(path).readlines()[-40:]), file=sys.stderr)
        raise
    finally:
        for proc in PROCS:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        cleanup(RUN2, [f"{RUN2}.{SCHEMA}.items"], logs[1])
        cleanup(RUN, [f"{RUN}.{SCHEMA}.items"], logs[0])
        if os.path.exists(logs[2]):
            os.unlink(logs[2])
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    main()
