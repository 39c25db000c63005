# shellcheck shell=bash
# Test servers for the MongoDB and DynamoDB backends, sourced by .ci/run
# (works under set -euo pipefail). See /work/shared/SERVERS.md for why each
# step is done this way.
#
#   mongodyn_build_start   start the FerretDB build in the background (slow
#                          when cold, ~60 s; cached afterwards), call early
#   mongodyn_start         wait for the build, install dynoxide (cached),
#                          start FerretDB and dynoxide on free 127.0.0.1
#                          ports, wait until both answer, export
#                          RESTYCACHE_MONGODB_URI, RESTYCACHE_DYNAMODB_ENDPOINT,
#                          RESTYCACHE_FERRETDB_BIN, RESTYCACHE_DYNOXIDE_BIN and
#                          the AWS test credentials
#   mongodyn_stop [status] stop both servers by PID; with a non-zero status,
#                          print the tail of their logs first (for the EXIT trap)
#
# Tools are cached under RESTYCACHE_CI_CACHE (default
# ~/.cache/restycache-ci). Ports: RESTYCACHE_FERRETDB_PORT and
# RESTYCACHE_DYNOXIDE_PORT, else free ones are picked.

MONGODYN_TOOLS=${RESTYCACHE_CI_CACHE:-$HOME/.cache/restycache-ci}
MONGODYN_FERRETDB_VERSION=v1.24.2
MONGODYN_DYNOXIDE_VERSION=1.2.1
MONGODYN_FERRETDB_BIN=$MONGODYN_TOOLS/ferretdb-$MONGODYN_FERRETDB_VERSION
MONGODYN_DYNOXIDE_BIN=$MONGODYN_TOOLS/npm/node_modules/@dynoxide/linux-x64/dynoxide
MONGODYN_RUN=""
MONGODYN_BUILD_PID=""
MONGODYN_PIDS=()

# mongodyn_port_free PORT: true when nothing accepts connections on it.
mongodyn_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# mongodyn_freeport: prints a port on 127.0.0.1 that nothing listens on,
# other than the ones given as arguments, below the kernel's ephemeral range
# (where an outgoing connection could hold it between the probe and the bind).
mongodyn_freeport() {
  local p i low=32768
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    p=$((10000 + RANDOM % (low - 10001)))
    case " $* " in *" $p "*) continue ;; esac
    if mongodyn_port_free "$p"; then
      echo "$p"
      return 0
    fi
  done
  echo "mongodyn: no free port found" >&2
  return 1
}

