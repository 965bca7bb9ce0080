#!/usr/bin/env python3
"""Lost connections: salescdc-connector retries with backoff and resumes from the right LSN.
(1) PostgreSQL: during a load from salescdc-producer the connector's walsender is terminated
(pg_terminate_backend) twice. (2) Kafka: a private KRaft broker (this test's own, from the local
stack's Kafka download, on free ports) is stopped in the middle of the stream and started again
a few seconds later. Either way the connector keeps running, and a read_committed consumer
(confluent-kafka + fastavro) sees every audited change exactly once, in order.
Usage: test_connector_reconnect.py CONNECTOR_BIN PRODUCER_BIN"""
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid

from confluent_kafka.admin import AdminClient

from test_connector_lib import (PG, audit_orders, audited_changes, cleanup, connector_args,
                                current_wal, free_port, psql, read_topic, verify_changes,
                                wait_confirmed, wait_for, written)

RUN = f"itr{os.getpid()}"
PROCS = []
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def start(args, log, **kw):
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=open(log, "a"), **kw)
    PROCS.append(proc)
    return proc


def producer_load(producer, schema, count, rate):
    return start([producer, "--pg.conninfo", PG, "--pg.schema", schema, "--rate", str(rate),
                  "--count", str(count), "--batch", "50", "--delete.percent", "5"],
                 f"/tmp/{RUN}-producer.log")


def prepare(producer, run):
    schema = f"{run}_s"
    subprocess.run([producer, "--pg.conninfo", PG, "--pg.schema", schema, "--init", "true",
                    "--count", "0"], check=True, capture_output=True)
    audit_orders(schema)
    return schema, f"{run}.{schema}.orders"


def finish(run, schema, topic, proc, load, brokers):
    assert load.wait(timeout=300) == 0, "the producer failed"
    wait_confirmed(f"{run}_slot", current_wal(), proc, timeout=300)
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 0, f"connector exit code {proc.returncode}"
    changes, n = audited_changes(schema)
    return verify_changes(read_topic(topic, timeout=300, brokers=brokers), changes, n)


def postgres_drops(binary, producer, log):
    run = f"{RUN}p"
    schema, topic = prepare(producer, run)
    try:
        proc = start(connector_args(binary, run, f"{schema}.orders", "--retry.backoff.ms", "200"),
                     log)
        wait_for("the slot", lambda: psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                          f"'{run}_slot' AND active"), proc=proc)
        load = producer_load(producer, schema, 30000, 10000)
        for mark in (5000, 15000):
            wait_for(f"{mark} records", lambda: written(topic) >= mark, proc=proc)
            pid = psql(f"SELECT active_pid FROM pg_replication_slots WHERE slot_name = "
                       f"'{run}_slot'")
            psql(f"SELECT pg_terminate_backend({pid})")
            print(f"terminated the walsender (pid {pid}) at {written(topic)} records")
            wait_for("the slot to be active again", lambda: psql(
                f"SELECT 1 FROM pg_replication_slots WHERE slot_name = '{run}_slot' AND active "
                f"AND active_pid <> {pid}"), proc=proc)
        total = finish(run, schema, topic, proc, load, os.environ["SALESCDC_KAFKA_BROKERS"])
        assert "retrying in" in open(log).read(), "no retry logged"
        print(f"PostgreSQL connection lost twice: {total} changes exactly once")
    finally:
        cleanup(run, [topic])


