#!/usr/bin/env bash
# Configures and builds newsrl with a CMake preset (default: "default").
#   launch/build.sh [PRESET]
set -euo pipefail
cd "$(dirname "$0")/.."
preset="${1:-default}"
cmake --preset "$preset" >/dev/null
cmake --build --preset "$preset" -j "$(nproc)"
