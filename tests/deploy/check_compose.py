#!/usr/bin/env python3
"""Checks deploy/docker-compose.yml against the README: every service, host port and volume the
README's compose table names is there, every compose service is documented, ports are loopback
only, build contexts and bind-mounted files exist, and PostgreSQL/Kafka carry the settings the
pipeline needs. (No Docker engine runs here, so the file is checked, not started.)"""
import os
import re
import sys

import yaml

root = sys.argv[1] if len(sys.argv) > 1 else "."
deploy = os.path.join(root, "deploy")
errors = []


def fail(msg):
    errors.append(msg)


with open(os.path.join(deploy, "docker-compose.yml")) as f:
    compose = yaml.safe_load(f)
with open(os.path.join(root, "README.md")) as f:
    readme = f.read()

services = compose.get("services", {})
volumes = set((compose.get("volumes") or {}).keys())

m = re.search(r"<!-- compose-services:begin.*?-->(.*?)<!-- compose-services:end -->", readme, re.S)
if not m:
    sys.exit("README.md has no compose-services table between its markers")
documented = {}
for line in m.group(1).splitlines():
    cells = [c.strip() for c in line.strip().strip("|").split("|")]
    if len(cells) != 3 or cells[0] in ("compose service", "") or set(cells[0]) <= set("-"):
        continue
    ports = [] if cells[1] == "-" else [p.strip() for p in cells[1].split(",")]
    vols = [] if cells[2] == "-" else [v.strip() for v in cells[2].split(",")]
    documented[cells[0]] = (ports, vols)

if len(documented) < 5:
    fail(f"README compose table lists only {len(documented)} services")


def host_ports(svc):
    out = []
    for p in svc.get("ports", []):
        parts = str(p).split(":")
        if len(parts) != 3 or parts[0] != "127.0.0.1":
            fail(f"port mapping {p!r} is not bound to 127.0.0.1")
        out.append(parts[-2])
    return out


def named_volumes(svc):
    return [str(v).split(":")[0] for v in svc.get("volumes", []) if not str(v).startswith(".")]


for name, (ports, vols) in documented.items():
    svc = services.get(name)
    if svc is None:
        fail(f"README documents compose service {name!r}, compose file lacks it")
        continue
    published = host_ports(svc)
    for p in ports:
        if p not in published:
            fail(f"service {name}: README says host port {p}, compose publishes {published}")
    for v in vols:
        if v not in volumes:
            fail(f"volume {v!r} (README, service {name}) is not declared in compose volumes")
        if v not in named_volumes(svc):
            fail(f"service {name}: README says volume {v}, compose mounts {named_volumes(svc)}")

for name, svc in services.items():
    if name not in documented:
        fail(f"compose service {name!r} is missing from the README table")
    for v in named_volumes(svc):
        if v not in volumes:
            fail(f"service {name} mounts undeclared volume {v!r}")
    for v in svc.get("volumes", []):
        src = str(v).split(":")[0]
        if src.startswith(".") and not os.path.exists(os.path.join(deploy, src)):
            fail(f"service {name} bind-mounts {src}, which does not exist")
    build = svc.get("build")
    if build:
        dockerfile = os.path.join(deploy, build["context"], build.get("dockerfile", "Dockerfile"))
        if not os.path.isfile(dockerfile):
            fail(f"service {name} builds from {dockerfile}, which does not exist")
    for dep in (svc.get("depends_on") or {}):
        if dep not in services:
            fail(f"service {name} depends on unknown service {dep!r}")

pg = " ".join(services.get("postgres", {}).get("command", []))
if "wal_level=logical" not in pg:
    fail("postgres must run with wal_level=logical")
kenv = services.get("kafka", {}).get("environment", {})
for key in ("KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR",
            "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"):
    if str(kenv.get(key)) != "1":
        fail(f"kafka: {key} must be 1 on a single node (transactions)")

if errors:
    print("\n".join("FAIL: " + e for e in errors))
    sys.exit(1)
print(f"ok: {len(services)} compose services, {len(volumes)} volumes match the README")