class PrivateKafka:
    """A one-node KRaft broker of this test's own (never the shared one)."""

    def __init__(self, data):
        version = "4.1.1"
        for line in open(os.path.join(ROOT, "deploy/local/stack.conf")):
            if line.startswith("SALESCDC_KAFKA_VERSION="):
                version = line.split("=", 1)[1].strip()
        cache = os.environ.get("SALESCDC_CACHE_DIR", os.path.expanduser("~/.cache/salescdc"))
        self.libs = os.path.join(cache, f"kafka-{version}", "libs", "*")
        self.data, self.port, self.proc = data, free_port(), None
        controller = free_port()
        os.makedirs(data, exist_ok=True)
        self.props = os.path.join(data, "server.properties")
        with open(self.props, "w") as f:
            f.write(f"""process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:{controller}
listeners=PLAINTEXT://127.0.0.1:{self.port},CONTROLLER://127.0.0.1:{controller}
advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs={data}/logs
num.partitions=1
offsets.topic.replication.factor=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
group.initial.rebalance.delay.ms=0
""")
        cluster = uuid.uuid4().bytes.hex()[:22]
        subprocess.run(self.java("kafka.tools.StorageTool", "format", "-t", "A" + cluster[1:],
                                 "-c", self.props), check=True, capture_output=True)

    def java(self, *args):
        return ["java", "-Xmx512m", "-Djava.awt.headless=true",
                f"-Dlog4j2.configurationFile={ROOT}/deploy/local/kafka/log4j2.properties",
                "-cp", self.libs, *args]

    @property
    def brokers(self):
        return f"127.0.0.1:{self.port}"

    def start(self):
        self.proc = start(self.java("kafka.Kafka", self.props), os.path.join(self.data, "log"))
        admin = AdminClient({"bootstrap.servers": self.brokers, "log_level": 0})

        def up():
            try:
                return len(admin.list_topics(timeout=2).brokers) == 1
            except Exception:
                return False
        wait_for("the private Kafka broker", up, timeout=120, proc=self.proc)

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        self.proc.wait(timeout=120)


def kafka_restart(binary, producer, log):
    run = f"{RUN}k"
    schema, topic = prepare(producer, run)
    kafka = PrivateKafka(f"/tmp/{run}-kafka")
    try:
        kafka.start()
        args = connector_args(binary, run, f"{schema}.orders", "--kafka.bootstrap.servers",
                              kafka.brokers, "--retry.backoff.ms", "200",
                              "--retry.backoff.max.ms", "2000",
                              "--transaction.commit.timeout.ms", "5000")
        proc = start(args, log)
        wait_for("the slot", lambda: psql(f"SELECT 1 FROM pg_replication_slots WHERE slot_name = "
                                          f"'{run}_slot' AND active"), proc=proc)
        load = producer_load(producer, schema, 20000, 2000)
        wait_for("5000 records", lambda: written(topic, kafka.brokers) >= 5000, proc=proc)
        kafka.stop()
        print("stopped the Kafka broker")
        time.sleep(3)  # the outage itself: the broker stays down a while (not a wait-for)
        assert proc.poll() is None, "the connector exited while Kafka was down"
        kafka.start()
        print("started the Kafka broker again")
        total = finish(run, schema, topic, proc, load, kafka.brokers)
        assert "retrying in" in open(log).read(), "no retry logged"
        print(f"Kafka broker restarted mid-stream: {total} changes exactly once")
    finally:
        if kafka.proc and kafka.proc.poll() is None:
            kafka.proc.kill()
            kafka.proc.wait()
        shutil.rmtree(kafka.data, ignore_errors=True)
        cleanup(run, [])


def main():
    binary, producer, passed = sys.argv[1], sys.argv[2], 0
    logs = [f"/tmp/{RUN}-pg.log", f"/tmp/{RUN}-kafka.log"]
    try:
        postgres_drops(binary, producer, logs[0])
        passed += 1
        kafka_restart(binary, producer, logs[1])
        passed += 1
    except Exception:
        for log in logs:
            if os.path.exists(log):
                print(f"--- {log}\n" + "".join(open(log).readlines()[-60:]), file=sys.stderr)
        raise
    finally:
        for p in PROCS:
            if p.poll() is None:
                p.kill()
                p.wait()
        for path in logs + [f"/tmp/{RUN}-producer.log"]:
            if os.path.exists(path):
                os.unlink(path)
    print(f"{passed} passed, 0 failed")


if __name__ == "__main__":
    main()
