# PostgreSQL 15 from Debian: a private cluster with wal_level=logical for logical decoding.

postgres_timeout=60
PG_BIN=${SALESCDC_PG_BIN:-/usr/lib/postgresql/15/bin}
PG_DATA=$STATE_DIR/postgres/data

postgres_install() {
  [ -x "$PG_BIN/initdb" ] || "$STACK_HOME/install-deps" || stack_die "could not install postgresql-15"
}

# The cluster runs as the invoking user; when that is root, as the 'postgres' system user,
# since PostgreSQL refuses to run as root.
pg_run() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

postgres_init() {
  mkdir -p "$STATE_DIR/postgres"
  [ "$(id -u)" = 0 ] && chown postgres: "$STATE_DIR/postgres"
  local pwfile="$STATE_DIR/postgres/.pw"
  printf '%s\n' "$SALESCDC_PG_PASSWORD" > "$pwfile"
  [ "$(id -u)" = 0 ] && chown postgres: "$pwfile"
  pg_run "$PG_BIN/initdb" -D "$PG_DATA" -U postgres --auth-local=trust --auth-host=scram-sha-256 \
    --pwfile="$pwfile" -E UTF8 --locale=C.UTF-8 >>"$LOG_DIR/postgres.log" 2>&1 \
    || stack_die "initdb failed; see $LOG_DIR/postgres.log"
  rm -f "$pwfile"
  cat >> "$PG_DATA/postgresql.conf" <<CONF
# salescdc local stack
listen_addresses = '127.0.0.1'
port = $SALESCDC_PG_PORT
unix_socket_directories = '$STATE_DIR/postgres'
wal_level = logical
max_replication_slots = 20
max_wal_senders = 20
max_connections = 200
shared_buffers = 512MB
fsync = on
CONF
  # Replication connections (replication=database) need their own pg_hba lines.
  cat >> "$PG_DATA/pg_hba.conf" <<HBA
host replication all 127.0.0.1/32 scram-sha-256
local replication all trust
HBA
}

postgres_start() {
  [ -f "$PG_DATA/PG_VERSION" ] || postgres_init
  require_port_free postgres "$SALESCDC_PG_PORT" SALESCDC_PG_PORT
  [ "$(id -u)" = 0 ] && touch "$LOG_DIR/postgres.log" && chown postgres: "$LOG_DIR/postgres.log"
  # postgres itself (not a wrapper) is the recorded pid, so stop/status see the postmaster.
  if [ "$(id -u)" = 0 ]; then
    start_daemon postgres setpriv --reuid=postgres --regid=postgres --init-groups "$PG_BIN/postgres" -D "$PG_DATA"
  else
    start_daemon postgres "$PG_BIN/postgres" -D "$PG_DATA"
  fi
}

postgres_ready() {
  "$PG_BIN/pg_isready" -q -h 127.0.0.1 -p "$SALESCDC_PG_PORT" -d postgres -U postgres
}

postgres_psql() {
  PGPASSWORD=$SALESCDC_PG_PASSWORD psql -X -q -v ON_ERROR_STOP=1 -h "$STATE_DIR/postgres" \
    -p "$SALESCDC_PG_PORT" -U postgres "$@"
}

postgres_setup() {
  postgres_psql -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN REPLICATION PASSWORD %L', '$SALESCDC_PG_USER', '$SALESCDC_PG_PASSWORD')
 WHERE NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '$SALESCDC_PG_USER') \gexec
SELECT format('CREATE DATABASE %I OWNER %I', '$SALESCDC_PG_DATABASE', '$SALESCDC_PG_USER')
 WHERE NOT EXISTS (SELECT 1 FROM pg_database WHERE datname = '$SALESCDC_PG_DATABASE') \gexec
SQL
}

postgres_stop() { stop_daemon postgres 60; }
postgres_port() { echo "$SALESCDC_PG_PORT"; }

postgres_env() {
  cat <<ENV
export SALESCDC_PG_CONNINFO='host=127.0.0.1 port=$SALESCDC_PG_PORT dbname=$SALESCDC_PG_DATABASE user=$SALESCDC_PG_USER password=$SALESCDC_PG_PASSWORD'
export SALESCDC_PG_SOCKET_DIR='$STATE_DIR/postgres'
ENV
}
