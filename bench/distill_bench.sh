#!/usr/bin/env bash
# Seconds per step of on-policy distillation, `kl = "full"` against
# `kl = "sampled"`, with a nano student and teacher (1,024-id vocabulary) on a
# small world: world (200 users), index, tokenizer, `data sft`, a short
# `train sft` (teacher: its last checkpoint, student: its first), then STEPS
# steps of `train distill` per estimator on RANKS ranks. Prints the mean of
# each stage over the steps after the first (rollout, reward, teacher,
# learn), the whole step and the sampled tokens per second.
#   bench/distill_bench.sh [BUILD_BIN_DIR] [DATA_DIR] [STEPS] [RANKS]
# DATA_DIR keeps the world, index, tokenizer and models for another run.
set -euo pipefail
bin="${1:-build/bin}/newsrl"
if [ -n "${2:-}" ]; then
  dir="$2"
  mkdir -p "$dir"
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi
steps="${3:-9}"
ranks="${4:-1}"
here="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$dir/world/truth.jsonl" ] || "$bin" world --out "$dir/world" --users 200 --news 800 --seed 4 --quiet
[ -f "$dir/index/index.json" ] || "$bin" index build --world "$dir/world" --out "$dir/index"
if [ ! -f "$dir/tok.json" ]; then
  sed -n 's/.*"title":"\([^"]*\)".*/\1/p' "$dir/world/news.jsonl" >"$dir/titles.txt"
  "$bin" tokenizer train --input "$dir/titles.txt" --vocab-size 1024 --out "$dir/tok.json"
fi
[ -f "$dir/sft.jsonl" ] || "$bin" data sft --world "$dir/world" --index "$dir/index" --tokenizer "$dir/tok.json" \
  --out "$dir/sft.jsonl" --max-tokens 192
if [ ! -d "$dir/sft/checkpoints" ]; then
  printf '[model]\npreset = "nano"\n[train]\nsteps = 80\nbatch = 8\nseq = 256\nlr = 3e-3\nmin_lr = 3e-4\nwarmup = 5\ncheckpoint_every = 20\nkeep_last = 4\n' \
    >"$dir/sft.toml"
  "$bin" train sft --config "$dir/sft.toml" --data "$dir/sft.jsonl" --run "$dir/sft"
fi
for kl in full sampled; do
  cat >"$dir/$kl.toml" <<TOML
[model]
init = "$dir/sft/checkpoints/step-00000020.h5"
[teacher]
checkpoint = "$dir/sft/checkpoints/step-00000080.h5"
[data]
world = "$dir/world"
index = "$dir/index"
tokenizer = "$dir/tok.json"
[prompt]
max_tokens = 192
[distill]
kl = "$kl"
steps = $steps
prompts_per_step = 4
samples_per_prompt = 4
max_new_tokens = 64
lr = 2e-3
checkpoint_every = 1000
TOML
  rm -rf "$dir/run-$kl"
  echo "== train distill, kl = $kl, nano, $steps steps, $ranks rank(s)"
  "$here/launch/mpirun.sh" "$ranks" "$bin" train distill --config "$dir/$kl.toml" --run "$dir/run-$kl" 2>&1 | tail -2
  # Means over the steps after the first (warm-up).
  sed -n '2,$p' "$dir/run-$kl/metrics.jsonl" | /usr/bin/python3 -c '
import json, sys
rows = [json.loads(line) for line in sys.stdin]
mean = lambda xs: sum(xs) / len(xs)
stages = {k: mean([r["stage_seconds"][k] for r in rows]) for k in rows[0]["stage_seconds"]}
print("  per step: %.3f s (%s); %.0f tokens/s; teacher KL %.3f -> %.3f" % (
    mean([r["seconds"] for r in rows]), ", ".join("%s %.3f" % kv for kv in sorted(stages.items())),
    mean([r["tokens_per_s"] for r in rows]), rows[0]["teacher_kl"], rows[-1]["teacher_kl"]))'
done
