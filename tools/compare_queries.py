#!/usr/bin/env python3
"""Runs the analytics queries (deploy/trino/queries/*.sql) on Trino and on PostgreSQL and shows
the two results side by side, with a check mark where they agree (every value as text, so
decimals must agree digit for digit, scale included).

A query file holds both forms: a first comment line (the title), then `-- @trino` and the Trino
statement (against hive.sales.orders, the current-state view, or hive.sales.orders_changes,
every change), then `-- @postgres` and its twin (against public.orders, or the audit table
public.orders_audit that --install-audit creates: one row per row change, written by a trigger).
--pg-schema and --trino-prefix point both at other tables (tests run pipelines of their own).

  tools/compare_queries.py                      # every query; exit 0 when all agree, 1 otherwise
  tools/compare_queries.py --only 01 09         # queries whose file name starts so
  tools/compare_queries.py --install-audit      # create the audit table and trigger (idempotent)

Settings come from the environment (`source .stack/env`): SALESCDC_PG_CONNINFO, SALESCDC_TRINO_URL.
Needs psql; Python's standard library only.
"""
import argparse
import decimal
import json
import os
import pathlib
import re
import subprocess
import sys
import time
import urllib.error
import urllib.request

QUERY_DIR = pathlib.Path(__file__).resolve().parent.parent / "deploy" / "trino" / "queries"
CHECK, CROSS = "\u2713", "\u2717"


class QueryError(Exception):
    """A query failed on one side; the message names the side and the cause."""


# --- the query files ---------------------------------------------------------------------

class Query:
    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.name = self.path.stem
        text = self.path.read_text()
        parts = re.split(r"^--\s*@(trino|postgres)\s*$", text, flags=re.M)
        if len(parts) != 5 or parts[1] != "trino" or parts[3] != "postgres":
            raise SystemExit(f"{self.path}: needs a `-- @trino` section followed by a "
                             "`-- @postgres` section")
        header = [ln[2:].strip() for ln in parts[0].splitlines() if ln.startswith("--")]
        self.title = header[0] if header else self.name
        self.trino, self.postgres = statement(parts[2]), statement(parts[4])
        if not self.trino or not self.postgres:
            raise SystemExit(f"{self.path}: an empty statement")


def statement(text):
    """The SQL of a section without comment lines and the trailing semicolon."""
    lines = [ln for ln in text.strip().splitlines() if not ln.lstrip().startswith("--")]
    return "\n".join(lines).strip().rstrip(";").strip()


def load_queries(directory=QUERY_DIR, only=()):
    paths = sorted(pathlib.Path(directory).glob("*.sql"))
    if only:
        paths = [p for p in paths if any(p.name.startswith(o) for o in only)]
    if not paths:
        raise SystemExit(f"no queries in {directory}" + (f" matching {' '.join(only)}" if only
                                                         else ""))
    return [Query(p) for p in paths]


def for_trino(sql, prefix):
    """hive.sales.NAME -> hive.sales.<prefix>NAME."""
    return re.sub(r"\bhive\.sales\.(\w+)", lambda m: f"hive.sales.{prefix}{m.group(1)}", sql)


def for_postgres(sql, schema):
    """public.NAME -> <schema>.NAME."""
    return re.sub(r"\bpublic\.(\w+)", lambda m: f"{schema}.{m.group(1)}", sql)


# --- the two engines: (column names, rows of text cells) ---------------------------------

