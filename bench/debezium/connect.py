"""Debezium's PostgreSQL connector in Kafka Connect standalone, for bench/run.

    libs = connect.fetch()                       # bench/debezium/fetch: jars in the cache
    proc, log = connect.start(libs, run_dir, name="dbz", conninfo=PG, slot=..., publication=...,
                              table="schema.orders", topic_prefix=..., brokers=...)
    connect.streaming_started(log)               # epoch of "Processing messages", or None
    connect.stop(proc)

The worker: org.apache.kafka.connect.cli.ConnectStandalone, every jar on one class path (no
plugin.path isolation), offsets in a file under run_dir, JsonConverter without schemas for keys
and values (Confluent's Avro converter is not on Maven Central; without schemas is the lighter
JSON form), JVM options as Kafka's connect-standalone.sh (-Xms256M -Xmx2G, G1). The connector:
plugin.name=pgoutput, the given slot and publication (both made beforehand, so it decodes the
WAL written after the slot was created), snapshot.mode=no_data, everything else at Debezium's
defaults (max.batch.size 2048, max.queue.size 8192, tombstones after deletes). pgjdbc speaks TCP
only, so Debezium always connects over TCP loopback.
"""
import os
import signal
import socket
import subprocess

HERE = os.path.dirname(os.path.abspath(__file__))
JAVA = os.environ.get("SALESCDC_DEBEZIUM_JAVA") or next(
    (j for j in ("/usr/lib/jvm/java-17-openjdk-amd64/bin/java",) if os.access(j, os.X_OK)),
    "java")
JVM_OPTS = ["-Xms256M", "-Xmx2G", "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20",
            "-XX:InitiatingHeapOccupancyPercent=35", "-XX:+ExplicitGCInvokesConcurrent",
            "-Djava.awt.headless=true"]


def fetch():
    """The folder of jars (fetched into ~/.cache/salescdc/debezium on first use)."""
    p = subprocess.run([os.path.join(HERE, "fetch")], capture_output=True, text=True)
    if p.returncode:
        raise SystemExit(f"bench: bench/debezium/fetch failed:\n{p.stderr[-3000:]}")
    return p.stdout.strip().splitlines()[-1]


def version(libs):
    jar = next((j for j in os.listdir(libs) if j.startswith("debezium-connector-postgres-")), "")
    return jar[len("debezium-connector-postgres-"):-len(".jar")]


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _write(path, props):
    with open(path, "w") as f:
        f.write("".join(f"{k}={v}\n" for k, v in props.items()))


def start(libs, run_dir, name, conninfo, slot, publication, table, topic_prefix, brokers):
    """Starts Connect with one Debezium connector; returns (Popen, log path). conninfo is a
    key=value libpq string with host, port, dbname, user, password (TCP)."""
    pg = dict(kv.split("=", 1) for kv in conninfo.split())
    worker, connector = (os.path.join(run_dir, f"{name}-{k}.properties")
                         for k in ("worker", "connector"))
    _write(worker, {
        "bootstrap.servers": brokers,
        "key.converter": "org.apache.kafka.connect.json.JsonConverter",
        "value.converter": "org.apache.kafka.connect.json.JsonConverter",
        "key.converter.schemas.enable": "false",
        "value.converter.schemas.enable": "false",
        "offset.storage.file.filename": os.path.join(run_dir, f"{name}.offsets"),
        "offset.flush.interval.ms": "1000",
        "listeners": f"http://127.0.0.1:{_free_port()}",
        "plugin.discovery": "service_load",
    })
    _write(connector, {
        "name": name,
        "connector.class": "io.debezium.connector.postgresql.PostgresConnector",
        "tasks.max": "1",
        "plugin.name": "pgoutput",
        "database.hostname": pg.get("host", "127.0.0.1"),
        "database.port": pg.get("port", "5432"),
        "database.user": pg["user"],
        "database.password": pg.get("password", ""),
        "database.dbname": pg["dbname"],
        "topic.prefix": topic_prefix,
        "slot.name": slot,
        "publication.name": publication,
        "publication.autocreate.mode": "disabled",
        "table.include.list": table,
        "snapshot.mode": "no_data",
    })
    log = os.path.join(run_dir, f"{name}.log")
    with open(log, "ab") as out:
        proc = subprocess.Popen(
            [JAVA, *JVM_OPTS, f"-Dlog4j2.configurationFile={HERE}/log4j2.properties",
             "-cp", os.path.join(libs, "*"), "org.apache.kafka.connect.cli.ConnectStandalone",
             worker, connector], stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return proc, log


def streaming_started(log):
    """Epoch seconds at which Debezium began reading the replication stream, or None."""
    import benchlib
    return benchlib.log_line_time(log, "Processing messages")


def stop(proc, timeout=60):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
