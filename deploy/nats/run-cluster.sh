#!/usr/bin/env bash
# Starts the 3-node NATS JetStream cluster of deploy/nats/cluster/ on loopback and keeps it
# running until Ctrl-C (or SIGTERM), then stops every node and removes the stores.
#
#   deploy/nats/run-cluster.sh
#   NATS_URL=nats://127.0.0.1:4231,nats://127.0.0.1:4232,nats://127.0.0.1:4233 npm start
#
# Environment:
#   NATS_SERVER_BIN          the nats-server binary (else PATH, else /usr/sbin/nats-server)
#   KETENHUB_CLUSTER_STORE   keep the stores in this directory (n1/ n2/ n3/) and do not remove
#                            them on exit; default a fresh temp dir that is removed
#   KETENHUB_CLUSTER_FOR     stop by itself after this many seconds (for scripts and tests)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
confdir="$here/cluster"
nodes=(n1 n2 n3)
client_ports=(4231 4232 4233)
monitor_ports=(8231 8232 8233)

bin="${NATS_SERVER_BIN:-}"
if [[ -z "$bin" ]]; then
  bin="$(command -v nats-server || true)"
  [[ -z "$bin" && -x /usr/sbin/nats-server ]] && bin=/usr/sbin/nats-server
fi
if [[ -z "$bin" || ! -x "$bin" ]]; then
  echo "run-cluster: nats-server not found; install it (apt-get install nats-server) or set NATS_SERVER_BIN" >&2
  exit 1
fi

if [[ -n "${KETENHUB_CLUSTER_STORE:-}" ]]; then
  root="$KETENHUB_CLUSTER_STORE"
  keep=1
  mkdir -p "$root"
else
  root="$(mktemp -d "${TMPDIR:-/tmp}/ketenhub-nats-cluster.XXXXXX")"
  keep=0
fi

pids=()
timer=""
stopped=0
stop() {
  [[ $stopped -eq 1 ]] && return
  stopped=1
  [[ -n "$timer" ]] && kill "$timer" 2>/dev/null
  # SIGTERM lets each node flush its store; SIGKILL only for a node that does not go.
  for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
  for _ in $(seq 1 50); do
    alive=0
    for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
    [[ $alive -eq 0 ]] && break
    sleep 0.1
  done
  for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [[ $keep -eq 0 ]]; then
    rm -rf "$root"
  else
    echo "run-cluster: stores kept in $root" >&2
  fi
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

for port in "${client_ports[@]}" "${monitor_ports[@]}" 6231 6232 6233; do
  if (: <"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
    echo "run-cluster: port $port on 127.0.0.1 is in use (another cluster running?)" >&2
    exit 1
  fi
done

for i in "${!nodes[@]}"; do
  node="${nodes[$i]}"
  mkdir -p "$root/$node"
  KETENHUB_NATS_STORE_DIR="$root/$node" "$bin" -c "$confdir/$node.conf" \
    >"$root/$node.log" 2>&1 &
  pids+=("$!")
done

# Ready when every node's /healthz says JetStream is up and current (needs a meta leader).
deadline=$((SECONDS + 30))
for i in "${!nodes[@]}"; do
  until curl -fsS -o /dev/null "http://127.0.0.1:${monitor_ports[$i]}/healthz" 2>/dev/null; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "run-cluster: ${nodes[$i]} exited; its log:" >&2
      cat "$root/${nodes[$i]}.log" >&2
      exit 1
    fi
    if ((SECONDS > deadline)); then
      echo "run-cluster: ${nodes[$i]} not healthy within 30 s; logs in $root" >&2
      tail -n 20 "$root/${nodes[$i]}.log" >&2
      exit 1
    fi
    sleep 0.2
  done
done

urls=""
for port in "${client_ports[@]}"; do urls="${urls:+$urls,}nats://127.0.0.1:$port"; done
cat <<EOF
NATS cluster 'ketenhub' is running (3 nodes, JetStream).

  n1  nats://127.0.0.1:4231  monitor http://127.0.0.1:8231  pid ${pids[0]}
  n2  nats://127.0.0.1:4232  monitor http://127.0.0.1:8232  pid ${pids[1]}
  n3  nats://127.0.0.1:4233  monitor http://127.0.0.1:8233  pid ${pids[2]}
  stores and logs  $root

Use it:  export NATS_URL=$urls
         and set streams.replicas: 3 in the hub config (docs/cluster.md)
Stop with Ctrl-C.
EOF

# Runs until Ctrl-C, SIGTERM or KETENHUB_CLUSTER_FOR. A node that dies is reported and the
# others keep running: carrying on with one node down is what the cluster is for (restart it
# by hand with the command printed). Ends by itself only when no node is left.
if [[ -n "${KETENHUB_CLUSTER_FOR:-}" ]]; then
  # exec: the timer is the sleep itself, so killing it leaves no orphan behind.
  (exec sleep "$KETENHUB_CLUSTER_FOR") &
  timer=$!
fi
running=("${pids[@]}")
while ((${#running[@]} > 0)); do
  set +e
  wait -n -p ended "${running[@]}" ${timer:+"$timer"}
  status=$?
  set -e
  if [[ -n "$timer" && "${ended:-}" == "$timer" ]]; then
    timer=""
    echo "run-cluster: KETENHUB_CLUSTER_FOR=${KETENHUB_CLUSTER_FOR}s passed; stopping" >&2
    exit 0
  fi
  still=()
  for i in "${!nodes[@]}"; do
    pid="${pids[$i]}"
    if [[ "$pid" == "${ended:-}" ]]; then
      echo "run-cluster: ${nodes[$i]} (pid $pid) exited with status $status; the others go on." >&2
      echo "  restart it: KETENHUB_NATS_STORE_DIR=$root/${nodes[$i]} $bin -c $confdir/${nodes[$i]}.conf" >&2
    elif [[ " ${running[*]} " == *" $pid "* ]]; then
      still+=("$pid")
    fi
  done
  running=("${still[@]}")
done
echo "run-cluster: every node has exited" >&2
exit 1
