#!/usr/bin/env bash
# Writes docs/configuration.md from each program's own --help (the single source of truth), or
# with --check BUILD_DIR compares the committed file with what the built programs print.
#   tools/gen_config_docs.sh BUILD_DIR            regenerate docs/configuration.md
#   tools/gen_config_docs.sh --check BUILD_DIR    exit 1 (with a diff) if it is out of date
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
build=${1:?usage: tools/gen_config_docs.sh [--check] BUILD_DIR}
programs=(salescdc-producer salescdc-connector salescdc-registry salescdc-transformer salescdc-s3-sink)

render() {
  cat <<'HEAD'
# Configuration reference

Generated from each program's `--help` by `tools/gen_config_docs.sh` (a test fails when this file
and the programs disagree). Every key can be given in a `--config` properties file (`key=value`),
as an environment variable (`SALESCDC_` + the key in upper case with dots as underscores, e.g.
`pg.conninfo` → `SALESCDC_PG_CONNINFO`), or as a flag (`--key value`), in rising precedence.
librdkafka properties pass through as `kafka.<property>` (env `SALESCDC_KAFKA__<PROPERTY>`).
Secrets are never printed by `--dump-config`, logs or metrics.
HEAD
  for p in "${programs[@]}"; do
    printf '\n## %s\n\n```text\n' "$p"
    "$build/$p" --help
    printf '```\n'
  done
}

if [ $check = 1 ]; then
  diff -u docs/configuration.md <(render) || {
    echo "docs/configuration.md is out of date: run tools/gen_config_docs.sh $build" >&2; exit 1; }
  echo "ok: docs/configuration.md matches the programs' --help"
else
  render > docs/configuration.md
fi
