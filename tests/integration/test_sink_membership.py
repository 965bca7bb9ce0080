#!/usr/bin/env python3
"""Integration test: salescdc-s3-sink survives losing its consumer-group membership.

The sink (argv[1]) runs with 6 s session and max.poll timeouts, talking to S3 through a proxy
that can hold the data it forwards. Order changes are produced to a new two-partition topic in
three batches:
  1. the sink buffers the batch; the proxy then holds S3's traffic for 12 s, so the idle cut's
     PUT takes longer than max.poll.interval.ms, the member leaves its group meanwhile, and the
     commit after the stored objects is refused (uploaded, not committed: rewritten on re-read);
  2. the sink buffers the batch and is frozen (SIGSTOP) for 20 s, longer than both timeouts, so
     the group evicts it, then thawed (SIGCONT): the assignment is lost;
  3. the rest.
The test asserts the sink is still running, every change is stored exactly once (the objects
read back from S3: each JSON line once, none missing), the keys are the sink's, /metrics counted
both losses, and a SIGTERM still exits 0.

Usage: test_sink_membership.py path/to/salescdc-s3-sink   (tests/run provides the environment)
"""
import gzip
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import requests

import test_sink as ts

FROZEN_S = 20  # > session.timeout.ms and max.poll.interval.ms (6 s) with margin
STALL_S = 12   # a PUT held this long outlasts max.poll.interval.ms (6 s)


class StallProxy:
    """A TCP proxy to TARGET (a URL's host:port) that forwards nothing before stall_until."""

    def __init__(self, target):
        host, port = target.rsplit(":", 1)
        self.target = (host, int(port))
        self.stall_until = 0.0
        self.server = socket.socket()
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind(("127.0.0.1", 0))
        self.server.listen(64)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self.accept_loop, daemon=True).start()

    def accept_loop(self):
        while True:
            conn, _ = self.server.accept()
            upstream = socket.create_connection(self.target)
            for a, b in ((conn, upstream), (upstream, conn)):
                threading.Thread(target=self.pipe, args=(a, b), daemon=True).start()

    def pipe(self, src, dst):
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                while time.time() < self.stall_until:
                    time.sleep(0.05)
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


def metric(url, name):
    m = re.search(rf"^{name} (\d+)$", requests.get(url, timeout=10).text, re.M)
    return int(m.group(1)) if m else None


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    sink_bin = os.path.abspath(sys.argv[1])
    n = f"{int(time.time())}{os.getpid() % 1000:03d}"
    topic, prefix = f"sales.test{n}.orders.flat", f"itest/sink-membership-{n}"
    s3 = ts.S3()
    changes = ts.make_changes()[:1500]
    first, second, rest = changes[:500], changes[500:1000], changes[1000:]
    ts.produce(topic, first)
    log_dir = tempfile.mkdtemp(prefix="test_sink_membership_")
    log = open(os.path.join(log_dir, "sink.log"), "ab")
    print(f"logs in {log_dir}")
    args = [sink_bin, "--topics.regex", topic, "--group.id", f"itest-sink-membership-{n}",
            "--s3.prefix", prefix, "--flush.records", "1000000", "--flush.idle.ms", "4000",
            "--rotate.interval.ms", "86400000", "--http.port", "0", "--log.level", "info",
            "--kafka.session.timeout.ms", "6000", "--kafka.heartbeat.interval.ms", "1000",
            "--kafka.max.poll.interval.ms", "6000"]
    endpoint = ts.env("SALESCDC_S3_ENDPOINT")
    proxy = StallProxy(endpoint.split("://", 1)[1].rstrip("/"))
    env_vars = dict(os.environ, SALESCDC_S3_ENDPOINT=f"http://127.0.0.1:{proxy.port}")
    env_vars.pop("SALESCDC_TRINO_URL", None)
    proc = subprocess.Popen(args, stdout=log, stderr=log, env=env_vars)
    try:
        def logged():
            with open(log.name, "rb") as f:
                m = re.search(rb"metrics on (http://[0-9.:]+)/metrics", f.read())
            return m and m.group(1).decode()
        url = ts.wait_until("the metrics address in the log", logged, 30) + "/metrics"
        def lost_at_least(k):
            def counted():
                return (proc.poll() is not None or
                        (metric(url, "salescdc_sink_rebalances_lost_total") or 0) >= k)
            ts.wait_until(f"membership loss {k} counted", counted, 120)
            ts.check(proc.poll() is None, f"the sink exited {proc.returncode} after losing its "
                     f"membership (log: {log.name})")

        def buffered(k):
            # only the idle rule (4 s) cuts: every record of the batch is held in buffers now
            ts.wait_until("the batch buffered",
                          lambda: metric(url, "salescdc_sink_buffered_records") == k, 60, 0.1)
        # 1: the idle cut's PUT outlasts max.poll.interval.ms; its commit is refused
        buffered(len(first))
        proxy.stall_until = time.time() + STALL_S
        lost_at_least(1)
        # 2: frozen longer than the session and max.poll timeouts
        ts.wait_until("the first batch stored again",
                      lambda: metric(url, "salescdc_sink_buffered_records") == 0, 60)
        ts.produce(topic, second, create=False)
        buffered(len(second))
        proc.send_signal(signal.SIGSTOP)
        time.sleep(FROZEN_S)
        proc.send_signal(signal.SIGCONT)
        lost_at_least(2)
        ts.produce(topic, rest, create=False)

        class Handle:
            pass
        handle = Handle()
        handle.proc, handle.run, handle.prefix, handle.log = proc, "membership", prefix, log
        ts.wait_stored(s3, handle, len(changes))
        objects = ts.stored_objects(s3, prefix)
        lines = []
        for key, raw in objects.items():
            ts.check(re.search(r"\+[0-9]\+[0-9]{20}\.json\.gz$", key),
                     f"key {key} is not <topic>+<partition>+<20-digit offset>.json.gz")
            lines += gzip.decompress(raw).decode().splitlines()
        expected = [ts.json_line(c) for c in changes]
        ts.check(len(lines) == len(set(lines)), "a change is stored twice")
        ts.check(sorted(lines) == sorted(expected),
                 f"stored changes differ: {len(set(expected) - set(lines))} missing, "
                 f"{len(set(lines) - set(expected))} unexpected")
        ts.check(proc.poll() is None, f"the sink exited {proc.returncode} (log: {log.name})")
        lost = metric(url, "salescdc_sink_rebalances_lost_total")
        ts.check(lost and lost >= 2, f"salescdc_sink_rebalances_lost_total is {lost}")
        proc.send_signal(signal.SIGTERM)
        rc = proc.wait(timeout=120)
        ts.check(rc == 0, f"the sink exited {rc} after SIGTERM (log: {log.name})")
    finally:
        if proc.poll() is None:
            proc.send_signal(signal.SIGCONT)
            proc.kill()
            proc.wait()
    s3.delete_prefix(prefix + "/")
    ts.delete_topic(topic)
    print("test_sink_membership: ok")


if __name__ == "__main__":
    main()
