# S3 server: MinIO (github.com/minio/minio, AGPL-3.0, run unmodified as an external test server),
# built once with `go install` from the Go module proxy into $CACHE_DIR/bin.
#
# Listens on SALESCDC_S3_PORT on loopback only (127.0.0.1, and MinIO adds [::1]); nothing else:
# the embedded console is off (MINIO_BROWSER=off), its address pinned to 127.0.0.1:PORT+1 in case
# someone turns it on. Data in $STATE_DIR/s3/data (single node, single drive, path-style S3).

s3_timeout=60
S3_MINIO_MODULE=github.com/minio/minio
# The module has no tagged Go versions; this pseudo-version is its newest commit on the proxy.
S3_MINIO_VERSION=${SALESCDC_S3_MINIO_VERSION:-v0.0.0-20260212201848-7aac2a2c5b7c}
S3_BIN=$CACHE_DIR/bin/minio
S3_DATA=$STATE_DIR/s3/data

s3_go() {
  if command -v go >/dev/null 2>&1; then command -v go
  elif [ -x /usr/local/go/bin/go ]; then echo /usr/local/go/bin/go
  else return 1; fi
}

# Builds MinIO unless the cached binary is already this version (stamp file beside it). Modules
# are cached in $CACHE_DIR/go; the ~1 GB build cache is temporary, since only the binary is reused.
s3_install() {
  local stamp="$S3_BIN.version" go gocache log="$LOG_DIR/s3-install.log"
  [ -x "$S3_BIN" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$S3_MINIO_VERSION" ] && return 0
  go=$(s3_go) || stack_die "go is not installed; the S3 server (MinIO) is built with go install"
  stack_log "building MinIO $S3_MINIO_VERSION with go install (once; a few minutes)"
  mkdir -p "$CACHE_DIR/bin" "$CACHE_DIR/go"
  gocache=$(mktemp -d)
  if ! GOPATH="$CACHE_DIR/go" GOMODCACHE="$CACHE_DIR/go/pkg/mod" GOCACHE="$gocache" \
      GOBIN="$CACHE_DIR/bin" CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
      "$go" install -trimpath -ldflags='-s -w' "$S3_MINIO_MODULE@$S3_MINIO_VERSION" >"$log" 2>&1; then
    rm -rf "$gocache"
    tail -n 20 "$log" >&2
    stack_die "could not build $S3_MINIO_MODULE@$S3_MINIO_VERSION with go install; see $log"
  fi
  rm -rf "$gocache"
  echo "$S3_MINIO_VERSION" > "$stamp"
}

s3_start() {
  require_port_free s3 "$SALESCDC_S3_PORT" SALESCDC_S3_PORT
  mkdir -p "$S3_DATA"
  # Credentials go through the environment (not argv); --anonymous keeps them out of the log.
  # MINIO_UPDATE=off: no update checks against the internet.
  start_daemon s3 env MINIO_ROOT_USER="$SALESCDC_S3_ACCESS_KEY" \
    MINIO_ROOT_PASSWORD="$SALESCDC_S3_SECRET_KEY" MINIO_REGION="$SALESCDC_S3_REGION" \
    MINIO_BROWSER=off MINIO_UPDATE=off \
    "$S3_BIN" server --anonymous \
    --address "127.0.0.1:$SALESCDC_S3_PORT" \
    --console-address "127.0.0.1:$((SALESCDC_S3_PORT + 1))" "$S3_DATA"
}

# s3_curl ARGS...: curl with an AWS SigV4-signed request; the key pair goes through stdin (-K -)
# so it never appears in a process list. Prints curl's output; bounded by --max-time.
s3_curl() {
  printf 'user = "%s:%s"\n' "$SALESCDC_S3_ACCESS_KEY" "$SALESCDC_S3_SECRET_KEY" |
    curl -sS --max-time 10 -K - --aws-sigv4 "aws:amz:$SALESCDC_S3_REGION:s3" \
      -H "x-amz-content-sha256: UNSIGNED-PAYLOAD" "$@"
}

# Ready when a signed ListBuckets is answered with 200 (credentials and region accepted).
s3_ready() {
  [ "$(s3_curl -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SALESCDC_S3_PORT/")" = 200 ]
}

# Creates the bucket; an existing bucket of ours (409 BucketAlreadyOwnedByYou) is fine.
s3_setup() {
  local out code
  out=$(s3_curl -X PUT -w '\n%{http_code}' \
    "http://127.0.0.1:$SALESCDC_S3_PORT/$SALESCDC_S3_BUCKET") ||
    stack_die "could not create bucket $SALESCDC_S3_BUCKET: request failed"
  code=${out##*$'\n'}
  case "$code" in
    200) ;;
    409) [[ "$out" == *BucketAlreadyOwnedByYou* ]] ||
      stack_die "could not create bucket $SALESCDC_S3_BUCKET: HTTP 409: ${out%$'\n'*}" ;;
    *) stack_die "could not create bucket $SALESCDC_S3_BUCKET: HTTP $code: ${out%$'\n'*}" ;;
  esac
}

s3_stop() { stop_daemon s3 30; }
s3_port() { echo "$SALESCDC_S3_PORT"; }

s3_env() {
  cat <<ENV
export SALESCDC_S3_ENDPOINT='http://127.0.0.1:$SALESCDC_S3_PORT'
export SALESCDC_S3_ACCESS_KEY='$SALESCDC_S3_ACCESS_KEY'
export SALESCDC_S3_SECRET_KEY='$SALESCDC_S3_SECRET_KEY'
export SALESCDC_S3_BUCKET='$SALESCDC_S3_BUCKET'
export SALESCDC_S3_REGION='$SALESCDC_S3_REGION'
ENV
}
