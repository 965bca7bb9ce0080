#!/usr/bin/env python3
"""Streaming of large in-progress transactions (pgoutput proto_version 2) through
salescdc-connector. The walsender's logical_decoding_work_mem is 64 kB for this test (set in the
connector's own connection options, not server-wide), so the server streams every transaction
larger than that in blocks before it commits. Interleaved with small transactions from another
session:
  * one transaction of ROWS inserts (in 4 statements, small transactions committed in between),
    with the connector killed (SIGKILL) after its first block was spooled and started again;
  * a large transaction that is rolled back;
  * a large transaction with a rolled-back savepoint (its changes must not appear) and updates.
An audit trigger records every committed change with its transaction id; a read_committed reader
must see exactly those changes, once each, in order per key, each transaction's events together,
the big transaction's rows in insert order, and nothing from an aborted part. The connector's
peak RSS (VmHWM) must stay under RSS_BOUND_MB: the big transaction goes to a spool file.
Stops on counts and log lines, never on a sleep.
Usage: test_connector_streaming.py CONNECTOR_BIN [ROWS]"""
import os
import signal
import subprocess
import sys

from test_connector_lib import (PG, cleanup, connector_args, current_wal, psql, read_topic,
                                slot_confirmed, wait_for)

RUN = f"itst{os.getpid()}"
SCHEMA = f"{RUN}_s"
TOPIC = f"{RUN}.{SCHEMA}.t"
RSS_BOUND_MB = 64
PG_SMALL_MEM = PG + " options='-c logical_decoding_work_mem=64kB'"


class Session:
    """A psql session kept open, so one transaction can span several steps."""

    def __init__(self):
        self.p = subprocess.Popen(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", PG],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self.n = 0

    def run(self, sql):
        self.n += 1
        self.p.stdin.write(f"{sql};\n\\echo step-{self.n}\n")
        self.p.stdin.flush()
        while True:
            line = self.p.stdout.readline()
            assert line, f"psql session ended during: {sql}"
            if line.strip() == f"step-{self.n}":
                return

    def close(self):
        self.p.stdin.close()
        assert self.p.wait(60) == 0


def small(i):
    """A small committed transaction of another session: an insert and an update."""
    psql(f"INSERT INTO {SCHEMA}.t VALUES ({10_000_000 + i}, 'small'); "
         f"UPDATE {SCHEMA}.t SET v = 'small-{i}' WHERE id = {10_000_000 + i}")


def start(binary, log):
    args = connector_args(binary, RUN, f"{SCHEMA}.t", "--log.level", "debug")
    args[args.index("--pg.conninfo") + 1] = PG_SMALL_MEM
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "a"))
    wait_for("replication started", lambda: "replication started" in open(log).read(), proc=proc)
    return proc


def peak_rss_mb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmHWM")


def audit():
    psql(f"""CREATE TABLE {SCHEMA}.t (id int PRIMARY KEY, v text);
CREATE TABLE {SCHEMA}.audit (seq bigserial PRIMARY KEY, id int, op char,
                             txid bigint DEFAULT txid_current());
CREATE FUNCTION {SCHEMA}.audit_fn() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO {SCHEMA}.audit (id, op) VALUES
    (CASE WHEN TG_OP = 'DELETE' THEN OLD.id ELSE NEW.id END, left(TG_OP, 1));
  RETURN NULL;
END $$;
CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON {SCHEMA}.t
  FOR EACH ROW EXECUTE FUNCTION {SCHEMA}.audit_fn();""")


def big_transaction(binary, log, rows):
    """ROWS inserts in one transaction; the connector is killed once its first block is spooled,
    and started again. Returns the new process."""
    proc = start(binary, log)  # creates the slot, which waits for no open transaction
    s = Session()
    s.run("BEGIN")
    step = rows // 4
    wal_before = current_wal()
    for k in range(4):
        s.run(f"INSERT INTO {SCHEMA}.t SELECT g, 'big' FROM generate_series({k * step + 1}, "
              f"{(k + 1) * step if k < 3 else rows}) g")
        small(k)
        if k == 0:
            wait_for("the first streamed block spooled",
                     lambda: "streamed transaction spooled" in open(log).read(), proc=proc)
            small(100)
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()
            confirmed = slot_confirmed(f"{RUN}_slot")
            assert confirmed <= wal_before, (
                f"the slot confirmed {confirmed} past the start {wal_before} of a streamed "
                f"transaction that was not committed")
            print("ok - slot not confirmed past an uncommitted streamed transaction; killed")
            proc = start(binary, log)
    s.run("COMMIT")
    s.close()
    return proc


