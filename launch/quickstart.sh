#!/usr/bin/env bash
# From a fresh machine to a running job: installs the Debian packages, builds,
# checks the cluster (`newsrl doctor`) and runs the main job on a small
# default: the whole pipeline (`newsrl run`, docs/run.md) on the quickstart
# config, into runs/quickstart (resumed if it is there).
#   launch/quickstart.sh [RANKS]
set -euo pipefail
cd "$(dirname "$0")/.."
ranks="${1:-2}"
launch/install-deps.sh
launch/build.sh default
launch/mpirun.sh "$ranks" build/bin/newsrl doctor
resume=()
[ -f runs/quickstart/stages.json ] && resume=(--resume)
exec launch/mpirun.sh "$ranks" build/bin/newsrl run --config launch/configs/quickstart.toml --out runs/quickstart "${resume[@]}"
