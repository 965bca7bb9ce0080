#!/usr/bin/env python3
"""The demo's live status block: how far each stage of the pipeline has got, refreshed in place.

  PostgreSQL  changes written (the audit table: one row per row change of public.orders)
  Kafka       envelopes in the CDC topic, records in the flat topic (read_committed, counted
              by a consumer of our own from the beginning; tombstones shown apart)
  S3          objects (and bytes) under <table>/ in the bucket
  Trino       rows of hive.sales.orders_changes (every change) and of the view hive.sales.orders
  lag         how long ago the oldest change that Trino does not show yet was written

  tools/demo_status.py                          # refreshes until Ctrl-C
  tools/demo_status.py --wait --producer-log F -- build/salescdc-producer --rate 50 --count 3000

With a command after --, it runs that command (the producer; output to --producer-log) and, with
--wait, returns once it has finished and Trino shows every change written to PostgreSQL: exit 0;
1 when Trino has not caught up --timeout seconds after the producer finished; 2 when the producer
failed; 130 on Ctrl-C (the producer is stopped with SIGTERM first, so its last transaction
commits). Settings from the environment (`source .stack/env`). Needs confluent-kafka (the test
venv, tests/requirements.txt).
"""
import argparse
import datetime
import hashlib
import hmac
import os
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare_queries as cq  # noqa: E402

from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition  # noqa: E402


class TopicCounter(threading.Thread):
    """Counts the committed records of TOPIC from its beginning, in the background."""

    def __init__(self, topic):
        super().__init__(daemon=True)
        self.topic, self.records, self.tombstones, self.error = topic, 0, 0, None
        self.stop, self.ready = threading.Event(), False  # ready: has reached the end once

    def run(self):
        c = Consumer({"bootstrap.servers": cq.env("SALESCDC_KAFKA_BROKERS"),
                      "group.id": f"salescdc-demo-status-{os.getpid()}",
                      "enable.auto.commit": False, "isolation.level": "read_committed",
                      "log_level": 3})
        try:
            parts = None
            while not self.stop.is_set() and not parts:
                md = c.list_topics(self.topic, timeout=5).topics.get(self.topic)
                parts = sorted(md.partitions) if md and not md.error and md.partitions else None
                if not parts:
                    self.stop.wait(1)
            if parts:
                c.assign([TopicPartition(self.topic, p, OFFSET_BEGINNING) for p in parts])
            while not self.stop.is_set():
                batch = c.consume(1000, 0.5)
                # A short batch means the backlog is read: the count is current from now on.
                # (Partition EOF events are no sign: under a steady stream of transactions a
                # read_committed consumer may not see one for a long time.)
                self.ready = self.ready or (parts is not None and len(batch) < 1000)
                for m in batch:
                    if m.error():
                        continue
                    if m.value() is None:
                        self.tombstones += 1
                    else:
                        self.records += 1
        except Exception as e:  # shown in the block; the counter just stops
            self.error = str(e)
        finally:
            c.close()


def s3_sign(method, path, qs):
    """Headers of an S3 request without a body, signed with SigV4 (path and query canonical)."""
    endpoint = cq.env("SALESCDC_S3_ENDPOINT")
    region = os.environ.get("SALESCDC_S3_REGION", "us-east-1")
    access, secret = cq.env("SALESCDC_S3_ACCESS_KEY"), cq.env("SALESCDC_S3_SECRET_KEY")
    now = datetime.datetime.now(datetime.timezone.utc)
    amz, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    empty = hashlib.sha256(b"").hexdigest()
    headers = {"host": urllib.parse.urlparse(endpoint).netloc, "x-amz-content-sha256": empty,
               "x-amz-date": amz}
    signed = ";".join(sorted(headers))
    canonical = "\n".join([method, path, qs, "".join(f"{k}:{headers[k]}\n"
                                                     for k in sorted(headers)), signed, empty])
    scope = f"{day}/{region}/s3/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz, scope,
                         hashlib.sha256(canonical.encode()).hexdigest()])
    key = ("AWS4" + secret).encode()
    for part in (day, region, "s3", "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    headers["Authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={access}/{scope}, SignedHeaders={signed}, "
        f"Signature={hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()}")
    del headers["host"]
    return headers


