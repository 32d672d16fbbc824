#!/usr/bin/env bash
# `newsrl experiment …` from outside, on a tiny world with the nano preset:
# each experiment writes its table, results.json, timings.json and plots;
# one killed inside GRPO and resumed, and one under mpirun -np 2, finish with
# the same policy and results.json as an uninterrupted single-rank run;
# mistakes are one line and exit 2, before anything runs.
#   tests/launch/experiment_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

# SFT stops at step 2, so NEWSRL_KILL_AT_STEP=3 kills GRPO (in the
# experiment's own process) after its step-2 checkpoint.
cat >"$tmp/tiny.toml" <<'TOML'
[run]
preset = "nano"
[world]
users = 60
news = 300
seed = 3
[tokenizer]
vocab_size = 1024
[clean]
epochs = 1
[prompt]
max_tokens = 192
[sft]
steps = 2
batch = 2
seq = 256
lr = 1e-3
warmup = 1
checkpoint_every = 2
log_every = 1
[grpo]
steps = 4
group = 2
prompts_per_step = 2
max_new_tokens = 16
lr = 1e-4
checkpoint_every = 2
[generate]
max_new_tokens = 16
max_users = 16
TOML

outputs_present() {  # NAME DIR PLOT
  for f in report.md results.json timings.json config.toml experiment.json stages.json "plots/$3"; do
    [ -s "$2/$f" ] || fail "$1: $f missing or empty"
  done
  grep -q '"recall@10"' "$2/results.json" || fail "$1: results.json lacks recall@10" "$(cat "$2/results.json")"
  grep -q '| Recall@10 |' "$2/report.md" || fail "$1: report.md lacks its table" "$(cat "$2/report.md")"
}

check "best-of-n" 0 "$bin" experiment best-of-n --config "$tmp/tiny.toml" --out "$tmp/bon" --n 1,2
has "best-of-n" "base done"
has "best-of-n" "n-2 done"
outputs_present "best-of-n" "$tmp/bon" best_of_n.png
[ "$(grep -c '"name"' "$tmp/bon/results.json")" -eq 2 ] || fail "best-of-n: want 2 rows" "$(cat "$tmp/bon/results.json")"
grep -q '"n": 2' "$tmp/bon/results.json" || fail "best-of-n: no row with n = 2"
[ -s "$tmp/bon/base/grpo/policy.h5" ] || fail "best-of-n: base/grpo/policy.h5 missing"

check "resume a finished experiment" 0 "$bin" experiment best-of-n --out "$tmp/bon" --resume
has "resume a finished experiment" "done before, skipped"

# Killed inside GRPO (SIGKILL at step 3), then resumed: the same results.json.
check "killed" 137 env NEWSRL_KILL_AT_STEP=3 "$bin" experiment best-of-n --config "$tmp/tiny.toml" --out "$tmp/k" --n 1,2
[ -s "$tmp/k/base/grpo/checkpoints/latest" ] || fail "killed: no GRPO checkpoint to resume from"
[ -e "$tmp/k/results.json" ] && fail "killed: results.json written by a killed run"
check "resumed" 0 "$bin" experiment best-of-n --out "$tmp/k" --resume
has "resumed" "base: [1/11] world: done before, skipped"
has "resumed" "grpo done"
# (The tiny policy's lists rarely parse, so the table alone could hide a
# difference in the weights: compare them too.)
check "same policy" 0 "$bin" ckpt diff --json "$tmp/bon/base/grpo/policy.h5" "$tmp/k/base/grpo/policy.h5"
has "same policy" '"identical":true'
cmp -s "$tmp/bon/n-2/lists.jsonl" "$tmp/k/n-2/lists.jsonl" || fail "resumed: n-2/lists.jsonl differs"
cmp -s "$tmp/bon/results.json" "$tmp/k/results.json" ||
  fail "resumed: results.json differs from the uninterrupted run" "$(diff "$tmp/bon/results.json" "$tmp/k/results.json")"

# Under mpirun -np 2 (a cluster of two ranks for GRPO and evaluation): the same results.
check "two ranks" 0 mpirun --oversubscribe -np 2 "$bin" experiment best-of-n --config "$tmp/tiny.toml" --out "$tmp/two" --n 1,2
cmp -s "$tmp/bon/results.json" "$tmp/two/results.json" ||
  fail "two ranks: results.json differs from one rank" "$(diff "$tmp/bon/results.json" "$tmp/two/results.json")"

# No --sizes under the default budget: nano, micro and mini, not small.
check "scaling" 0 "$bin" experiment scaling --config "$tmp/tiny.toml" --out "$tmp/sc"
has "scaling" "tokenizer: taken from"
outputs_present "scaling" "$tmp/sc" scaling.png
for p in nano micro mini; do
  grep -q "\"preset\": \"$p\"" "$tmp/sc/results.json" || fail "scaling: no $p row"
