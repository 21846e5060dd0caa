#!/bin/bash
# Installs dependencies, builds everything once with Ninja (and ccache when present), and
# runs every test with ctest in parallel. The last lines are ctest's counts.
#
#   tests/run.sh              every test (the soak label runs its short version)
#   tests/run.sh -L unit      only tests with a label (unit, integration, raft, soak)
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" = 0 ]; then
  deploy/install-deps.sh
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
ninja -C build
cd build
ctest --output-on-failure --timeout 900 -j "$(nproc)" "$@"