def s3_keys(prefix):
    """(key, size) of every object under PREFIX in the bucket (ListObjectsV2)."""
    endpoint, bucket = cq.env("SALESCDC_S3_ENDPOINT"), cq.env("SALESCDC_S3_BUCKET")
    ns = {"s": "http://s3.amazonaws.com/doc/2006-03-01/"}
    token = None
    while True:
        query = {"list-type": "2", "prefix": prefix}
        if token:
            query["continuation-token"] = token
        qs = "&".join(f"{urllib.parse.quote(k, safe='~')}={urllib.parse.quote(v, safe='~')}"
                      for k, v in sorted(query.items()))
        path = "/" + bucket
        req = urllib.request.Request(f"{endpoint}{path}?{qs}", headers=s3_sign("GET", path, qs))
        with urllib.request.urlopen(req, timeout=10) as r:
            root = ET.fromstring(r.read())
        for c in root.findall("s:Contents", ns):
            yield c.find("s:Key", ns).text, int(c.find("s:Size", ns).text)
        t = root.find("s:NextContinuationToken", ns)
        if t is None:
            return
        token = t.text


def s3_objects(prefix):
    """(objects, bytes) under PREFIX."""
    sizes = [size for _, size in s3_keys(prefix)]
    return len(sizes), sum(sizes)


def trino_count(table):
    """Rows of TABLE, or None while it does not exist yet (the sink registers it)."""
    try:
        return int(cq.run_trino(f"SELECT count(*) FROM {table}")[1][0][0])
    except cq.QueryError as e:
        if "TABLE_NOT_FOUND" in str(e) or "does not exist" in str(e):
            return None
        raise


class Status:
    def __init__(self, args):
        self.args = args
        s, t = args.pg_schema, args.trino_prefix
        self.audit, self.orders = f"{s}.orders_audit", f"{s}.orders"
        self.cdc = f"{args.topic_prefix}.{s}.orders"
        self.flat = self.cdc + ".flat"
        table = "orders" if s == "public" else f"{s}_orders"
        self.s3_prefix = f"{args.s3_prefix.strip('/')}/{table}/".lstrip("/")
        self.changes, self.view = f"hive.sales.{t}{table}_changes", f"hive.sales.{t}{table}"
        self.counters = [TopicCounter(self.cdc), TopicCounter(self.flat)]
        for c in self.counters:
            c.start()
        self.t0 = time.monotonic()

    def sample(self):
        """One reading of every stage; a service that does not answer shows as "?" and counts
        as not caught up (the next reading tries again)."""
        try:
            return self.read()
        except cq.QueryError as e:
            return {"pg_changes": "?", "pg_orders": "?", "cdc": "?", "tomb": "?", "flat": "?",
                    "objects": "?", "bytes": 0, "trino_changes": "?", "trino_view": "?",
                    "caught_up": False, "lag": None, "error": str(e)}

    def read(self):
        v = {}
        row = cq.psql(f"SELECT (SELECT count(*) FROM {self.audit}), "
                      f"(SELECT count(*) FROM {self.orders})").split("|")
        v["pg_changes"], v["pg_orders"] = int(row[0]), int(row[1])
        cdc, flat = self.counters
        v["cdc"], v["tomb"] = (cdc.records, cdc.tombstones) if cdc.ready else ("…", "…")
        v["flat"] = flat.records if flat.ready else "…"
        try:
            v["objects"], v["bytes"] = s3_objects(self.s3_prefix)
        except OSError as e:
            v["objects"], v["bytes"] = f"? ({e})", 0
        try:
            v["trino_changes"], v["trino_view"] = trino_count(self.changes), trino_count(self.view)
        except cq.QueryError as e:
            v["trino_changes"], v["trino_view"] = None, f"? ({e})"
        seen = v["trino_changes"] or 0
        v["caught_up"] = seen >= v["pg_changes"] and v["pg_changes"] > 0
        if v["caught_up"]:
            v["lag"] = 0.0
        else:
            ago = cq.psql(f"SELECT extract(epoch FROM clock_timestamp() - changed_at) "
                          f"FROM {self.audit} ORDER BY id OFFSET {seen} LIMIT 1")
            v["lag"] = float(ago) if ago else None
        return v

    def lines(self, v, producer):
        n = lambda x: f"{x:,}" if isinstance(x, int) else ("-" if x is None else str(x))
        lag = ("-" if v["lag"] is None else
               "0 s (Trino shows every change)" if v["caught_up"] else f"{v['lag']:.1f} s")
        errors = [f"{c.topic}: {c.error}" for c in self.counters if c.error]
        errors += [v["error"]] if "error" in v else []
        return [
            f"salescdc pipeline  {time.strftime('%H:%M:%S')}  (running "
            f"{time.monotonic() - self.t0:.0f} s; producer {producer})",
            f"  PostgreSQL  changes written      {n(v['pg_changes']):>10}   orders now "
            f"{n(v['pg_orders'])} ({self.orders})",
            f"  Kafka       CDC events           {n(v['cdc']):>10}   + {n(v['tomb'])} tombstones "
            f"({self.cdc})",
            f"  Kafka       flat records         {n(v['flat']):>10}   ({self.flat})",
            f"  S3          objects              {n(v['objects']):>10}   "
            f"{v['bytes'] / 1048576:.2f} MiB (s3://{os.environ.get('SALESCDC_S3_BUCKET')}/"
            f"{self.s3_prefix})",
            f"  Trino       change rows          {n(v['trino_changes']):>10}   view rows "
            f"{n(v['trino_view'])} ({self.changes})",
            f"  end-to-end lag (commit -> Trino) {lag}",
        ] + [f"  ! {e}" for e in errors]


