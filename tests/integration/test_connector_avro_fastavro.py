#!/usr/bin/env python3
"""Independent check of the connector's Avro encoding: fastavro (not avro-c) decodes the key and
envelope that connector/avro_encode.c produced for a row holding every mapped type, and the values
must equal what PostgreSQL's text output meant. Usage: test_connector_avro_fastavro.py UNIT_TEST_BIN
(the binary tests/unit/test_avro_encode.c, which writes its samples to SALESCDC_AVRO_DUMP_DIR)."""
import datetime
import decimal
import io
import json
import os
import struct
import subprocess
import sys
import tempfile
import uuid

import fastavro

UTC = datetime.timezone.utc
# The row of tests/unit/test_avro_encode.c (all_types), as PostgreSQL means it.
EXPECTED_ROW = {
    "id": 7,
    "flag": True,
    "small": -32768,
    "big": 9223372036854775807,
    "f4": 1.5,
    "f8": float("-inf"),
    "price": decimal.Decimal("-12345678.90"),
    "anynum": "3.14159265358979323846264338327950288",
    "txt": 'grüße "quoted"',
    "vc": "",
    "day": datetime.date(1969, 7, 20),
    "ts": datetime.datetime(2001, 2, 3, 4, 5, 6, 7, tzinfo=UTC),
    "tstz": datetime.datetime(2024, 2, 29, 12, 34, 56, 789000, tzinfo=UTC),
    "uid": uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"),
    "js": '{"a": 1}',
    "jsb": '{"b": [1, 2]}',
    "raw": b"\x00\xff\x10",
    "arr": "{1,NULL,3}",
    "missing": None,
}
EXPECTED_SOURCE = {
    "version": "0.1.0", "connector": "postgresql", "name": "sales", "ts_ms": 1709210096789,
    "db": "salescdc", "schema": "public", "table": "all_types", "txId": 1234, "lsn": 0x16B3748,
}


def decode(path_schema, path_bin, want_id):
    schema = fastavro.parse_schema(json.load(open(path_schema)))
    data = open(path_bin, "rb").read()
    magic, schema_id = struct.unpack(">bI", data[:5])
    assert magic == 0, f"magic byte {magic}"
    assert schema_id == want_id, f"schema id {schema_id}, want {want_id}"
    buf = io.BytesIO(data[5:])
    record = fastavro.schemaless_reader(buf, schema)
    assert buf.tell() == len(data) - 5, "trailing bytes after the Avro datum"
    return record


def main():
    with tempfile.TemporaryDirectory() as d:
        env = dict(os.environ, SALESCDC_AVRO_DUMP_DIR=d)
        subprocess.run([sys.argv[1]], env=env, check=True, capture_output=True)
        key = decode(f"{d}/key.avsc", f"{d}/key.bin", 41)
        value = decode(f"{d}/value.avsc", f"{d}/value.bin", 42)
    failures = []
    if key != {"id": 7}:
        failures.append(f"key {key}")
    for image in ("before", "after"):
        for col, want in EXPECTED_ROW.items():
            got = value[image][col]
            if got != want or type(got) is not type(want):
                failures.append(f"{image}.{col}: got {got!r}, want {want!r}")
    if value["source"] != EXPECTED_SOURCE:
        failures.append(f"source {value['source']}")
    if value["op"] != "u" or value["ts_ms"] != 1709210097000:
        failures.append(f"op {value['op']} ts_ms {value['ts_ms']}")
    for f in failures:
        print("FAIL:", f)
    print(f"{len(EXPECTED_ROW) * 2 + 3 - len(failures)} passed, {len(failures)} failed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
