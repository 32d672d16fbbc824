#!/usr/bin/env bash
# `newsrl train grpo` from outside: a tiny world, its index, a tokenizer,
# `data sft` and a few steps of `train sft` (nano), then a few GRPO steps
# under mpirun -np 2 and -np 4 (rollout, reward and learner on different
# ranks): the same seed and rank count give the same metrics (timings aside)
# and the same final policy; a run killed mid-run and resumed ends identical
# to the uninterrupted one; [model] recompute trains to the same bits; bad
# config is one line and exit 2.
#   tests/launch/grpo_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
# One OpenMP thread per process: on a busy 2-core machine two threads per
# rank wait on each other far longer than they save.
export OMP_NUM_THREADS=1
mpirun_flags=(--oversubscribe --bind-to none -x OMP_NUM_THREADS)
if [ "$(id -u)" -eq 0 ]; then mpirun_flags+=(--allow-run-as-root); fi

check "world" 0 "$bin" world --out "$tmp/world" --users 80 --news 400 --seed 3 --quiet
check "index" 0 "$bin" index build --world "$tmp/world" --out "$tmp/index"
sed -n 's/.*"title":"\([^"]*\)".*/\1/p' "$tmp/world/news.jsonl" >"$tmp/titles.txt"
check "tokenizer" 0 "$bin" tokenizer train --input "$tmp/titles.txt" --vocab-size 1024 --out "$tmp/tok.json"
check "data sft" 0 "$bin" data sft --world "$tmp/world" --index "$tmp/index" --tokenizer "$tmp/tok.json" \
  --out "$tmp/sft.jsonl" --max-tokens 128
# Enough of a warm start that some samples hold numbered queries: the
# rewards then differ within groups and the policy moves.
cat >"$tmp/sft.toml" <<TOML
[model]
preset = "nano"
[train]
data = "$tmp/sft.jsonl"
steps = 60
batch = 8
seq = 200
lr = 3e-3
min_lr = 3e-4
warmup = 5
checkpoint_every = 60
TOML
check "train sft" 0 "$bin" train sft --config "$tmp/sft.toml" --run "$tmp/sft"
init="$tmp/sft/checkpoints/step-00000060.h5"

