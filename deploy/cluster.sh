#!/bin/bash
# A local cluster on loopback: one namenode and N datanodes, a MapReduce jobmaster and one
# mr-worker per datanode, everything (data, logs, pids, client.conf) under $DFS_CLUSTER_DIR
# (default ./run/cluster).
#
#   deploy/cluster.sh start [--datanodes N] [--block-size S] [--replication R]
#   deploy/cluster.sh stop | status
#   deploy/cluster.sh kill-datanode N | restart-datanode N
#
# Then: DFS_CONF=$DFS_CLUSTER_DIR/client.conf build/bin/dfs ls /
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BIN="${DFS_BIN:-$ROOT/build/bin}"
DIR="${DFS_CLUSTER_DIR:-./run/cluster}"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
NN_PORT="${DFS_NAMENODE_PORT:-9870}"
DN_BASE_PORT="${DFS_DATANODE_BASE_PORT:-9880}"
JM_PORT="${DFS_JOBMASTER_PORT:-9890}"
WORKER_BASE_PORT="${DFS_WORKER_BASE_PORT:-9900}"

usage() { sed -n '2,10p' "$0" | sed 's/^# \{0,1\}//'; }

alive() { [ -f "$1" ] && kill -0 "$(cat "$1")" 2>/dev/null; }

wait_for_datanodes() {
  local want=$1
  for _ in $(seq 1 100); do
    local live
    live=$(DFS_CONF="$DIR/client.conf" "$BIN/dfs" admin report 2>/dev/null |
      sed -n 's/^Live datanodes: \([0-9]*\).*/\1/p')
    [ "${live:-0}" -ge "$want" ] && return 0
    sleep 0.1
  done
  echo "cluster.sh: only ${live:-0} of $want datanodes registered; see $DIR/logs" >&2
  return 1
}

start_datanode() {
  local i=$1
  mkdir -p "$DIR/dn$i/data" "$DIR/logs"
  if alive "$DIR/dn$i/pid"; then return; fi
  "$BIN/datanode" --data-dir "$DIR/dn$i/data" --namenode "127.0.0.1:$NN_PORT" \
    --port $((DN_BASE_PORT + i)) >>"$DIR/logs/datanode$i.log" 2>&1 &
  echo $! >"$DIR/dn$i/pid"
}

start_mapreduce() {
  local datanodes=$1
  mkdir -p "$DIR/jm"
  if ! alive "$DIR/jm/pid"; then
    "$BIN/jobmaster" --address "127.0.0.1:$JM_PORT" --namenode "127.0.0.1:$NN_PORT" \
      >>"$DIR/logs/jobmaster.log" 2>&1 &
    echo $! >"$DIR/jm/pid"
  fi
  for i in $(seq 1 "$datanodes"); do
    mkdir -p "$DIR/mrw$i"
    alive "$DIR/mrw$i/pid" && continue
    "$BIN/mr-worker" --jobmaster "127.0.0.1:$JM_PORT" --namenode "127.0.0.1:$NN_PORT" \
      --datanode "127.0.0.1:$((DN_BASE_PORT + i))" --dir "$DIR/mrw$i/work" \
      --address "127.0.0.1:$((WORKER_BASE_PORT + i))" >>"$DIR/logs/mr-worker$i.log" 2>&1 &
    echo $! >"$DIR/mrw$i/pid"
  done
}

start() {
  local datanodes=4 block_size=128M replication=3
  while [ $# -gt 0 ]; do
    case "$1" in
      --datanodes) datanodes=$2; shift 2 ;;
      --block-size) block_size=$2; shift 2 ;;
      --replication) replication=$2; shift 2 ;;
      *) usage; exit 2 ;;
    esac
  done
  mkdir -p "$DIR/nn" "$DIR/logs"
  echo "$datanodes" >"$DIR/datanodes"
  if ! alive "$DIR/nn/pid"; then
    "$BIN/namenode" --dir "$DIR/nn/meta" --address "127.0.0.1:$NN_PORT" \
      --block-size "$block_size" --replication "$replication" \
      --dead-interval-ms 10000 >>"$DIR/logs/namenode.log" 2>&1 &
    echo $! >"$DIR/nn/pid"
    sleep 0.2
    if ! alive "$DIR/nn/pid"; then
      echo "cluster.sh: the namenode did not start:" >&2
      tail -3 "$DIR/logs/namenode.log" >&2
      exit 1
    fi
  fi
  printf 'namenode = 127.0.0.1:%s\njobmaster = 127.0.0.1:%s\n' "$NN_PORT" "$JM_PORT" \
    >"$DIR/client.conf"
  for i in $(seq 1 "$datanodes"); do start_datanode "$i"; done
  wait_for_datanodes "$datanodes"
  start_mapreduce "$datanodes"
  echo "cluster up: 1 namenode (127.0.0.1:$NN_PORT), $datanodes datanodes, jobmaster" \
    "(127.0.0.1:$JM_PORT) and $datanodes mr-workers, in $DIR"
  echo "use it with: export DFS_CONF=$DIR/client.conf; $BIN/dfs ls /"
}

stop_pid() {
  local f=$1
  if alive "$f"; then
    local pid
    pid=$(cat "$f")
    kill "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$f"
}

stop() {
  for f in "$DIR"/mrw*/pid; do [ -e "$f" ] && stop_pid "$f"; done
  stop_pid "$DIR/jm/pid"
  for f in "$DIR"/dn*/pid; do [ -e "$f" ] && stop_pid "$f"; done
  stop_pid "$DIR/nn/pid"
  echo "cluster stopped"
}

status() {
  if alive "$DIR/nn/pid"; then echo "namenode: running (pid $(cat "$DIR/nn/pid"))"
  else echo "namenode: stopped"; fi
  for d in "$DIR"/dn* "$DIR"/jm "$DIR"/mrw*; do
    [ -d "$d" ] || continue
    if alive "$d/pid"; then echo "$(basename "$d"): running (pid $(cat "$d/pid"))"
    else echo "$(basename "$d"): stopped"; fi
  done
}

case "${1:-}" in
  start) shift; start "$@" ;;
  stop) stop ;;
  status) status ;;
  kill-datanode) [ -n "${2:-}" ] || { usage; exit 2; }
    alive "$DIR/dn$2/pid" && kill -9 "$(cat "$DIR/dn$2/pid")"; rm -f "$DIR/dn$2/pid"
    echo "datanode $2 killed" ;;
  restart-datanode) [ -n "${2:-}" ] || { usage; exit 2; }
    stop_pid "$DIR/dn$2/pid"; start_datanode "$2"; echo "datanode $2 restarted" ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
