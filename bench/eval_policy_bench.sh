#!/usr/bin/env bash
# Users per second of `newsrl eval policy` with a micro policy on the default
# world (2,000 users): world, index, a 2,048-token tokenizer, `data sft`, a
# short `train sft` of the micro preset, then `eval policy` at N = 1 (greedy)
# and N = 4 (temperature 1), each run on RANKS ranks (on the first USERS users
# when given). Prints each run's last progress line (users/s), wall and CPU
# time, and its metrics. On a shared machine CPU time is the steadier number.
#   bench/eval_policy_bench.sh [BUILD_BIN_DIR] [DATA_DIR] [SFT_STEPS] [RANKS] [USERS] [NS]
# DATA_DIR keeps the world, index, tokenizer and policy for another run.
set -euo pipefail
bin="${1:-build/bin}/newsrl"
if [ -n "${2:-}" ]; then
  dir="$2"
  mkdir -p "$dir"
else
  dir=$(mktemp -d)
  trap 'rm -rf "$dir"' EXIT
fi
steps="${3:-200}"
ranks="${4:-1}"
users="${5:-0}"
ns="${6:-1 4}"
here="$(cd "$(dirname "$0")/.." && pwd)"
[ -f "$dir/world/truth.jsonl" ] || "$bin" world --out "$dir/world" --quiet
[ -f "$dir/index/index.json" ] || "$bin" index build --world "$dir/world" --out "$dir/index"
if [ ! -f "$dir/tok.json" ]; then
  sed -n 's/.*"title":"\([^"]*\)".*/\1/p' "$dir/world/news.jsonl" >"$dir/titles.txt"
  "$bin" tokenizer train --input "$dir/titles.txt" --vocab-size 2048 --out "$dir/tok.json"
fi
[ -f "$dir/sft.jsonl" ] || "$bin" data sft --world "$dir/world" --index "$dir/index" --tokenizer "$dir/tok.json" --out "$dir/sft.jsonl"
if [ ! -d "$dir/sft/checkpoints" ]; then
  printf '[model]\npreset = "micro"\n[train]\nsteps = %d\nbatch = 8\nseq = 512\nlr = 2e-3\nwarmup = 10\ncheckpoint_every = %d\n' \
    "$steps" "$steps" >"$dir/sft.toml"
  "$bin" train sft --config "$dir/sft.toml" --data "$dir/sft.jsonl" --run "$dir/sft"
fi
ckpt=$(ls "$dir"/sft/checkpoints/step-*.h5 | tail -1)
for n in $ns; do
  echo "== eval policy, micro, N = $n, $ranks rank(s): $ckpt"
  /usr/bin/time -f "wall %e s, CPU %U s user + %S s system" \
    "$here/launch/mpirun.sh" "$ranks" "$bin" eval policy --ckpt "$ckpt" --world "$dir/world" --index "$dir/index" \
    --tokenizer "$dir/tok.json" --n "$n" --max-users "$users" --json --out "$dir/eval-n$n-np$ranks" 2>"$dir/progress.txt" >"$dir/out.json" || {
    cat "$dir/progress.txt"
    exit 1
  }
  tail -2 "$dir/progress.txt"
  cat "$dir/out.json"
done
