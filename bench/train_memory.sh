#!/usr/bin/env bash
# Peak memory and speed of a short training run, for one or more newsrl
# binaries side by side on the same input (docs/performance.md, "CPU memory").
#   bench/train_memory.sh sft SFT_JSONL STEPS BIN [BIN ...]     micro, batch 8, seq 512
#   bench/train_memory.sh grpo GRPO_TOML STEPS BIN [BIN ...]    the config's [grpo], STEPS steps
#   bench/train_memory.sh recompute SFT_JSONL STEPS BIN [PRESET]  sft as above (default micro), once with
#                                                                 [model] recompute = false, once true
# Prints one line per binary (per setting): max RSS (GiB), wall seconds, seconds per step.
set -euo pipefail
mode="$1"; input="$2"; steps="$3"; shift 3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
case "$mode" in
  sft)
    printf '[model]\npreset = "micro"\n[train]\nbatch = 8\nseq = 512\nlr = 2e-3\nmin_lr = 2e-4\nwarmup = 20\nsteps = %s\ncheckpoint_every = %s\nlog_every = %s\n' \
      "$steps" "$steps" "$steps" >"$tmp/sft.toml"
    args=(train sft --config "$tmp/sft.toml" --data "$input") ;;
  grpo) args=(train grpo --config "$input" --steps "$steps") ;;
  recompute)
    preset="${2:-micro}"
    for on in false true; do
      printf '[model]\npreset = "%s"\nrecompute = %s\n[train]\nbatch = 8\nseq = 512\nlr = 2e-3\nmin_lr = 2e-4\nwarmup = 20\nsteps = %s\ncheckpoint_every = %s\nlog_every = %s\n' \
        "$preset" "$on" "$steps" "$steps" "$steps" >"$tmp/sft-$on.toml"
      /usr/bin/time -f '%M %e' -o "$tmp/time-$on" "$1" train sft --config "$tmp/sft-$on.toml" --data "$input" \
        --run "$tmp/run-$on" >/dev/null 2>&1
      read -r rss_kb wall <"$tmp/time-$on"
      awk -v p="$preset" -v o="$on" -v r="$rss_kb" -v w="$wall" -v s="$steps" \
        'BEGIN { printf "%s, recompute = %s: max RSS %.2f GiB, %.1f s, %.3f s/step\n", p, o, r / 1048576, w, w / s }'
    done
    exit 0 ;;
  *) echo "train_memory.sh: the mode is sft or grpo, not $mode" >&2; exit 2 ;;
esac
i=0
for bin in "$@"; do
  i=$((i + 1))
  /usr/bin/time -f '%M %e' -o "$tmp/time-$i" "$bin" "${args[@]}" --run "$tmp/run-$i" >/dev/null 2>&1
  read -r rss_kb wall <"$tmp/time-$i"
  awk -v b="$bin" -v r="$rss_kb" -v w="$wall" -v s="$steps" \
    'BEGIN { printf "%s: max RSS %.2f GiB, %.1f s, %.3f s/step\n", b, r / 1048576, w, w / s }'
done
