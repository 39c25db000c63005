# shellcheck shell=bash
# Test servers for the Redis and Dragonfly backends, sourced by .ci/run
# (under set -euo pipefail). It defines:
#
#   redis_servers_start  install what is missing, start a standalone Redis,
#                        a three-node Redis Cluster and a Valkey 8 server
#                        (standing in for DragonflyDB, which Debian lacks),
#                        wait until each answers, and export
#                        RESTYCACHE_REDIS_URL, RESTYCACHE_REDIS_CLUSTER_ADDRS
#                        and RESTYCACHE_DRAGONFLY_URL;
#   redis_servers_stop   stop every server it started, by PID, and print the
#                        servers' log tails when the run failed. .ci/run's
#                        EXIT trap calls it.
#
# Tools are cached under RESTYCACHE_CI_CACHE (default
# ~/.cache/restycache-ci), so a rerun starts in a second or two. Every port
# is a free 127.0.0.1 port found at start-up; set REDIS_PORT,
# REDIS_CLUSTER_PORTS ("p1 p2 p3") or VALKEY_PORT to choose them instead.

redis_ci_cache=${RESTYCACHE_CI_CACHE:-$HOME/.cache/restycache-ci}
redis_ci_run=""     # the servers' working directory: logs, cluster configs
redis_ci_ports=" "  # ports taken by this script, space-separated

# redis_port_free P: true when nothing accepts connections on 127.0.0.1:P.
redis_port_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# redis_free_port [OFFSET]: prints a port P for which P and P+OFFSET are
# free on 127.0.0.1 and not yet taken by this script (a cluster node also
# listens on its port + 10000). Pure bash: a random port below the kernel's
# ephemeral range (where no outgoing connection can hold it) is probed with a
# connect; the server started on it is then checked to be ours (by PID).
redis_free_port() {
  local off=${1:-0} p i low=32768
  read -r low _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  for ((i = 0; i < 200; i++)); do
    p=$((10000 + RANDOM % (low - 20001)))
    case "$redis_ci_ports" in *" $p "* | *" $((p + off)) "*) continue ;; esac
    if redis_port_free "$p" && redis_port_free "$((p + off))"; then
      redis_ci_ports+="$p $((p + off)) "
      echo "$p"
      return 0
    fi
  done
  echo "servers-redis: no free 127.0.0.1 port found" >&2
  return 1
}

# redis_apt_install: redis-server (and redis-cli) from the system's apt
# sources. The package may try to start its own service on 6379; that does
# not matter, as the tests use the servers started below.
redis_apt_install() {
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  echo "servers-redis: installing redis-server with apt-get"
  $sudo apt-get -o DPkg::Lock::Timeout=300 update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get -o DPkg::Lock::Timeout=300 install -y -qq \
    --no-install-recommends redis-server >/dev/null
}

