# Shared helpers of deploy/local/stack: paths, settings, daemon start/stop by pid file, waiting.
# Sourced, never executed. Every service file in services/ builds on these.

STACK_HOME=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$STACK_HOME/../.." && pwd)

# Settings: stack.conf gives defaults, the environment overrides them.
while IFS='=' read -r key value; do
  case "$key" in ''|'#'*) continue ;; esac
  if [ -z "${!key+x}" ]; then export "$key=$value"; else export "$key"; fi
done < "$STACK_HOME/stack.conf"

STATE_DIR=${SALESCDC_STACK_DIR:-$REPO_ROOT/.stack}
CACHE_DIR=${SALESCDC_CACHE_DIR:-$HOME/.cache/salescdc}
LOG_DIR=$STATE_DIR/logs
RUN_DIR=$STATE_DIR/run
mkdir -p "$STATE_DIR" "$CACHE_DIR" "$LOG_DIR" "$RUN_DIR"

stack_log() { printf '%s stack: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
stack_die() { printf 'stack: error: %s\n' "$*" >&2; exit 1; }

# pid_of NAME: prints the pid recorded for NAME if that process is still alive.
pid_of() {
  local f="$RUN_DIR/$1.pid" pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  echo "$pid"
}

# start_daemon NAME CMD...: runs CMD detached (own session), output to logs/NAME.log,
# pid to run/NAME.pid. Does nothing if NAME is already running.
start_daemon() {
  local name=$1; shift
  pid_of "$name" >/dev/null && return 0
  setsid "$@" >>"$LOG_DIR/$name.log" 2>&1 < /dev/null &
  echo $! > "$RUN_DIR/$name.pid"
}

# stop_daemon NAME [TIMEOUT_S]: SIGTERM the recorded pid (and its process group), wait,
# then SIGKILL. Only ever touches the pid this stack recorded.
stop_daemon() {
  local name=$1 timeout=${2:-30} pid i
  pid=$(pid_of "$name") || { rm -f "$RUN_DIR/$name.pid"; return 0; }
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < timeout * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    stack_log "$name did not stop in ${timeout}s, sending SIGKILL to pid $pid"
    kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null
  fi
  rm -f "$RUN_DIR/$name.pid"
}

# wait_until TIMEOUT_S NAME CMD...: retries CMD until it succeeds; fails naming NAME and
# its log when TIMEOUT_S pass or the daemon NAME died.
wait_until() {
  local timeout=$1 name=$2; shift 2
  local deadline=$((SECONDS + timeout))
  until "$@" >/dev/null 2>&1; do
    if [ -f "$RUN_DIR/$name.pid" ] && ! pid_of "$name" >/dev/null; then
      tail -n 30 "$LOG_DIR/$name.log" >&2 2>/dev/null
      stack_die "$name exited during start-up; see $LOG_DIR/$name.log"
    fi
    if ((SECONDS >= deadline)); then
      tail -n 30 "$LOG_DIR/$name.log" >&2 2>/dev/null
      stack_die "$name did not answer within ${timeout}s; see $LOG_DIR/$name.log"
    fi
    sleep 0.5
  done
}

# port_free PORT: true if nothing listens on 127.0.0.1:PORT.
port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# require_port_free NAME PORT: fails with a clear message when another program holds PORT.
require_port_free() {
  port_free "$2" || stack_die "port $2 (for $1) is already in use by another program; \
free it or choose another port, e.g. ${3:-the matching SALESCDC_*_PORT} in the environment"
}

# maven_fetch POM OUTDIR: resolves POM's dependencies into OUTDIR (jars), via Maven Central.
# Maven's output goes to logs/maven.log and is shown only when it fails.
maven_fetch() {
  local pom=$1 out=$2 log="$LOG_DIR/maven.log"
  mkdir -p "$out"
  if ! mvn -B -Dstyle.color=never -f "$pom" -Dmaven.repo.local="$CACHE_DIR/m2" \
      dependency:copy-dependencies -DoutputDirectory="$out" -DincludeScope=runtime >"$log" 2>&1; then
    grep -E "ERROR|BUILD" "$log" | tail -n 20 >&2
    return 1
  fi
}

# reserve_ports PORT...: keeps the kernel from handing these ports out as ephemeral source ports
# of outgoing connections (our defaults lie inside Linux's 32768-60999 ephemeral range, so a busy
# client could otherwise hold a server's port at the moment it (re)starts). Best effort: only
# where /proc/sys/net/ipv4/ip_local_reserved_ports is writable (root); binding is unaffected.
reserve_ports() {
  local f=/proc/sys/net/ipv4/ip_local_reserved_ports current p
  [ -w "$f" ] || return 0
  current=$(cat "$f")
  for p in "$@"; do
    [[ $p =~ ^[0-9]+$ ]] && current="${current:+$current,}$p"
  done
  echo "$current" > "$f" 2>/dev/null || true
}
