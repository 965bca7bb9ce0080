# salescdc-registry from this repository's build: the Confluent-compatible schema registry,
# keeping its schemas in the stack's Kafka (topic _schemas).

registry_timeout=90
REGISTRY_BIN=$REPO_ROOT/build/salescdc-registry

registry_install() {
  [ -x "$REGISTRY_BIN" ] && return 0
  stack_log "building salescdc-registry (cmake, build/)"
  { cmake -S "$REPO_ROOT" -B "$REPO_ROOT/build" -G Ninja >/dev/null &&
    cmake --build "$REPO_ROOT/build" --target salescdc-registry >/dev/null; } ||
    stack_die "could not build salescdc-registry; run: cmake -S . -B build -G Ninja && cmake --build build"
}

registry_start() {
  require_port_free registry "$SALESCDC_REGISTRY_PORT" SALESCDC_REGISTRY_PORT
  start_daemon registry "$REGISTRY_BIN" --listen.host=127.0.0.1 \
    --listen.port="$SALESCDC_REGISTRY_PORT" \
    --kafka.bootstrap.servers="127.0.0.1:$SALESCDC_KAFKA_PORT" --store.replication.factor=1
}

# Ready once it has replayed the _schemas topic (/healthz answers 200 only then).
registry_ready() {
  curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$SALESCDC_REGISTRY_PORT/healthz"
}

registry_setup() { :; }
registry_stop() { stop_daemon registry 30; }
registry_port() { echo "$SALESCDC_REGISTRY_PORT"; }

registry_env() {
  echo "export SALESCDC_REGISTRY_URL=http://127.0.0.1:$SALESCDC_REGISTRY_PORT"
}
