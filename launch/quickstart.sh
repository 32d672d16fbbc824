#!/usr/bin/env bash
# From a fresh machine to a running job: installs the Debian packages, builds,
# and runs the main job on a small default. For now the main job is the
# cluster check, `newsrl doctor`, on 2 ranks.
#   launch/quickstart.sh [RANKS]
set -euo pipefail
cd "$(dirname "$0")/.."
ranks="${1:-2}"
launch/install-deps.sh
launch/build.sh default
exec launch/mpirun.sh "$ranks" build/bin/newsrl doctor
