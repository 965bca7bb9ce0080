#!/usr/bin/env bash
# A PostgreSQL crash and restart in the middle of a producer run loses no acknowledged order and
# duplicates none: the summary's counts equal what committed (recorded by an audit trigger in
# the writing transactions). Runs a private cluster (initdb in a temp dir), so restarting it
# disturbs no one else's server.
#   test_producer_restart.sh PATH/TO/salescdc-producer
set -euo pipefail
bin=$1
PG_BIN=${SALESCDC_PG_BIN:-/usr/lib/postgresql/15/bin}
log() { printf 'test_producer_restart: %s\n' "$*" >&2; }
fail() { log "FAIL: $*"; [ -f "${work:-/nonexistent}/err" ] && sed 's/^/  producer: /' "$work/err" >&2; exit 1; }

# The cluster runs as the invoking user; as root, as the 'postgres' system user.
as_pg() {
  if [ "$(id -u)" = 0 ]; then setpriv --reuid=postgres --regid=postgres --init-groups "$@"; else "$@"; fi
}

free_port() {
  local p
  for p in $(seq "${SALESCDC_PRODUCER_TEST_PG_PORT:-55499}" 55550); do
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
  fail "no free port in 55499..55550"
}

work=$(mktemp -d /tmp/salescdc-producer-restart-XXXXXX)
producer_pid=
cleanup() {
  [ -n "$producer_pid" ] && kill -KILL "$producer_pid" 2>/dev/null
  as_pg "$PG_BIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] && chown postgres: "$work"

port=$(free_port)
as_pg "$PG_BIN/initdb" -D "$work/data" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 \
  >"$work/initdb.log" 2>&1 || fail "initdb: $(tail -3 "$work/initdb.log")"
cat >>"$work/data/postgresql.conf" <<CONF
listen_addresses = '127.0.0.1'
port = $port
unix_socket_directories = '$work'
shared_buffers = 32MB
CONF
pg_start() { as_pg "$PG_BIN/pg_ctl" -D "$work/data" -l "$work/data/server.log" -w -t 60 start >/dev/null; }
pg_start || fail "the private cluster did not start"
export SALESCDC_PG_CONNINFO="host=127.0.0.1 port=$port dbname=postgres user=postgres"
q() { "$PG_BIN/psql" -X -q -At -v ON_ERROR_STOP=1 -d "$SALESCDC_PG_CONNINFO" -c "$1"; }

"$bin" --init --count 0 >/dev/null 2>"$work/err" || fail "--init"
q "CREATE TABLE audit (op text);
   CREATE FUNCTION audit_fn() RETURNS trigger LANGUAGE plpgsql AS
     \$\$ BEGIN INSERT INTO audit VALUES (left(TG_OP, 1)); RETURN NULL; END \$\$;
   CREATE TRIGGER audit AFTER INSERT OR UPDATE OR DELETE ON orders
     FOR EACH ROW EXECUTE FUNCTION audit_fn();"

count=5000
"$bin" --rate 500 --count $count --batch 25 --delete.percent 10 --progress off \
  >"$work/out" 2>"$work/err" &
producer_pid=$!

# Crash the server once a fifth of the run has committed.
deadline=$((SECONDS + 60))
until [ "$(q 'SELECT count(*) FROM audit')" -ge $((count / 5)) ]; do
  kill -0 "$producer_pid" 2>/dev/null || fail "producer exited before the restart"
  [ $SECONDS -lt $deadline ] || fail "no progress within 60 s"
  sleep 0.05
done
as_pg "$PG_BIN/pg_ctl" -D "$work/data" -m immediate stop >/dev/null || fail "pg_ctl stop"
kill -0 "$producer_pid" 2>/dev/null || fail "producer exited when the server went down"
sleep 2 # the outage being tested (not a synchronisation)
pg_start || fail "the private cluster did not restart"

deadline=$((SECONDS + 120))
while kill -0 "$producer_pid" 2>/dev/null; do
  [ $SECONDS -lt $deadline ] || fail "producer still running 120 s after the restart"
  sleep 0.1
done
rc=0; wait "$producer_pid" || rc=$?
producer_pid=
[ $rc = 0 ] || fail "producer exited $rc"

summary=$(grep '^summary ' "$work/out") || fail "no summary line"
get() { sed -n "s/.* $1=\([0-9]*\).*/\1/p" <<<"$summary"; }
ins=$(get inserted); upd=$(get updated); del=$(get deleted)
read -r a_ins a_upd a_del rows < <(q "SELECT (SELECT count(*) FROM audit WHERE op = 'I'),
  (SELECT count(*) FROM audit WHERE op = 'U'), (SELECT count(*) FROM audit WHERE op = 'D'),
  (SELECT count(*) FROM orders)" | tr '|' ' ')
[ "$(get orders)" = $count ] || fail "orders=$(get orders), expected $count"
[ "$(get reconnects)" -ge 1 ] || fail "the producer never reconnected: $summary"
[ "$ins/$upd/$del" = "$a_ins/$a_upd/$a_del" ] ||
  fail "summary inserted/updated/deleted $ins/$upd/$del, committed $a_ins/$a_upd/$a_del"
[ "$rows" = $((ins - del)) ] || fail "table has $rows rows, summary says $ins - $del"
log "ok: server crashed and restarted mid-run; $(get reconnects) reconnects, $(get retries) retries, summary equals the committed changes ($ins/$upd/$del)"
