#!/usr/bin/env bash
# Peak memory and speed of a short `train sft` run, for one or more newsrl
# binaries side by side on the same data (docs/performance.md, "CPU memory").
#   bench/sft_memory.sh SFT_JSONL STEPS BIN [BIN ...]
# Prints one line per binary: max RSS (GiB), wall seconds, seconds per step.
set -euo pipefail
data="$1"; steps="$2"; shift 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '[model]\npreset = "micro"\n[train]\nbatch = 8\nseq = 512\nlr = 2e-3\nmin_lr = 2e-4\nwarmup = 20\nsteps = %s\ncheckpoint_every = %s\nlog_every = %s\n' \
  "$steps" "$steps" "$steps" >"$tmp/sft.toml"
i=0
for bin in "$@"; do
  i=$((i + 1))
  /usr/bin/time -f '%M %e' -o "$tmp/time-$i" "$bin" train sft --config "$tmp/sft.toml" --data "$data" --run "$tmp/run-$i" >/dev/null 2>&1
  read -r rss_kb wall <"$tmp/time-$i"
  awk -v b="$bin" -v r="$rss_kb" -v w="$wall" -v s="$steps" \
    'BEGIN { printf "%s: max RSS %.2f GiB, %.1f s, %.3f s/step\n", b, r / 1048576, w, w / s }'
done