def main():
    argv = sys.argv[1:]
    command = argv[argv.index("--") + 1:] if "--" in argv else []
    argv = argv[:argv.index("--")] if "--" in argv else argv
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 usage="%(prog)s [OPTION...] [-- PRODUCER COMMAND...]")
    ap.add_argument("--wait", action="store_true",
                    help="return once the producer finished and Trino has caught up")
    ap.add_argument("--producer-log", default=os.devnull, help="the producer's output (append)")
    ap.add_argument("--timeout", type=float, default=300,
                    help="with --wait: seconds after the producer finished (default 300)")
    ap.add_argument("--interval", type=float, default=1.0, help="seconds between refreshes")
    ap.add_argument("--pg-schema", default="public")
    ap.add_argument("--topic-prefix", default="sales")
    ap.add_argument("--s3-prefix", default="")
    ap.add_argument("--trino-prefix", default="")
    args = ap.parse_args(argv)
    producer = None
    if command:
        with open(args.producer_log, "a") as out:
            producer = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                        start_new_session=True)  # Ctrl-C is ours to relay
    try:
        return watch(args, producer)
    except KeyboardInterrupt:
        if producer and producer.poll() is None:
            producer.terminate()
            producer.wait(60)
        return 130


def watch(args, producer):
    tty = sys.stdout.isatty()
    st, shown, last_print, finished_at = Status(args), 0, 0.0, None
    while True:
        rc = producer.poll() if producer else 0
        if rc is not None and finished_at is None:
            finished_at = time.monotonic()
        v = st.sample()
        state = ("-" if not producer else "running" if rc is None else
                 "finished" if rc == 0 else f"FAILED (exit {rc}; see {args.producer_log})")
        lines = st.lines(v, state)
        done = (args.wait and rc is not None and v["caught_up"]
                and v["trino_view"] == v["pg_orders"])
        if tty:
            out = (f"\033[{shown}A" if shown else "") + "".join(f"\033[K{ln}\n" for ln in lines)
            sys.stdout.write(out)
            shown = len(lines)
        elif done or rc or time.monotonic() - last_print >= 10:
            print("\n".join(lines) + "\n", flush=True)
            last_print = time.monotonic()
        sys.stdout.flush()
        if rc:
            return 2
        if done:
            return 0
        if args.wait and finished_at and time.monotonic() - finished_at > args.timeout:
            print(f"demo_status: Trino has not caught up {args.timeout:.0f} s after the producer "
                  "finished; see deploy/local/pipeline logs", file=sys.stderr)
            return 1
        time.sleep(args.interval)


if __name__ == "__main__":
    sys.exit(main())