def cell(value):
    """A value as text: exactly as the engine printed it for decimals (scale kept)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def env(name):
    value = os.environ.get(name)
    if not value:
        raise SystemExit(f"{name} is not set: `source .stack/env` (after deploy/local/stack up)")
    return value


def psql(sql, timeout=120):
    """Runs SQL with psql (-X, ON_ERROR_STOP); returns its unaligned, tuples-only output."""
    try:
        p = subprocess.run(["psql", env("SALESCDC_PG_CONNINFO"), "-X", "-qAt", "-v",
                            "ON_ERROR_STOP=1", "-c", sql], capture_output=True, text=True,
                           timeout=timeout)
    except subprocess.TimeoutExpired:
        raise QueryError(f"PostgreSQL: no answer within {timeout}s")
    if p.returncode != 0:
        raise QueryError(f"PostgreSQL: {p.stderr.strip()}")
    return p.stdout.strip()


def run_postgres(sql):
    """Rows of SQL as JSON (numerics keep their digits and scale: parsed as Decimal)."""
    out = psql(f"SELECT coalesce(json_agg(q), '[]') FROM ({sql}) q")
    rows = json.loads(out, parse_float=decimal.Decimal, parse_int=int)
    columns = list(rows[0]) if rows else []
    return columns, [[cell(v) for v in r.values()] for r in rows]


def trino_request(url, data=None, timeout=60):
    req = urllib.request.Request(url, data=data, headers={
        "X-Trino-User": os.environ.get("SALESCDC_TRINO_USER", "salescdc"),
        "X-Trino-Source": "salescdc-compare-queries"})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return json.loads(r.read())
    except (urllib.error.URLError, OSError) as e:
        raise QueryError(f"Trino at {url}: {e}")


def run_trino(sql, timeout=300):
    """Rows of SQL through Trino's client protocol (decimals arrive as strings)."""
    r = trino_request(env("SALESCDC_TRINO_URL") + "/v1/statement", sql.encode())
    columns, rows, deadline = None, [], time.monotonic() + timeout
    while True:
        if "error" in r:
            e = r["error"]
            raise QueryError(f"Trino: {e.get('errorName')}: {e.get('message')}")
        if columns is None and "columns" in r:
            columns = [c["name"] for c in r["columns"]]
        rows += [[cell(v) for v in row] for row in r.get("data", [])]
        if "nextUri" not in r:
            return columns or [], rows
        if time.monotonic() > deadline:
            raise QueryError(f"Trino: no result within {timeout}s")
        r = trino_request(r["nextUri"])


# --- comparing and printing ----------------------------------------------------------------

class Result:
    def __init__(self, query, trino, postgres, error=None):
        self.query, self.error = query, error
        self.trino, self.postgres = trino, postgres  # (columns, rows) or None
        self.agree = error is None and trino[1] == postgres[1] and (
            not postgres[1] or trino[0] == postgres[0])

    def describe(self):
        """One line saying why it disagrees (for test failures)."""
        if self.error:
            return f"{self.query.name}: {self.error}"
        if self.agree:
            return f"{self.query.name}: agree ({len(self.trino[1])} rows)"
        return (f"{self.query.name}: Trino {self.trino[0]} {self.trino[1][:12]} != PostgreSQL "
                f"{self.postgres[0]} {self.postgres[1][:12]}")


def compare(query, pg_schema="public", trino_prefix=""):
    try:
        t = run_trino(for_trino(query.trino, trino_prefix))
        p = run_postgres(for_postgres(query.postgres, pg_schema))
        return Result(query, t, p)
    except QueryError as e:
        return Result(query, None, None, str(e))


def numeric(text):
    return re.fullmatch(r"-?[0-9]+(\.[0-9]+)?", text) is not None


def table_lines(columns, rows):
    """A result as aligned text lines: header, rule, rows (numbers right-aligned)."""
    widths = [len(c) for c in columns]
    for r in rows:
        widths = [max(w, len(v)) for w, v in zip(widths, r)]
    fmt = lambda vals: "  ".join(v.rjust(w) if numeric(v) else v.ljust(w)
                                 for v, w in zip(vals, widths))
    return [fmt(columns), "  ".join("-" * w for w in widths)] + [fmt(r) for r in rows]


