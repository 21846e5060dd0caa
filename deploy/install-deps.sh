#!/bin/sh
# Installs every Debian 12 package the project needs to build, test and run.
# Idempotent and non-interactive; run as root.
set -eu
export DEBIAN_FRONTEND=noninteractive
PACKAGES="
  build-essential cmake ninja-build ccache pkg-config git
  libgrpc++-dev libprotobuf-dev protobuf-compiler protobuf-compiler-grpc
  libisal-dev libfuse3-dev fuse3 libssl-dev libgtest-dev libgmock-dev
  libcli11-dev libspdlog-dev libzstd-dev
  iproute2 procps util-linux rsync fio
"
missing=""
for p in $PACKAGES; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  apt-get update
  # shellcheck disable=SC2086
  apt-get install -y --no-install-recommends $missing
fi
