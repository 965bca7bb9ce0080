#!/usr/bin/env bash
# Command-line contract every salescdc program keeps: --help and --version exit 0 and explain,
# an unknown flag, a bad value or an unreadable --config exit 2 naming the problem and "Try --help",
# and --dump-config never prints a secret.
set -u
bin=$1
name=$(basename "$bin")
fail() { echo "FAIL ($name): $*" >&2; exit 1; }
out=$(mktemp); err=$(mktemp); trap 'rm -f "$out" "$err"' EXIT

expect() { # expect CODE PATTERN_IN_STDOUT_OR_STDERR ARGS...
  local code=$1 pattern=$2; shift 2
  "$bin" "$@" >"$out" 2>"$err" </dev/null; local rc=$?
  [ "$rc" = "$code" ] || fail "'$*' exited $rc, expected $code; stderr: $(cat "$err")"
  grep -q -- "$pattern" "$out" "$err" || fail "'$*' output lacks '$pattern': $(cat "$out" "$err")"
}

expect 0 "Usage: $name" --help
expect 0 "Usage: $name" -h
expect 0 "--log.level" --help
expect 0 "^$name [0-9]" --version
expect 2 "unknown option 'no-such-flag'. Try --help" --no-such-flag=1
expect 2 "unexpected argument 'stray'. Try --help" stray
expect 2 "cannot read config file /nonexistent/x.properties" --config /nonexistent/x.properties
expect 2 "log.level" --log.level=chatty
SALESCDC_LOG_LEVEL=loud expect 2 "log.level" 
expect 0 "log.level=warn" --dump-config --log.level=warn
echo "ok: $name keeps the command-line contract"
