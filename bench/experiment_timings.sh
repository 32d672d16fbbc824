#!/usr/bin/env bash
# Wall-clock time of each `newsrl experiment` at its default budget (`small`)
# on the quickstart config, one after the other, against the 30-minute aim
# of docs/experiments.md ("Budget"). Run it on a quiet machine, or as two
# copies side by side with THREADS=1 so that each experiment has one core:
# OpenMP's fork-join kernels slow many times over when jobs share cores.
# Prints one JSON line per experiment and writes them to OUT/timings.jsonl:
#   {"experiment":..,"seconds":..,"status":..,"threads":..,"load_before":..}
#
#   bench/experiment_timings.sh OUT [EXPERIMENT ...]   # default: all five
#
# Knobs (env): NEWSRL (build/bin/newsrl), CONFIG (launch/configs/quickstart.toml),
# THREADS (OMP_NUM_THREADS; default nproc), EXTRA (more flags for every experiment).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:?usage: bench/experiment_timings.sh OUT [EXPERIMENT ...]}
shift
experiments=("$@")
[ ${#experiments[@]} -gt 0 ] || experiments=(throughput best-of-n distill ablation scaling)
NEWSRL=${NEWSRL:-build/bin/newsrl}
CONFIG=${CONFIG:-launch/configs/quickstart.toml}
THREADS=${THREADS:-$(nproc)}
mkdir -p "$out"
for e in "${experiments[@]}"; do
  dir="$out/$e"
  if [ -e "$dir" ]; then
    echo "experiment_timings: $dir exists; give an empty OUT" >&2
    exit 2
  fi
  load=$(cut -d' ' -f1 /proc/loadavg)
  start=$(date +%s%N)
  status=0
  # shellcheck disable=SC2086
  OMP_NUM_THREADS=$THREADS "$NEWSRL" experiment "$e" --config "$CONFIG" --out "$dir" ${EXTRA:-} \
    >"$out/$e.log" 2>&1 || status=$?
  tenths=$((($(date +%s%N) - start) / 100000000))
  line=$(printf '{"experiment":"%s","seconds":%d.%d,"status":%d,"threads":%d,"load_before":%s}' \
    "$e" $((tenths / 10)) $((tenths % 10)) "$status" "$THREADS" "$load")
  echo "$line" | tee -a "$out/timings.jsonl"
done
