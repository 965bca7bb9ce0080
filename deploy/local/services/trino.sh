# Trino (coordinator + worker in one JVM) with the Hive connector: a file metastore and the table
# data both in the local S3 server, reached through Trino's native S3 file system.

trino_timeout=180
TRINO_VERSION=$SALESCDC_TRINO_VERSION
TRINO_HOME=$CACHE_DIR/trino-$TRINO_VERSION
TRINO_CLI=$CACHE_DIR/trino-cli-$TRINO_VERSION-executable.jar
TRINO_JAVA=$SALESCDC_JAVA25_HOME/bin/java
TRINO_ETC=$STATE_DIR/trino/etc
TRINO_URL=http://127.0.0.1:$SALESCDC_TRINO_PORT

# Trino 476 runs only on Java 24 or newer; the system java here is older, hence its own JDK.
trino_check_java() {
  local version
  [ -x "$TRINO_JAVA" ] || stack_die "Trino $TRINO_VERSION needs a Java 24+ JDK (e.g. \
temurin-25-jdk), but $TRINO_JAVA does not exist: install one and set SALESCDC_JAVA25_HOME to \
its home directory"
  version=$("$TRINO_JAVA" -XshowSettings:properties -version 2>&1 \
    | sed -n 's/^ *java\.specification\.version = \([0-9]*\).*/\1/p')
  [ "${version:-0}" -ge 24 ] || stack_die "Trino $TRINO_VERSION needs Java 24+, but $TRINO_JAVA is \
Java ${version:-unknown}: set SALESCDC_JAVA25_HOME to the home of a JDK 24 or newer"
}

# Unpacks the downloaded server core and Hive plugin into DIR. Only the hive plugin is kept, since
# every plugin slows start-up and the stack needs no other; bin/ (launchers) and secrets-plugin/
# go too, as the JVM is started directly. The JDK's jar tool unzips, so unzip is not needed.
trino_unpack() {
  local dl dir=$2
  dl=$(cd "$1" && pwd)
  mkdir -p "$dir"
  tar -xzf "$dl/trino-server-core-$TRINO_VERSION.tar.gz" -C "$dir" --strip-components=1 \
    || stack_die "could not unpack $dl/trino-server-core-$TRINO_VERSION.tar.gz"
  rm -rf "${dir:?}/plugin" "$dir/bin" "$dir/secrets-plugin" && mkdir -p "$dir/plugin"
  (cd "$dir/plugin" && "$SALESCDC_JAVA25_HOME/bin/jar" xf "$dl/trino-hive-$TRINO_VERSION.zip") \
    || stack_die "could not unpack $dl/trino-hive-$TRINO_VERSION.zip"
  mv "$dir/plugin/trino-hive-$TRINO_VERSION" "$dir/plugin/hive"
}

trino_install() {
  trino_check_java
  [ -f "$TRINO_HOME/.complete" ] && [ -s "$TRINO_CLI" ] && return 0
  local tmp=$CACHE_DIR/trino-$TRINO_VERSION.partial
  stack_log "fetching Trino $TRINO_VERSION (server core, hive plugin, CLI) from Maven Central"
  rm -rf "$tmp" "$TRINO_HOME" && mkdir -p "$tmp/dl"
  mvn -B -q -f "$STACK_HOME/trino/pom.xml" -Dmaven.repo.local="$CACHE_DIR/m2" \
    -Dtrino.version="$TRINO_VERSION" -Dtrino.dir="$tmp/dl" \
    dependency:copy@fetch-server dependency:copy@fetch-cli >"$LOG_DIR/trino-install.log" 2>&1 \
    || { tail -n 20 "$LOG_DIR/trino-install.log" >&2
         stack_die "could not fetch io.trino:trino-server-core:$TRINO_VERSION:tar.gz, \
io.trino:trino-hive:$TRINO_VERSION:zip or io.trino:trino-cli:$TRINO_VERSION:jar:executable \
from Maven Central; see $LOG_DIR/trino-install.log"; }
  trino_unpack "$tmp/dl" "$tmp/server"
  install -m 755 "$tmp/dl/trino-cli-$TRINO_VERSION-executable.jar" "$TRINO_CLI"
  touch "$tmp/server/.complete"
  mv "$tmp/server" "$TRINO_HOME" && rm -rf "$tmp"
}