# mongodyn_build_start: builds FerretDB from the Go module proxy in the
# background unless the binary is cached. The module zip lacks
# build/version/version.txt, without which the binary panics at start.
mongodyn_build_start() {
  mkdir -p "$MONGODYN_TOOLS"
  if [ -x "$MONGODYN_FERRETDB_BIN" ]; then
    return 0
  fi
  (
    set -euo pipefail
    d=$(mktemp -d)
    trap 'rm -rf "$d"' EXIT
    # Outside any module, so that no go.mod or go.sum is touched.
    src=$(cd "$d" && go mod download -json "github.com/FerretDB/FerretDB@$MONGODYN_FERRETDB_VERSION" |
      sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
    cp -r "$src/." "$d"
    chmod -R u+w "$d"
    echo "$MONGODYN_FERRETDB_VERSION" >"$d/build/version/version.txt"
    (cd "$d" && CGO_ENABLED=0 go build -buildvcs=false -trimpath -o "$MONGODYN_FERRETDB_BIN.tmp.$$" ./cmd/ferretdb)
    mv "$MONGODYN_FERRETDB_BIN.tmp.$$" "$MONGODYN_FERRETDB_BIN"
  ) >"$MONGODYN_TOOLS/ferretdb-build.log" 2>&1 &
  MONGODYN_BUILD_PID=$!
  echo "mongodyn: building FerretDB $MONGODYN_FERRETDB_VERSION in the background (pid $MONGODYN_BUILD_PID)"
}

# mongodyn_wait_for WHAT PID TIMEOUT_TENTHS CMD...: runs CMD every 0.1 s
# until it succeeds; fails if PID exits or the time runs out.
mongodyn_wait_for() {
  local what=$1 pid=$2 tries=$3 i
  shift 3
  for ((i = 0; i < tries; i++)); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "mongodyn: $what exited before it was ready" >&2
      return 1
    fi
    sleep 0.1
  done
  echo "mongodyn: $what not ready after $((tries / 10)) s" >&2
  return 1
}

mongodyn_connects() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

mongodyn_start() {
  local t0=$SECONDS
  if [ -n "$MONGODYN_BUILD_PID" ]; then
    if ! wait "$MONGODYN_BUILD_PID"; then
      echo "mongodyn: FerretDB build failed:" >&2
      tail -n 30 "$MONGODYN_TOOLS/ferretdb-build.log" >&2
      return 1
    fi
    MONGODYN_BUILD_PID=""
  fi
  if [ ! -x "$MONGODYN_FERRETDB_BIN" ]; then
    echo "mongodyn: $MONGODYN_FERRETDB_BIN missing; was mongodyn_build_start called?" >&2
    return 1
  fi
  if [ ! -x "$MONGODYN_DYNOXIDE_BIN" ]; then
    npm install --prefix "$MONGODYN_TOOLS/npm" --no-audit --no-fund --loglevel=error \
      "@dynoxide/linux-x64@$MONGODYN_DYNOXIDE_VERSION"
  fi

  MONGODYN_RUN=$(mktemp -d)
  mkdir -p "$MONGODYN_RUN/ferret-data" "$MONGODYN_RUN/ferret-state"
  local mport dport
  mport=${RESTYCACHE_FERRETDB_PORT:-$(mongodyn_freeport)}
  dport=${RESTYCACHE_DYNOXIDE_PORT:-$(mongodyn_freeport "$mport")}
  for p in "$mport" "$dport"; do
    if ! mongodyn_port_free "$p"; then
      echo "mongodyn: port $p is in use" >&2
      return 1
    fi
  done

  "$MONGODYN_FERRETDB_BIN" --handler=sqlite --sqlite-url="file:$MONGODYN_RUN/ferret-data/" \
    --listen-addr="127.0.0.1:$mport" --state-dir="$MONGODYN_RUN/ferret-state" --debug-addr=- \
    --telemetry=disable --log-level=error >"$MONGODYN_RUN/ferretdb.log" 2>&1 &
  local fpid=$!
  MONGODYN_PIDS+=("$fpid")
  "$MONGODYN_DYNOXIDE_BIN" serve --host 127.0.0.1 --port "$dport" >"$MONGODYN_RUN/dynoxide.log" 2>&1 &
  local dpid=$!
  MONGODYN_PIDS+=("$dpid")

  mongodyn_wait_for FerretDB "$fpid" 300 mongodyn_connects "$mport"
  mongodyn_wait_for dynoxide "$dpid" 300 "$MONGODYN_DYNOXIDE_BIN" healthcheck --port "$dport"
  for pid in "$fpid" "$dpid"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "mongodyn: server pid $pid exited" >&2
      return 1
    fi
  done

  export RESTYCACHE_MONGODB_URI="mongodb://127.0.0.1:$mport/"
  export RESTYCACHE_DYNAMODB_ENDPOINT="http://127.0.0.1:$dport"
  export RESTYCACHE_FERRETDB_BIN="$MONGODYN_FERRETDB_BIN"
  export RESTYCACHE_DYNOXIDE_BIN="$MONGODYN_DYNOXIDE_BIN"
  export AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1
  export AWS_EC2_METADATA_DISABLED=true
  echo "mongodyn: FerretDB at $RESTYCACHE_MONGODB_URI (pid $fpid), dynoxide at $RESTYCACHE_DYNAMODB_ENDPOINT (pid $dpid), up in $((SECONDS - t0)) s"
}

mongodyn_stop() {
  local status=${1:-0} pid f
  if [ -n "$MONGODYN_BUILD_PID" ]; then
    kill "$MONGODYN_BUILD_PID" 2>/dev/null || true
    wait "$MONGODYN_BUILD_PID" 2>/dev/null || true
    MONGODYN_BUILD_PID=""
  fi
  if [ "$status" != 0 ] && [ -n "$MONGODYN_RUN" ]; then
    for f in "$MONGODYN_RUN"/ferretdb.log "$MONGODYN_RUN"/dynoxide.log; do
      if [ -s "$f" ]; then
        echo "--- tail of $f" >&2
        tail -n 30 "$f" >&2
      fi
    done
  fi
  for pid in "${MONGODYN_PIDS[@]}"; do
    kill "$pid" 2>/dev/null || true
  done
  for pid in "${MONGODYN_PIDS[@]}"; do
    wait "$pid" 2>/dev/null || true
  done
  MONGODYN_PIDS=()
  if [ -n "$MONGODYN_RUN" ]; then
    rm -rf "$MONGODYN_RUN"
    MONGODYN_RUN=""
  fi
}
