#!/usr/bin/env bash
# Contract of deploy/local/stack, checked against the running stack without disturbing it:
# `up` is idempotent (same pids after a second up), `status` prints one line per service with
# up/port/pid, `env` prints exports, bad commands and services exit 2, and `down` acts only on
# pid files the stack wrote (a stranger process named like a service is never touched).
set -u
cd "$(dirname "$0")/../.."
STACK=deploy/local/stack
fail() { echo "FAIL: $*" >&2; exit 1; }

before=$($STACK status) || fail "status failed"
[ "$(echo "$before" | wc -l)" -ge 4 ] || fail "status should print a line per service: $before"
echo "$before" | awk '$2 != "up" {bad=1} END {exit bad}' || fail "not every service is up: $before"
echo "$before" | grep -Eq '^postgres +up +port=[0-9]+ +pid=[0-9]+' || fail "status line format: $before"

$STACK up >/dev/null 2>&1 || fail "second up failed"
after=$($STACK status)
pids() { echo "$1" | grep -o 'pid=[0-9]*'; }
[ "$(pids "$before")" = "$(pids "$after")" ] || fail "up is not idempotent: $before / $after"

$STACK env | grep -q "^export SALESCDC_PG_CONNINFO=" || fail "env lacks SALESCDC_PG_CONNINFO"
$STACK env | grep -q "^export SALESCDC_KAFKA_BROKERS=" || fail "env lacks SALESCDC_KAFKA_BROKERS"

$STACK frobnicate >/dev/null 2>&1; [ $? = 2 ] || fail "unknown command should exit 2"
$STACK up nosuchservice >/dev/null 2>&1; [ $? = 2 ] || fail "unknown service should exit 2"

# `down` of a service whose pid file points at a dead pid only removes the stale file, and a
# process the stack did not start survives even when it carries a service's name.
state=${SALESCDC_STACK_DIR:-.stack}
stranger_dir=$(mktemp -d)
cp /bin/sleep "$stranger_dir/postgres"
"$stranger_dir/postgres" 300 &
stranger=$!
(
  export SALESCDC_STACK_DIR=$stranger_dir/state
  mkdir -p "$SALESCDC_STACK_DIR/run"
  echo 999999 > "$SALESCDC_STACK_DIR/run/postgres.pid"
  $STACK down postgres >/dev/null 2>&1 || exit 1
  [ ! -e "$SALESCDC_STACK_DIR/run/postgres.pid" ]
) || { kill "$stranger"; fail "down with a stale pid file misbehaved"; }
kill -0 "$stranger" 2>/dev/null || fail "down killed a process it did not start"
kill "$stranger"; rm -rf "$stranger_dir"
[ -d "$state" ] || true
echo "ok: stack contract holds"