# grpo.toml [placement ...]: the run config, with an optional placement table.
grpo_config() {
  cat <<TOML
[model]
init = "$init"
[data]
world = "$tmp/world"
index = "$tmp/index"
tokenizer = "$tmp/tok.json"
[prompt]
max_tokens = 128
[grpo]
steps = 4
group = 4
prompts_per_step = 3
max_new_tokens = 32
lr = 1e-4
min_lr = 1e-5
warmup = 1
epochs = 2
checkpoint_every = 2
seed = 5
TOML
  [ $# -gt 0 ] && printf '[placement]\n%s\n' "$1"
}
grpo_config >"$tmp/np2.toml"
grpo_config 'rollout = [1, 2]
reward = [3]
learner = [2, 3]' >"$tmp/np4.toml"

# The metrics without the keys that are timings.
no_timings() { sed -e 's/"seconds":[^,]*,"stage_seconds":{[^}]*},//' -e 's/"tokens_per_s":[^,]*,//' "$1"; }
same_run() {  # NAME RUN_A RUN_B
  if no_timings "$2/metrics.jsonl" | cmp -s - <(no_timings "$3/metrics.jsonl"); then
    echo "ok   $1: same metrics"
  else
    fail "$1: the metrics differ" "$(diff <(no_timings "$2/metrics.jsonl") <(no_timings "$3/metrics.jsonl"))"
  fi
  check "$1: same policy" 0 "$bin" ckpt diff "$2/policy.h5" "$3/policy.h5" --json
  has "$1: same policy" '"identical":true'
}

check "grpo -np 2" 0 mpirun "${mpirun_flags[@]}" -np 2 "$bin" train grpo --config "$tmp/np2.toml" --run "$tmp/a"
has "grpo -np 2" "step 4/4"
has "grpo -np 2" "prompts from 80 users"
has "grpo -np 2" "4 steps of 3 prompts draw each prompt 0.1 times"
[ "$(wc -l <"$tmp/a/metrics.jsonl")" -eq 4 ] || fail "metrics.jsonl should hold 4 lines" "$(cat "$tmp/a/metrics.jsonl")"
for key in '"reward":{"composite":{"mean":' '"ret":{"mean":' '"struct":{"mean":' '"parse_failures":' '"kl":' \
  '"entropy":' '"clip_fraction":' '"zero_spread":' '"stage_seconds":{"learn":' '"policy_version":4'; do
  grep -qF -- "$key" "$tmp/a/metrics.jsonl" || fail "metrics.jsonl lacks $key" "$(tail -1 "$tmp/a/metrics.jsonl")"
done
# A learning signal: some group with a reward spread, a gradient.
grep -qv '"zero_spread":1.0}' "$tmp/a/metrics.jsonl" || fail "every group had equal rewards" "$(cat "$tmp/a/metrics.jsonl")"
grep -qv '"grad_norm":0.0,' "$tmp/a/metrics.jsonl" || fail "no gradient in any step"
[ -f "$tmp/a/checkpoints/step-00000004.h5" ] && [ -f "$tmp/a/config.toml" ] || fail "no checkpoint or config.toml"
check "grpo -np 2 again" 0 mpirun "${mpirun_flags[@]}" -np 2 "$bin" train grpo --config "$tmp/np2.toml" --run "$tmp/b"
same_run "-np 2 twice" "$tmp/a" "$tmp/b"
# [model] recompute: the learner runs each block again in the backward; the same bits.
grpo_config | sed 's/^\[model\]$/[model]\nrecompute = true/' >"$tmp/recompute.toml"
check "grpo recompute" 0 mpirun "${mpirun_flags[@]}" -np 2 "$bin" train grpo --config "$tmp/recompute.toml" --run "$tmp/r"
has "grpo recompute" "the learners recompute each block's activations"
grep -qx 'recompute = true' "$tmp/r/config.toml" || fail "config.toml should keep recompute = true" "$(cat "$tmp/r/config.toml")"
same_run "recompute" "$tmp/a" "$tmp/r"

# Per-reward advantages (and the learners' micro-batches): step 1 samples the
# same lists (same seed, same init), so its rewards match run a's; the update
# differs, so the policy does.
grpo_config | sed '/^\[grpo\]/a advantage = "per-reward"\nmicro_batch = 2' >"$tmp/per_reward.toml"
check "grpo per-reward" 0 mpirun "${mpirun_flags[@]}" -np 2 "$bin" train grpo --config "$tmp/per_reward.toml" --run "$tmp/p"
first_reward() { head -1 "$1/metrics.jsonl" | sed 's/.*"reward":\({[^}]*}[^}]*}\).*/\1/'; }
[ "$(first_reward "$tmp/a")" = "$(first_reward "$tmp/p")" ] || fail "per-reward: step 1 sampled other lists" \
  "$(first_reward "$tmp/a") vs $(first_reward "$tmp/p")"
grep -q "advantage = 'per-reward'" "$tmp/p/config.toml" || fail "per-reward: config.toml does not record it"
check "per-reward: another policy" 0 "$bin" ckpt diff "$tmp/a/policy.h5" "$tmp/p/policy.h5" --json
has "per-reward: another policy" '"identical":false'

check "grpo -np 4" 0 mpirun "${mpirun_flags[@]}" -np 4 "$bin" train grpo --config "$tmp/np4.toml" --run "$tmp/c"
out=$(NEWSRL_KILL_AT_STEP=3 timeout 300 mpirun "${mpirun_flags[@]}" -x NEWSRL_KILL_AT_STEP -np 4 "$bin" train grpo \
  --config "$tmp/np4.toml" --run "$tmp/d" 2>&1)
[ $? -ne 0 ] && echo "ok   killed in step 3" || fail "the kill hook did not kill" "$out"
[ "$(wc -l <"$tmp/d/metrics.jsonl")" -eq 2 ] || fail "the killed run should have logged 2 steps"
check "resume -np 4" 0 mpirun "${mpirun_flags[@]}" -np 4 "$bin" train grpo --run "$tmp/d" --resume
has "resume -np 4" "(step 2)"
same_run "killed and resumed" "$tmp/c" "$tmp/d"

# Bad config: one line, exit 2, before any work.
grpo_config | sed '/^\[grpo\]/a stepz = 3' >"$tmp/typo.toml"
check "unknown key" 2 "$bin" train grpo --config "$tmp/typo.toml" --run "$tmp/e"
has "unknown key" "[grpo] stepz: unknown key"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "unknown key: more than one line" "$out"
grpo_config | sed '/^\[grpo\]/a advantage = "median"' >"$tmp/badadv.toml"
check "bad advantage" 2 "$bin" train grpo --config "$tmp/badadv.toml" --run "$tmp/e2"
has "bad advantage" '[grpo] advantage: must be "composite" or "per-reward"'
grpo_config | sed '/^\[grpo\]/a micro_batch = -1' >"$tmp/badmicro.toml"
check "bad micro_batch" 2 "$bin" train grpo --config "$tmp/badmicro.toml" --run "$tmp/e3"
has "bad micro_batch" "[grpo] micro_batch: must be at least 0"
grpo_config | sed "s|^init = .*|init = \"$tmp/none.h5\"|" >"$tmp/noinit.toml"
check "missing init" 2 "$bin" train grpo --config "$tmp/noinit.toml" --run "$tmp/f"
has "missing init" "[model] init: $tmp/none.h5: no such checkpoint file"
check "another world" 0 "$bin" world --out "$tmp/world2" --users 20 --news 300 --seed 9 --quiet
check "another index" 0 "$bin" index build --world "$tmp/world2" --out "$tmp/index2"
grpo_config | sed "s|^index = .*|index = \"$tmp/index2\"|" >"$tmp/other.toml"
check "index of another world" 2 "$bin" train grpo --config "$tmp/other.toml" --run "$tmp/g"
has "index of another world" "was built from another world"
# [grpo] max_users: the first users only (and newsrl run's spelling); not both it and [data] max_users.
grpo_config | sed 's/^\[grpo\]$/[grpo]\nmax_users = 5/' >"$tmp/few.toml"
check "[grpo] max_users" 0 "$bin" train grpo --config "$tmp/few.toml" --run "$tmp/few" --steps 1
has "[grpo] max_users" "prompts from 5 users"
grep -q '^max_users = 5$' "$tmp/few/config.toml" || fail "config.toml should keep [grpo] max_users" "$(cat "$tmp/few/config.toml")"
sed 's/^\[data\]$/[data]\nmax_users = 5/' "$tmp/few.toml" >"$tmp/both.toml"
check "both max_users" 2 "$bin" train grpo --config "$tmp/both.toml" --run "$tmp/both"
has "both max_users" "give one (they are the same key)"
finish
