# Kafka in KRaft mode (one JVM is broker and controller) from Maven Central, run with java -cp.

kafka_timeout=90
KAFKA_HOME=$CACHE_DIR/kafka-$SALESCDC_KAFKA_VERSION
KAFKA_DATA=$STATE_DIR/kafka
KAFKA_JAVA=${SALESCDC_KAFKA_JAVA:-java}
# java (17+ for Kafka 4) with the broker's classpath; the java process itself is the recorded pid.
KAFKA_JVM=("$KAFKA_JAVA" -Xmx"$SALESCDC_KAFKA_HEAP" -XX:+UseG1GC -XX:MaxGCPauseMillis=20
  -Djava.awt.headless=true -Dlog4j2.configurationFile="$STACK_HOME/kafka/log4j2.properties"
  -cp "$KAFKA_HOME/libs/*")

# The jar that proves a finished install: libs/ is renamed into place only after Maven succeeded.
kafka_jar() { echo "$KAFKA_HOME/libs/kafka_2.13-$SALESCDC_KAFKA_VERSION.jar"; }

kafka_install() {
  # kcat (kafka_ready asks the broker for metadata with it) comes with the project's packages.
  command -v kcat >/dev/null || "$STACK_HOME/install-deps" || stack_die "could not install kcat"
  [ -f "$(kafka_jar)" ] && return 0
  command -v mvn >/dev/null || stack_die "mvn (Debian package maven) is needed to fetch Kafka"
  stack_log "fetching org.apache.kafka:kafka_2.13:$SALESCDC_KAFKA_VERSION and its dependencies"
  rm -rf "$KAFKA_HOME/libs.partial"
  # The pom reads the version from the environment (SALESCDC_KAFKA_VERSION, exported by lib.sh).
  maven_fetch "$STACK_HOME/kafka/pom.xml" "$KAFKA_HOME/libs.partial" \
    || stack_die "could not fetch org.apache.kafka:kafka_2.13:$SALESCDC_KAFKA_VERSION with its \
dependencies from Maven Central (see the Maven errors above)"
  mv "$KAFKA_HOME/libs.partial" "$KAFKA_HOME/libs"
}

# Rewritten on every start so changed ports or versions take effect; the data stays.
kafka_write_config() {
  local port=$SALESCDC_KAFKA_PORT controller_port=$SALESCDC_KAFKA_CONTROLLER_PORT
  cat > "$KAFKA_DATA/server.properties" <<CONF
# Written by deploy/local/services/kafka.sh on each start; edits here are lost.
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$controller_port
listeners=PLAINTEXT://127.0.0.1:$port,CONTROLLER://127.0.0.1:$controller_port
advertised.listeners=PLAINTEXT://127.0.0.1:$port
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
log.dirs=$KAFKA_DATA/logs
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=true
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
group.initial.rebalance.delay.ms=0
CONF
}

# A cluster id as Kafka writes them (Uuid: 16 random bytes, base64url, unpadded), never
# starting with '-' so no tool takes it for an option.
kafka_new_cluster_id() {
  local id
  id=-
  while [[ $id == -* ]]; do
    id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=')
  done
  echo "$id"
}

# First start only: the log dir formatted with a new cluster id for the static one-voter quorum.
kafka_format() {
  "${KAFKA_JVM[@]}" kafka.tools.StorageTool format -t "$(kafka_new_cluster_id)" \
    -c "$KAFKA_DATA/server.properties" >>"$LOG_DIR/kafka.log" 2>&1 \
    || stack_die "formatting $KAFKA_DATA/logs for KRaft failed; see $LOG_DIR/kafka.log"
}

kafka_start() {
  require_port_free kafka "$SALESCDC_KAFKA_PORT" SALESCDC_KAFKA_PORT
  require_port_free kafka "$SALESCDC_KAFKA_CONTROLLER_PORT" SALESCDC_KAFKA_CONTROLLER_PORT
  mkdir -p "$KAFKA_DATA"
  kafka_write_config
  [ -f "$KAFKA_DATA/logs/meta.properties" ] || kafka_format
  start_daemon kafka "${KAFKA_JVM[@]}" kafka.Kafka "$KAFKA_DATA/server.properties"
}

# Ready when a metadata request lists this broker: it has registered with the controller and is
# unfenced, so clients can produce and consume (an open port alone is not enough).
# The port test first, since kcat waits out its whole -m timeout when nothing listens; the output
# is captured, not piped into grep -q, which under pipefail could fail kcat with SIGPIPE.
kafka_ready() {
  local metadata
  port_free "$SALESCDC_KAFKA_PORT" && return 1
  metadata=$(kcat -b "127.0.0.1:$SALESCDC_KAFKA_PORT" -m 5 -L 2>/dev/null) || return 1
  [[ $metadata == *"broker 1 at 127.0.0.1:$SALESCDC_KAFKA_PORT"* ]]
}

# Topics are created on first use (auto.create.topics.enable); nothing to set up.
kafka_setup() { :; }

kafka_stop() { stop_daemon kafka 60; }
kafka_port() { echo "$SALESCDC_KAFKA_PORT"; }

# SALESCDC_KAFKA__BOOTSTRAP_SERVERS is the kafka.bootstrap.servers property of every salescdc
# program (passthrough env form), so programs started from .stack/env find the broker.
kafka_env() {
  echo "export SALESCDC_KAFKA_BROKERS=127.0.0.1:$SALESCDC_KAFKA_PORT"
  echo "export SALESCDC_KAFKA__BOOTSTRAP_SERVERS=127.0.0.1:$SALESCDC_KAFKA_PORT"
}