# redis_debian_mirror: the machine's own Debian mirror, from its apt sources.
redis_debian_mirror() {
  local m=""
  if compgen -G "/etc/apt/sources.list.d/*.sources" >/dev/null; then
    m=$(awk '/^URIs:/ { for (i = 2; i <= NF; i++) if ($i !~ /security/) { print $i; exit } }' \
      /etc/apt/sources.list.d/*.sources)
  fi
  if [ -z "$m" ] && [ -f /etc/apt/sources.list ]; then
    m=$(awk '$1 == "deb" && $0 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /:\/\//) { print $i; exit } }' \
      /etc/apt/sources.list)
  fi
  if [ -z "$m" ]; then
    echo "servers-redis: no Debian mirror found in /etc/apt/sources.list{,.d/*.sources}" >&2
    return 1
  fi
  echo "${m%/}"
}

# redis_valkey_install: Valkey 8 from bookworm-backports, unpacked into the
# cache with dpkg -x. The system's apt sources, lists and cache are left
# alone: apt runs on a private source list and state directory.
redis_valkey_install() {
  local dest="$redis_ci_cache/valkey-8" bp="$redis_ci_cache/apt-backports" mirror
  mirror=$(redis_debian_mirror)
  echo "servers-redis: fetching Valkey 8 from bookworm-backports"
  rm -rf "$bp" "$dest.tmp"
  mkdir -p "$bp/lists/partial" "$bp/cache/archives/partial" "$dest.tmp"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror bookworm-backports main" >"$bp/sources.list"
  local a=(-o Dir::Etc::SourceList="$bp/sources.list" -o Dir::Etc::SourceParts=/dev/null
    -o Dir::State::Lists="$bp/lists" -o Dir::Cache="$bp/cache" -o APT::Sandbox::User=root
    -o Debug::NoLocking=1)
  apt-get "${a[@]}" update -qq
  (cd "$bp" && apt-get "${a[@]}" -qq download valkey-server valkey-tools)
  local d
  for d in "$bp"/valkey-*.deb; do dpkg -x "$d" "$dest.tmp"; done
  "$dest.tmp/usr/bin/valkey-server" --version
  rm -rf "$dest" && mv "$dest.tmp" "$dest"
  rm -rf "$bp"
}

# redis_start NAME PORT BINARY ARGS...: starts a server in the background,
# records its PID and waits until it answers PING from that very process.
redis_start() {
  local name=$1 port=$2 bin=$3
  shift 3
  "$bin" --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$redis_ci_run" \
    "$@" >"$redis_ci_run/$name.log" 2>&1 &
  local pid=$!
  echo "$pid $name" >>"$redis_ci_run/pids"
  local i
  for ((i = 0; i < 200; i++)); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "servers-redis: $name (port $port) exited at start-up" >&2
      tail -n 20 "$redis_ci_run/$name.log" >&2 || true
      return 1
    fi
    if [ "$(redis-cli -p "$port" ping 2>/dev/null)" = PONG ]; then
      if redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | grep -qx "process_id:$pid"; then
        return 0
      fi
      echo "servers-redis: port $port answers from another process than $name ($pid)" >&2
      return 1
    fi
    sleep 0.05
  done
  echo "servers-redis: $name (port $port) did not answer PING within 10s" >&2
  return 1
}

redis_servers_start() {
  command -v redis-server >/dev/null && command -v redis-cli >/dev/null || redis_apt_install
  mkdir -p "$redis_ci_cache"
  local valkey="$redis_ci_cache/valkey-8/usr/bin/valkey-server"
  [ -x "$valkey" ] || redis_valkey_install

  redis_ci_run=$(mktemp -d "${TMPDIR:-/tmp}/restycache-redis.XXXXXX")
  : >"$redis_ci_run/pids"

  local port
  port=${REDIS_PORT:-$(redis_free_port)}
  redis_start redis "$port" redis-server
  export RESTYCACHE_REDIS_URL="redis://127.0.0.1:$port/0"

  local cports=() c addrs=() i
  if [ -n "${REDIS_CLUSTER_PORTS:-}" ]; then
    read -r -a cports <<<"$REDIS_CLUSTER_PORTS"
  else
    for i in 1 2 3; do cports+=("$(redis_free_port 10000)"); done
  fi
  for c in "${cports[@]}"; do
    redis_start "cluster-$c" "$c" redis-server --cluster-enabled yes \
      --cluster-config-file "$redis_ci_run/nodes-$c.conf" --cluster-node-timeout 5000
    addrs+=("127.0.0.1:$c")
  done
  redis-cli --cluster create "${addrs[@]}" --cluster-replicas 0 --cluster-yes \
    >"$redis_ci_run/cluster-create.log" 2>&1 || {
    echo "servers-redis: redis-cli --cluster create failed" >&2
    cat "$redis_ci_run/cluster-create.log" >&2
    return 1
  }
  for c in "${cports[@]}"; do
    for ((i = 0; ; i++)); do
      if redis-cli -p "$c" cluster info 2>/dev/null | tr -d '\r' | grep -qx 'cluster_state:ok'; then
        break
      fi
      if ((i >= 300)); then
        echo "servers-redis: cluster node $c not cluster_state:ok within 15s" >&2
        return 1
      fi
      sleep 0.05
    done
  done
  export RESTYCACHE_REDIS_CLUSTER_ADDRS
  RESTYCACHE_REDIS_CLUSTER_ADDRS=$(IFS=,; echo "${addrs[*]}")

  port=${VALKEY_PORT:-$(redis_free_port)}
  redis_start valkey "$port" "$valkey"
  export RESTYCACHE_DRAGONFLY_URL="redis://127.0.0.1:$port/0"

  local pid name
  while read -r pid name; do
    kill -0 "$pid" 2>/dev/null || {
      echo "servers-redis: $name ($pid) has exited" >&2
      return 1
    }
  done <"$redis_ci_run/pids"
  echo "servers-redis: redis $RESTYCACHE_REDIS_URL, cluster $RESTYCACHE_REDIS_CLUSTER_ADDRS, valkey $RESTYCACHE_DRAGONFLY_URL"
}

# redis_servers_stop [STATUS]: stops every recorded server by PID (TERM, then
# KILL after 5s) and, when STATUS (default: $? on entry, the exit status in
# an EXIT trap) is not 0, prints each server's log tail.
redis_servers_stop() {
  local rc=${1:-$?}
  [ -n "$redis_ci_run" ] && [ -f "$redis_ci_run/pids" ] || return 0
  local pid name i
  if [ "$rc" -ne 0 ]; then
    for f in "$redis_ci_run"/*.log; do
      [ -f "$f" ] || continue
      echo "--- servers-redis: tail of $f" >&2
      tail -n 30 "$f" >&2 || true
    done
  fi
  while read -r pid name; do
    kill "$pid" 2>/dev/null || true
  done <"$redis_ci_run/pids"
  while read -r pid name; do
    for ((i = 0; i < 100; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    kill -9 "$pid" 2>/dev/null || true
  done <"$redis_ci_run/pids"
  rm -rf "$redis_ci_run"
  redis_ci_run=""
  return 0
}