# Writes etc/: node.properties (passed as -D, as Trino's launcher does), config.properties,
# jvm.config, log.properties and the hive catalog. Regenerated on every start, so stack.conf
# changes apply; nothing in etc/ is state.
trino_write_config() {
  mkdir -p "$TRINO_ETC/catalog" "$STATE_DIR/trino/data"
  cat > "$TRINO_ETC/node.properties" <<CONF
node.environment=salescdc
node.id=salescdc-local
node.bind-ip=127.0.0.1
node.internal-address=127.0.0.1
CONF
  cat > "$TRINO_ETC/config.properties" <<CONF
coordinator=true
node-scheduler.include-coordinator=true
http-server.http.port=$SALESCDC_TRINO_PORT
discovery.uri=$TRINO_URL
catalog.config-dir=$TRINO_ETC/catalog
plugin.dir=$TRINO_HOME/plugin
log.enable-console=true
CONF
  # Trino's own jvm.config (its container image) with a fixed -Xmx instead of RAM percentages;
  # the last two flags keep Java 24+ from warning about JNA/JOL on every start.
  cat > "$TRINO_ETC/jvm.config" <<CONF
-Xmx$SALESCDC_TRINO_HEAP
-XX:G1HeapRegionSize=32M
-XX:+ExplicitGCInvokesConcurrent
-XX:+ExitOnOutOfMemoryError
-XX:-OmitStackTraceInFastThrow
-XX:ReservedCodeCacheSize=256M
-XX:PerMethodRecompilationCutoff=10000
-XX:PerBytecodeRecompilationCutoff=10000
-Djdk.attach.allowAttachSelf=true
-Djdk.nio.maxCachedBufferSize=2000000
-Dfile.encoding=UTF-8
-XX:+EnableDynamicAgentLoading
-XX:+UnlockDiagnosticVMOptions
-XX:G1NumCollectionsKeepPinned=10000000
--enable-native-access=ALL-UNNAMED
--sun-misc-unsafe-memory-access=allow
CONF
  # Bootstrap prints every configuration property (~900 lines) on each start; errors still show.
  printf 'io.trino=INFO\nBootstrap=WARN\n' > "$TRINO_ETC/log.properties"
  trino_write_catalog > "$TRINO_ETC/catalog/hive.properties"
}

# The hive catalog. The file metastore keeps its metadata in S3 under warehouse/ (.trinoSchema
# files), so managed tables land at warehouse/<schema>/<table> and DROP TABLE deletes their data.
# (A metastore on local disk, local:///, would put managed data in S3 but record it as local,
# and 476 then rejects or loses it.) External tables may point anywhere in the bucket. The
# secret key stays out of the file: Trino resolves ${ENV:...} from the environment at start-up.
# register_partition lets the S3 sink make one new partition visible without listing the table.
trino_write_catalog() {
  cat <<CONF
connector.name=hive
hive.metastore=file
hive.metastore.catalog.dir=s3://$SALESCDC_S3_BUCKET/warehouse
fs.native-s3.enabled=true
s3.endpoint=http://127.0.0.1:$SALESCDC_S3_PORT
s3.region=$SALESCDC_S3_REGION
s3.path-style-access=true
s3.aws-access-key=$SALESCDC_S3_ACCESS_KEY
s3.aws-secret-key=\${ENV:SALESCDC_S3_SECRET_KEY}
hive.non-managed-table-creates-enabled=true
hive.non-managed-table-writes-enabled=true
hive.allow-register-partition-procedure=true
CONF
}

trino_start() {
  trino_check_java
  pid_of trino >/dev/null && return 0
  require_port_free trino "$SALESCDC_TRINO_PORT" SALESCDC_TRINO_PORT
  trino_write_config
  local -a jvm props
  mapfile -t jvm < <(grep -v -e '^#' -e '^$' "$TRINO_ETC/jvm.config")
  mapfile -t props < <(grep -v -e '^#' -e '^$' "$TRINO_ETC/node.properties" | sed 's/^/-D/')
  # The working directory is the data dir: Trino writes var/ (request log) relative to it.
  # env -C execs java, so the recorded pid is the JVM itself.
  start_daemon trino env -C "$STATE_DIR/trino/data" "$TRINO_JAVA" "${jvm[@]}" "${props[@]}" \
    -Dconfig="$TRINO_ETC/config.properties" -Dlog.levels-file="$TRINO_ETC/log.properties" \
    -cp "$TRINO_HOME/lib/*" io.trino.server.TrinoServer
}

# trino_query SQL: runs SQL through the client protocol (POST /v1/statement, then GET nextUri
# until there is none; each GET waits up to ~1 s server-side, so no sleep is needed); fails,
# printing Trino's error message, on an error or after a bounded number of polls.
trino_query() {
  local body uri i
  body=$(curl -sf --max-time 10 -H 'X-Trino-User: salescdc' --data-binary "$1" \
    "$TRINO_URL/v1/statement") || return 1
  for ((i = 0; i < 600; i++)); do
    if [[ "$body" == *'"error":{'* ]]; then
      printf 'trino: %s\n' "$(printf '%s' "$body" | grep -o '"message":"[^"]*"' | head -n 1)" >&2
      return 1
    fi
    uri=$(printf '%s' "$body" | grep -o '"nextUri":"[^"]*"' | sed 's/^"nextUri":"//; s/"$//') || true
    [ -n "$uri" ] || return 0
    body=$(curl -sf --max-time 10 -H 'X-Trino-User: salescdc' "$uri") || return 1
  done
  return 1
}

trino_ready() {
  curl -sf --max-time 5 "$TRINO_URL/v1/info" | grep -q '"starting":false' && trino_query 'SELECT 1'
}

trino_setup() {
  trino_query "CREATE SCHEMA IF NOT EXISTS hive.sales \
WITH (location = 's3://$SALESCDC_S3_BUCKET/warehouse/sales')" \
    || stack_die "could not create schema hive.sales in Trino (is the S3 server up, with bucket \
$SALESCDC_S3_BUCKET?); see $LOG_DIR/trino.log"
}

trino_stop() { stop_daemon trino 60; }
trino_port() { echo "$SALESCDC_TRINO_PORT"; }

trino_env() {
  cat <<ENV
export SALESCDC_TRINO_URL=$TRINO_URL
export SALESCDC_TRINO_CLI='$TRINO_CLI'
export SALESCDC_JAVA25_HOME='$SALESCDC_JAVA25_HOME'
ENV
}
