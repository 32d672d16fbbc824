#!/usr/bin/env bash
# Do the rewards agree with the metric? For each test user, N lists sampled
# from one policy (temperature 1, one `eval policy` per seed), each list's
# five rewards beside its own Recall@10 on the test week; then, within each
# user's N lists, how each reward correlates with Recall@10, and what
# best-of-N picks by each reward (and by the composite, and by per-reward
# scaled sums) would score. A diagnosis of the reward design: it reads the
# test week, so it is not a way to choose weights (docs/results.md).
#   bench/reward_alignment.sh RUN_DIR CKPT OUT [N=8] [USERS=400] [NEWSRL=build/bin/newsrl]
# RUN_DIR: a `newsrl run` folder (clean/, index/, tokenizer.json, config.toml).
set -euo pipefail
run=$1 ckpt=$2 out=$3 n=${4:-8} users=${5:-400} bin=${6:-build/bin/newsrl}
mkdir -p "$out"
for s in $(seq 1 "$n"); do
  echo "sample $s/$n" >&2
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-1} "$bin" eval policy --ckpt "$ckpt" --world "$run/clean" --index "$run/index" \
    --tokenizer "$run/tokenizer.json" --config "$run/config.toml" --temperature 1 --seed "$s" \
    --max-users "$users" --out "$out/s$s" --json >"$out/s$s.json" 2>"$out/s$s.err"
done
python3 "$(dirname "$0")/reward_alignment.py" "$run/clean/truth.jsonl" "$out"/s*/ | tee "$out/alignment.txt"
