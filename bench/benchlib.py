"""Helpers shared by the benchmarks in bench/: the stack's environment, the other bench scripts
as modules, PostgreSQL and Kafka chores, and what a process cost (peak RSS, CPU seconds).

    import benchlib
    benchlib.load_stack_env()                      # .stack/env into os.environ
    cb = benchlib.load_script("connector_bench")   # bench/connector_bench as a module
    rss_mb, cpu_s = benchlib.time_v(stderr_of_usr_bin_time_v)
"""
import glob
import importlib.machinery
import importlib.util
import os
import re
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
CLK_TCK = os.sysconf("SC_CLK_TCK")


def load_stack_env(path=None):
    """Sets the variables `deploy/local/stack up` wrote into .stack/env (export K=V lines)."""
    path = path or os.path.join(os.environ.get("SALESCDC_STACK_DIR", os.path.join(ROOT, ".stack")),
                                "env")
    with open(path) as f:
        for line in f:
            m = re.match(r"export (\w+)=(.*)$", line.strip())
            if m:
                value = m.group(2)
                if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
                    value = value[1:-1]
                os.environ[m.group(1)] = value


def stack_setting(name):
    """A setting of the local stack: the environment, else deploy/local/stack.conf."""
    if os.environ.get(name):
        return os.environ[name]
    with open(os.path.join(ROOT, "deploy", "local", "stack.conf")) as f:
        for line in f:
            if line.startswith(f"{name}="):
                return line.strip().split("=", 1)[1]
    return ""


def load_script(name):
    """A bench/ script without a .py suffix (e.g. connector_bench) imported as a module, so its
    functions can be reused; its globals (RUN, PG, ...) may be set by the caller."""
    path = os.path.join(HERE, name)
    loader = importlib.machinery.SourceFileLoader(f"bench_{name}", path)
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module


def binary(name, build=None):
    build = build or os.environ.get("SALESCDC_BUILD_DIR", os.path.join(ROOT, "build"))
    path = os.path.join(build, name)
    if not os.access(path, os.X_OK):
        raise SystemExit(f"bench: {path} is not built (cmake --build {build})")
    return path


def psql(conninfo, *statements, timeout=600):
    """Runs each statement in its own transaction; returns the last one's output."""
    args = ["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1", "-d", conninfo]
    for s in statements:
        args += ["-c", s]
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout)
    if p.returncode:
        raise SystemExit(f"bench: psql failed: {statements}: {p.stderr.strip()}")
    return p.stdout.strip()


def lsn_parse(text):
    hi, lo = text.split("/")
    return int(hi, 16) << 32 | int(lo, 16)


def lsn_text(value):
    return f"{value >> 32:X}/{value & 0xffffffff:X}"


def conninfo_fields(conninfo):
    """key=value libpq connection string -> dict (no quoting support: the stack writes none)."""
    return dict(kv.split("=", 1) for kv in conninfo.split())


def conninfo_with(conninfo, **changes):
    fields = conninfo_fields(conninfo)
    fields.update(changes)
    return " ".join(f"{k}={v}" for k, v in fields.items())


def producer_summary(stdout):
    """The counts of salescdc-producer's summary line (inserted, updated, deleted, ...)."""
    line = next((l for l in stdout.splitlines() if l.startswith("summary ")), None)
    if line is None:
        raise SystemExit(f"bench: no summary line from salescdc-producer: {stdout[-500:]}")
    out = {}
    for k, v in re.findall(r"(\w+)=(\S+)", line):
        try:
            out[k] = int(v)
        except ValueError:
            try:
                out[k] = float(v)
            except ValueError:
                out[k] = v
    return out


def time_v(text):
    """Peak RSS (MiB) and CPU seconds (user + system) from /usr/bin/time -v output."""
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", text).group(1))
    user = float(re.search(r"User time \(seconds\): ([0-9.]+)", text).group(1))
    system = float(re.search(r"System time \(seconds\): ([0-9.]+)", text).group(1))
    return rss / 1024, user + system