done
grep -q '"preset": "small"' "$tmp/sc/results.json" && fail "scaling: --budget small ran the small preset"
[ -e "$tmp/sc/micro/world" ] && fail "scaling: micro/ rebuilt the shared world"

check "ablation" 0 "$bin" experiment ablation --config "$tmp/tiny.toml" --out "$tmp/ab"
outputs_present "ablation" "$tmp/ab" ablation.png
for v in full no-ret no-cov no-spec no-div no-struct; do
  grep -q "\"name\": \"$v\"" "$tmp/ab/results.json" || fail "ablation: no row $v"
done
# The training table: every reward's first and last fifth, "–" for the removed one.
grep -q '^| full | [0-9.]* → [0-9.]* | [0-9.]* → ' "$tmp/ab/report.md" || fail "ablation: no training row for full" "$(cat "$tmp/ab/report.md")"
grep -q '^| no-div | [^|]* | [^|]* | [^|]* | [^|]* | – | [0-9.]* → ' "$tmp/ab/report.md" ||
  fail "ablation: the no-div training row should show div as –" "$(cat "$tmp/ab/report.md")"
grep -q '"steps_per_fifth"' "$tmp/ab/results.json" || fail "ablation: results.json lacks the training rewards"
grep -q 'div.*weight = 0' "$tmp/ab/no-div/config.toml" ||
  grep -A1 '\[rewards.div\]' "$tmp/ab/no-div/config.toml" | grep -q 'weight = 0' || fail "ablation: no-div trains with div's weight"

# --init: the base stops at the cleaned world and every variant's GRPO
# starts from the given warm start, so from ab's own SFT checkpoint the same
# policies and table as above.
warm=$(ls "$tmp"/ab/base/sft/checkpoints/step-*.h5 | tail -1)
check "ablation --init" 0 "$bin" experiment ablation --config "$tmp/tiny.toml" --out "$tmp/abi" --without div --init "$warm"
has "ablation --init" "sft: not needed, skipped"
[ -e "$tmp/abi/base/sft" ] && fail "ablation --init: the base ran SFT"
for v in full no-div; do
  check "ablation --init $v" 0 "$bin" ckpt diff --json "$tmp/ab/$v/grpo/policy.h5" "$tmp/abi/$v/grpo/policy.h5"
  has "ablation --init $v" '"identical":true'
done
grep -q "$warm" "$tmp/abi/report.md" || fail "ablation --init: the report does not name the warm start"

check "throughput" 0 "$bin" experiment throughput --config "$tmp/tiny.toml" --out "$tmp/tp" --teacher-preset micro
outputs_present "throughput" "$tmp/tp" throughput.png
grep -q '"users_per_second"' "$tmp/tp/timings.json" || fail "throughput: timings.json lacks users_per_second"
has "throughput" "init-teacher done"

# Mistakes: one line, exit 2, nothing run.
check "unknown size" 2 "$bin" experiment scaling --config "$tmp/tiny.toml" --out "$tmp/e1" --sizes nano,huge
has "unknown size" 'unknown preset "huge"'
check "unknown reward" 2 "$bin" experiment ablation --config "$tmp/tiny.toml" --out "$tmp/e2" --without div,fun
has "unknown reward" 'unknown reward "fun"'
check "bad key" 2 "$bin" experiment best-of-n --config "$tmp/tiny.toml" --out "$tmp/e3" --set grpo.stepz=3
has "bad key" "stepz"
check "bad n" 2 "$bin" experiment best-of-n --config "$tmp/tiny.toml" --out "$tmp/e4" --n 0,2
has "bad n" "--n: 0"
check "fresh init too small" 2 "$bin" experiment throughput --config "$tmp/tiny.toml" --out "$tmp/e6" \
  --teacher "$tmp/bon/base/grpo/policy.h5" --set tokenizer.vocab_size=2048
has "fresh init too small" "--student-preset nano: its vocabulary (1024)"
check "init of another vocabulary" 2 "$bin" experiment ablation --config "$tmp/tiny.toml" --out "$tmp/e7" \
  --init "$warm" --set tokenizer.vocab_size=2048
has "init of another vocabulary" "--init: its vocabulary (1024)"
check "nothing to resume" 2 "$bin" experiment best-of-n --out "$tmp/e5" --resume
has "nothing to resume" "nothing to resume"
check "resume changes options" 2 "$bin" experiment best-of-n --out "$tmp/bon" --resume --n 4
has "resume changes options" "cannot change"
check "wrong kind" 2 "$bin" experiment scaling --out "$tmp/bon" --resume
has "wrong kind" "holds a best-of-n experiment"
check "folder taken" 2 "$bin" experiment best-of-n --config "$tmp/tiny.toml" --out "$tmp/bon"
has "folder taken" "already holds an experiment"
for e in e1 e2 e3 e4 e5 e6; do [ -e "$tmp/$e" ] && fail "$e: a folder was written for a mistake"; done
finish