def print_result(n, res, pg_schema, trino_prefix, out=sys.stdout):
    q = res.query
    mark = CHECK if res.agree else CROSS
    print(f"\n{n:2}. {q.title}  {mark}", file=out)
    if res.error:
        print(f"    {CROSS} {res.error}", file=out)
        return
    tcols, trows = res.trino
    pcols, prows = res.postgres
    left = table_lines(tcols, trows)
    right = table_lines(pcols or tcols, prows)
    width = max(len(s) for s in left + ["Trino"])
    src_t = "Trino " + ", ".join(sorted(set(re.findall(r"hive\.sales\.\w+",
                                                       for_trino(q.trino, trino_prefix)))))
    src_p = "PostgreSQL " + ", ".join(sorted(set(re.findall(
        r"\b\w+\.orders\w*", for_postgres(q.postgres, pg_schema)))))
    width = max(width, len(src_t))
    print(f"    {src_t.ljust(width)}     {src_p}", file=out)
    for i in range(max(len(left), len(right))):
        lt = left[i] if i < len(left) else ""
        rt = right[i] if i < len(right) else ""
        if i < 2:
            m = " "
        else:
            r = i - 2
            m = CHECK if r < len(trows) and r < len(prows) and trows[r] == prows[r] else CROSS
        print(f"    {lt.ljust(width)}  {m}  {rt}".rstrip(), file=out)
    if not trows and not prows:
        print("    (no rows on either side)", file=out)


# --- the audit table (the ground truth of change-level queries) ----------------------------

def audit_sql(schema="public"):
    """DDL of <schema>.orders_audit and its trigger on <schema>.orders (idempotent): one row per
    row change as the connector reports it (a primary-key change is a delete and a create),
    with the top-level xid as pgoutput sends it (32 bits) and the row image (the old row for a
    delete, else the new one)."""
    s = schema
    return f"""
CREATE TABLE IF NOT EXISTS {s}.orders_audit (
  id bigserial PRIMARY KEY,
  op text NOT NULL CHECK (op IN ('c', 'u', 'd')),
  orderid text NOT NULL,
  xid bigint NOT NULL DEFAULT (pg_current_xact_id()::text::bigint % 4294967296),
  changed_at timestamptz NOT NULL DEFAULT clock_timestamp(),
  image jsonb NOT NULL);
CREATE OR REPLACE FUNCTION {s}.orders_audit_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' OR (TG_OP = 'UPDATE' AND OLD.orderid IS DISTINCT FROM NEW.orderid) THEN
    INSERT INTO {s}.orders_audit (op, orderid, image) VALUES ('d', OLD.orderid, to_jsonb(OLD));
  END IF;
  IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND OLD.orderid IS DISTINCT FROM NEW.orderid) THEN
    INSERT INTO {s}.orders_audit (op, orderid, image) VALUES ('c', NEW.orderid, to_jsonb(NEW));
  ELSIF TG_OP = 'UPDATE' THEN
    INSERT INTO {s}.orders_audit (op, orderid, image) VALUES ('u', NEW.orderid, to_jsonb(NEW));
  END IF;
  RETURN NULL;
END $$;
CREATE OR REPLACE TRIGGER orders_audit AFTER INSERT OR UPDATE OR DELETE ON {s}.orders
  FOR EACH ROW EXECUTE FUNCTION {s}.orders_audit_change();
"""


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--queries", default=str(QUERY_DIR), help="directory of *.sql (default: "
                    "deploy/trino/queries)")
    ap.add_argument("--only", nargs="*", default=[], metavar="PREFIX",
                    help="only the files whose names start with one of these")
    ap.add_argument("--pg-schema", default="public", help="schema of orders and orders_audit")
    ap.add_argument("--trino-prefix", default="",
                    help="prefix of the Trino names (hive.sales.<prefix>orders…)")
    ap.add_argument("--install-audit", action="store_true",
                    help="create <pg-schema>.orders_audit and its trigger, then exit")
    args = ap.parse_args()
    if args.install_audit:
        try:
            psql(audit_sql(args.pg_schema))
        except QueryError as e:
            raise SystemExit(f"compare_queries: installing the audit trigger: {e}")
        return 0
    queries = load_queries(args.queries, args.only)
    agree = 0
    for n, q in enumerate(queries, 1):
        res = compare(q, args.pg_schema, args.trino_prefix)
        print_result(n, res, args.pg_schema, args.trino_prefix)
        sys.stdout.flush()
        agree += res.agree
    mark = CHECK if agree == len(queries) else CROSS
    print(f"\n{mark} {agree} of {len(queries)} queries agree between Trino and PostgreSQL")
    return 0 if agree == len(queries) else 1


if __name__ == "__main__":
    sys.exit(main())
