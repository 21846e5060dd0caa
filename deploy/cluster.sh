#!/bin/bash
# A local cluster on loopback: a group of namenodes (3 by default) replicated by Raft,
# N datanodes, a MapReduce jobmaster and one mr-worker per datanode, everything (data,
# logs, pids, client.conf) under $DFS_CLUSTER_DIR (default ./run/cluster).
#
#   deploy/cluster.sh start [--namenodes M] [--datanodes N] [--block-size S] [--replication R]
#   deploy/cluster.sh stop | status
#   deploy/cluster.sh kill-datanode N | restart-datanode N
#   deploy/cluster.sh kill-namenode N | restart-namenode N | kill-leader
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

RAFT_BASE_PORT="${DFS_RAFT_BASE_PORT:-9874}"

usage() { sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; }

# Namenode i (1-based) serves clients on NN_PORT + i - 1 and Raft on RAFT_BASE_PORT + i.
namenode_count() { cat "$DIR/namenodes" 2>/dev/null || echo 3; }
namenode_list() {
  local list="" i
  for i in $(seq 1 "$(namenode_count)"); do list="$list${list:+,}127.0.0.1:$((NN_PORT + i - 1))"; done
  echo "$list"
}

start_namenode() {
  local i=$1 peers="" j
  mkdir -p "$DIR/nn$i" "$DIR/logs"
  if alive "$DIR/nn$i/pid"; then return; fi
  if [ ! -d "$DIR/nn$i/meta/raft" ]; then
    for j in $(seq 1 "$(namenode_count)"); do
      peers="$peers${peers:+,}$j=127.0.0.1:$((RAFT_BASE_PORT + j))"
    done
    "$BIN/namenode" --format --dir "$DIR/nn$i/meta" --id "$i" --peers "$peers" \
      >>"$DIR/logs/namenode$i.log" 2>&1
  fi
  "$BIN/namenode" --dir "$DIR/nn$i/meta" --id "$i" --address "127.0.0.1:$((NN_PORT + i - 1))" \
    $(cat "$DIR/nn-flags") >>"$DIR/logs/namenode$i.log" 2>&1 &
  echo $! >"$DIR/nn$i/pid"
}

leader_id() {
  DFS_CONF="$DIR/client.conf" "$BIN/dfs" admin namenode status 2>/dev/null |
    awk '$3 ~ /^leader/ {print $1; exit}'
}

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
  "$BIN/datanode" --data-dir "$DIR/dn$i/data" --namenodes "$(namenode_list)" \
    --port $((DN_BASE_PORT + i)) >>"$DIR/logs/datanode$i.log" 2>&1 &
  echo $! >"$DIR/dn$i/pid"
}

start_mapreduce() {
  local datanodes=$1
  mkdir -p "$DIR/jm"
  if ! alive "$DIR/jm/pid"; then
    "$BIN/jobmaster" --address "127.0.0.1:$JM_PORT" --namenode "$(namenode_list)" \
      >>"$DIR/logs/jobmaster.log" 2>&1 &
    echo $! >"$DIR/jm/pid"
  fi
  for i in $(seq 1 "$datanodes"); do
    mkdir -p "$DIR/mrw$i"
    alive "$DIR/mrw$i/pid" && continue
    "$BIN/mr-worker" --jobmaster "127.0.0.1:$JM_PORT" --namenode "$(namenode_list)" \
      --datanode "127.0.0.1:$((DN_BASE_PORT + i))" --dir "$DIR/mrw$i/work" \
      --address "127.0.0.1:$((WORKER_BASE_PORT + i))" >>"$DIR/logs/mr-worker$i.log" 2>&1 &
    echo $! >"$DIR/mrw$i/pid"
  done
}

start() {
  local namenodes=3 datanodes=4 block_size=128M replication=3
  while [ $# -gt 0 ]; do
    case "$1" in
      --namenodes) namenodes=$2; shift 2 ;;
      --datanodes) datanodes=$2; shift 2 ;;
      --block-size) block_size=$2; shift 2 ;;
      --replication) replication=$2; shift 2 ;;
      *) usage; exit 2 ;;
    esac
  done
  mkdir -p "$DIR/logs"
  if [ -f "$DIR/namenodes" ] && [ "$(cat "$DIR/namenodes")" != "$namenodes" ]; then
    echo "cluster.sh: $DIR holds a group of $(cat "$DIR/namenodes") namenodes" >&2
    exit 2
  fi
  echo "$namenodes" >"$DIR/namenodes"
  echo "$datanodes" >"$DIR/datanodes"
  echo "--block-size $block_size --replication $replication --dead-interval-ms 10000" \
    >"$DIR/nn-flags"
  printf 'namenodes = %s\njobmaster = 127.0.0.1:%s\n' "$(namenode_list)" "$JM_PORT" \
    >"$DIR/client.conf"
  for i in $(seq 1 "$namenodes"); do start_namenode "$i"; done
  sleep 0.3
  for i in $(seq 1 "$namenodes"); do
    if ! alive "$DIR/nn$i/pid"; then
      echo "cluster.sh: namenode $i did not start:" >&2
      tail -3 "$DIR/logs/namenode$i.log" >&2
      exit 1
    fi
  done
  for i in $(seq 1 "$datanodes"); do start_datanode "$i"; done
  wait_for_datanodes "$datanodes"
  start_mapreduce "$datanodes"
  echo "cluster up: $namenodes namenodes ($(namenode_list)), $datanodes datanodes, jobmaster" \
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
  for f in "$DIR"/nn*/pid; do [ -e "$f" ] && stop_pid "$f"; done
  echo "cluster stopped"
}

status() {
  for d in "$DIR"/nn* "$DIR"/dn* "$DIR"/jm "$DIR"/mrw*; do
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
  kill-namenode) [ -n "${2:-}" ] || { usage; exit 2; }
    alive "$DIR/nn$2/pid" && kill -9 "$(cat "$DIR/nn$2/pid")"; rm -f "$DIR/nn$2/pid"
    echo "namenode $2 killed" ;;
  restart-namenode) [ -n "${2:-}" ] || { usage; exit 2; }
    stop_pid "$DIR/nn$2/pid"; start_namenode "$2"; echo "namenode $2 restarted" ;;
  kill-leader)
    id=$(leader_id)
    [ -n "$id" ] || { echo "cluster.sh: no namenode leads right now" >&2; exit 1; }
    kill -9 "$(cat "$DIR/nn$id/pid")"; rm -f "$DIR/nn$id/pid"
    echo "namenode $id (the leader) killed" ;;
  -h|--help|help) usage ;;
  *) usage; exit 2 ;;
esac