def aborted_transactions():
    s = Session()
    s.run("BEGIN")
    s.run(f"INSERT INTO {SCHEMA}.t SELECT g, 'rolled back' FROM generate_series(20000001, "
          f"20030000) g")
    small(200)
    s.run("ROLLBACK")
    s.run("BEGIN")
    s.run(f"INSERT INTO {SCHEMA}.t SELECT g, 'kept' FROM generate_series(30000001, 30005000) g")
    s.run("SAVEPOINT a")
    s.run(f"INSERT INTO {SCHEMA}.t SELECT g, 'savepoint' FROM generate_series(40000001, "
          f"40005000) g")
    small(300)
    s.run("ROLLBACK TO SAVEPOINT a")
    s.run(f"UPDATE {SCHEMA}.t SET v = 'kept2' WHERE id BETWEEN 30000001 AND 30002000")
    s.run("SAVEPOINT b")
    s.run(f"DELETE FROM {SCHEMA}.t WHERE id BETWEEN 30004001 AND 30005000")
    s.run("RELEASE SAVEPOINT b")
    s.run("COMMIT")
    s.close()
    small(400)


def audited():
    out, n = {}, 0
    for line in psql(f"SELECT id, op, txid % 4294967296 FROM {SCHEMA}.audit ORDER BY seq").split():
        i, op, txid = line.split("|")
        out.setdefault(int(i), []).append(({"I": "c", "U": "u", "D": "d"}[op], int(txid)))
        n += 1
    return out, n


def verify(records, rows):
    changes, n = audited()
    events, order, seen_txn, big_ids, last_txn = {}, 0, set(), [], None
    for _, _, key, val in records:
        if val is None:
            continue  # tombstones follow deletes
        i, txid = key["id"], val["source"]["txId"]
        events.setdefault(i, []).append((val["op"], txid))
        if txid != last_txn:
            assert txid not in seen_txn, f"transaction {txid}'s events are not together"
            seen_txn.add(txid)
            last_txn = txid
        if val["after"] and val["after"]["v"] == "big":
            big_ids.append(i)
        assert not (20000000 < i <= 20030000 or 40000000 < i <= 40005000), \
            f"change of id {i} from a rolled-back part arrived"
        order += 1
    assert events == changes, "events per key differ from the audited changes: " + str(
        [(k, events.get(k), changes.get(k)) for k in set(events) | set(changes)
         if events.get(k) != changes.get(k)][:5])
    assert order == n, f"{order} events for {n} audited changes"
    assert big_ids == list(range(1, rows + 1)), "the big transaction's rows out of order"
    return order


def main():
    binary = sys.argv[1]
    rows = int(sys.argv[2]) if len(sys.argv) > 2 else 200_000
    log = f"/tmp/{RUN}.log"
    proc = None
    psql(f"CREATE SCHEMA {SCHEMA}")
    try:
        audit()
        proc = big_transaction(binary, log, rows)
        aborted_transactions()
        end = current_wal()
        wait_for(f"slot to confirm {end}", lambda: slot_confirmed(f"{RUN}_slot") >= end,
                 timeout=600, proc=proc)
        rss = peak_rss_mb(proc.pid)
        text = open(log).read()
        assert "streaming=on" in text, "the connector did not ask for streaming"
        assert text.count("streamed transaction committed") >= 2, "no streamed commit replayed"
        n = verify(read_topic(TOPIC), rows)
        print(f"ok - {n} committed changes exactly once and in order ({rows}-row streamed "
              f"transaction, restart mid-stream, rollback, rolled-back savepoint)")
        assert rss < RSS_BOUND_MB, f"peak RSS {rss:.1f} MB >= {RSS_BOUND_MB} MB"
        print(f"ok - peak RSS {rss:.1f} MB < {RSS_BOUND_MB} MB")
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(60) == 0, "connector did not exit 0 on SIGTERM"
        proc = None
    except BaseException:
        if os.path.exists(log):
            sys.stderr.write(open(log).read()[-4000:])
        raise
    finally:
        if proc and proc.poll() is None:
            proc.kill()
            proc.wait()
        cleanup(RUN, [TOPIC], log)


if __name__ == "__main__":
    main()
