#!/bin/bash
# Installs dependencies, builds, starts a local cluster (3 namenodes, 4 datanodes) and
# shows it working: a file goes in, comes back out byte for byte, and is listed; then the
# cluster is mounted with dfs-fuse and a directory is copied into it; last, a MapReduce word
# count runs over the project's documentation and prints the top words.
# The cluster keeps running afterwards; stop it with: deploy/cluster.sh stop
set -euo pipefail
cd "$(dirname "$0")/.."

[ "$(id -u)" = 0 ] && deploy/install-deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build namenode datanode dfs dfs-fuse jobmaster mr-worker mr mr-streaming wordcount
export DFS_CLUSTER_DIR="${DFS_CLUSTER_DIR:-$PWD/run/cluster}"
deploy/cluster.sh start
export DFS_CONF="$DFS_CLUSTER_DIR/client.conf"
dfs=build/bin/dfs

head -c 64M /dev/urandom >"$DFS_CLUSTER_DIR/sample.bin"
$dfs mkdir -p /demo
$dfs put -f "$DFS_CLUSTER_DIR/sample.bin" /demo/sample.bin
$dfs get -f /demo/sample.bin "$DFS_CLUSTER_DIR/sample.back"
cmp "$DFS_CLUSTER_DIR/sample.bin" "$DFS_CLUSTER_DIR/sample.back"
echo "put and get of 64 MiB: identical"
$dfs ls -H /demo
$dfs admin report

mnt="$DFS_CLUSTER_DIR/mnt"
mkdir -p "$mnt"
mountpoint -q "$mnt" || build/bin/dfs-fuse -o conf="$DFS_CONF" "$mnt"
cp -r common "$mnt/demo/"
diff -r common "$mnt/demo/common" && echo "cp -r through the FUSE mount at $mnt: identical"
ls -l "$mnt/demo"

for _ in $(seq 1 100); do cat README.md docs/*.md; done >"$DFS_CLUSTER_DIR/docs.txt"
$dfs mkdir -p /demo/books
$dfs put -f "$DFS_CLUSTER_DIR/docs.txt" /demo/books/docs.txt
$dfs rm -r /demo/wordcount 2>/dev/null || true
build/bin/mr submit --binary build/bin/wordcount --input /demo/books --output /demo/wordcount \
  --reducers 4 --wait
echo "top words:"
# sed reads to the end: head would stop early, and with pipefail sort's SIGPIPE would end
# the script.
for p in 0 1 2 3; do $dfs cat /demo/wordcount/part-0000$p; done | sort -t$'\t' -k2,2nr |
  sed -n 1,10p
echo
echo "try it: export DFS_CONF=$DFS_CONF; $dfs --help; ls $mnt"
echo "stop:   fusermount3 -u $mnt; deploy/cluster.sh stop"