def _stat(pid):
    """(ppid, comm, utime + stime in ticks) of a live process, or None."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            text = f.read()
    except OSError:
        return None
    comm = text[text.index("(") + 1:text.rindex(")")]
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[1]), comm, int(fields[11]) + int(fields[12])


def _hwm_kb(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def process_tree(pid):
    """pid and all its live descendants."""
    children = {}
    for path in glob.glob("/proc/[0-9]*/stat"):
        p = int(path.split("/")[2])
        st = _stat(p)
        if st:
            children.setdefault(st[0], []).append(p)
    tree, todo = [], [pid]
    while todo:
        p = todo.pop()
        tree.append(p)
        todo += children.get(p, [])
    return tree


def tree_cost(pid):
    """(peak RSS MiB of the largest process, CPU seconds of all) of pid's live process tree:
    VmHWM and utime+stime from /proc, read now (call it before stopping the process)."""
    tree = process_tree(pid)
    cpu = sum((_stat(p) or (0, "", 0))[2] for p in tree) / CLK_TCK
    rss = max((_hwm_kb(p) for p in tree), default=0) / 1024
    return rss, cpu


class Sampler(threading.Thread):
    """Watches this process's descendants whose command name starts with PREFIX (e.g. a
    program another bench script starts) every 50 ms: peak VmHWM and the last CPU seconds seen
    of each. Costs what it saw up to stop(); a process's CPU after its last sample is missed."""

    def __init__(self, prefix):
        super().__init__(daemon=True)
        self.prefix, self.seen, self.done = prefix[:15], {}, threading.Event()

    def run(self):
        while not self.done.wait(0.05):
            for p in process_tree(os.getpid()):
                st = _stat(p)
                if st and st[1].startswith(self.prefix):
                    rss, cpu = self.seen.get(p, (0, 0))
                    self.seen[p] = (max(rss, _hwm_kb(p)), max(cpu, st[2]))

    def stop(self):
        """(peak RSS MiB, CPU seconds) over the processes seen."""
        self.done.set()
        self.join()
        rss = max((r for r, _ in self.seen.values()), default=0) / 1024
        cpu = sum(c for _, c in self.seen.values()) / CLK_TCK
        return rss, cpu


def wait_for(what, check, timeout=600, step=0.05):
    deadline = time.monotonic() + timeout
    while not (result := check()):
        if time.monotonic() > deadline:
            raise SystemExit(f"bench: timed out after {timeout}s waiting for {what}")
        time.sleep(step)
    return result


def log_line_time(path, needle):
    """Epoch seconds of the first line of PATH containing NEEDLE, from its leading timestamp
    (logfmt ts=2024-01-01T00:00:00.000Z or log4j [2024-01-01T00:00:00,000]), or None."""
    import datetime
    try:
        with open(path, errors="replace") as f:
            for line in f:
                if needle not in line:
                    continue
                m = re.search(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)[.,](\d{3})", line)
                if m:
                    dt = datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
                    dt = dt.replace(tzinfo=datetime.timezone.utc)
                    return dt.timestamp() + int(m.group(2)) / 1000.0
    except OSError:
        pass
    return None


def kafka_admin(brokers):
    from confluent_kafka.admin import AdminClient
    return AdminClient({"bootstrap.servers": brokers})


def create_topics(brokers, topics, partitions=1):
    from confluent_kafka.admin import NewTopic
    admin = kafka_admin(brokers)  # kept alive until the futures are done
    futures = admin.create_topics([NewTopic(t, partitions, 1) for t in topics],
                                  operation_timeout=30)
    for f in futures.values():
        f.result(timeout=60)


def delete_topics(brokers, patterns):
    """Deletes the existing topics that start with any of PATTERNS (prefixes)."""
    admin = kafka_admin(brokers)
    doomed = [t for t in admin.list_topics(timeout=10).topics
              if any(t.startswith(p) for p in patterns)]
    if not doomed:
        return
    for topic, f in admin.delete_topics(doomed, operation_timeout=30).items():
        try:
            f.result(60)
        except Exception as e:  # noqa: BLE001 (clean-up goes on)
            print(f"bench: delete topic {topic}: {e}", file=sys.stderr)


def end_offset(brokers, topic, committed=False):
    """Sum of the topic's high watermarks (read_uncommitted: every record incl. transaction
    markers) or, with committed, its last stable offsets (read_committed)."""
    from confluent_kafka import Consumer, TopicPartition
    c = Consumer({"bootstrap.servers": brokers, "group.id": "salescdc-bench-probe",
                  "isolation.level": "read_committed" if committed else "read_uncommitted"})
    try:
        md = c.list_topics(topic, timeout=10).topics.get(topic)
        if not md or md.error:
            return 0
        return sum(c.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                   for p in md.partitions)
    finally:
        c.close()


def count_records(brokers, topic, timeout_s=600):
    """(values, tombstones) a read_committed consumer reads from the whole topic."""
    from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition
    stable = end_offset(brokers, topic, committed=True)
    c = Consumer({"bootstrap.servers": brokers, "group.id": "salescdc-bench-count",
                  "isolation.level": "read_committed", "enable.auto.commit": False,
                  "enable.partition.eof": True})
    values = tombstones = 0
    try:
        md = c.list_topics(topic, timeout=10).topics[topic]
        c.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in md.partitions])
        eof, deadline = set(), time.monotonic() + timeout_s
        while len(eof) < len(md.partitions) and time.monotonic() < deadline:
            for m in c.consume(10000, 0.5):
                if m.error():
                    if m.error().code() == -191:  # _PARTITION_EOF
                        eof.add(m.partition())
                        continue
                    raise SystemExit(f"bench: reading {topic}: {m.error()}")
                if m.value() is None:
                    tombstones += 1
                else:
                    values += 1
        if len(eof) < len(md.partitions):
            raise SystemExit(f"bench: reading {topic} did not reach its end "
                             f"({values + tombstones} of about {stable} records)")
    finally:
        c.close()
    return values, tombstones
