#!/usr/bin/env bash
# From a fresh machine to every test run: installs the Debian packages, builds
# with warnings as errors, and runs the unit, MPI and end-to-end tests.
#   launch/test.sh [ctest arguments, e.g. -L unit]
set -euo pipefail
cd "$(dirname "$0")/.."
launch/install-deps.sh
launch/build.sh ci
# mpirun refuses root unless told; CI machines run as root.
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
ctest --preset ci -j "$(nproc)" --timeout 900 "$@"
