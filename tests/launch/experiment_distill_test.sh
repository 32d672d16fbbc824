#!/usr/bin/env bash
# `newsrl experiment distill` from outside, on a tiny world under mpirun -np 3
# with one rank per role (rollout and reward on rank 0, learner on 1, teacher
# on 2): a micro teacher and a nano student sharing one vocabulary, the
# table of five rows with the teacher's gain kept; an experiment killed
# inside on-policy distillation and resumed finishes with the same student
# and results.json as an uninterrupted one; mistakes are one line, exit 2.
#   tests/launch/experiment_distill_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
export OMP_NUM_THREADS=1
mpirun_flags=(--oversubscribe --bind-to none -x OMP_NUM_THREADS)
if [ "$(id -u)" -eq 0 ]; then mpirun_flags+=(--allow-run-as-root); fi

# SFT and GRPO stop at step 2; the students train 4 steps, so
# NEWSRL_KILL_AT_STEP=3 kills on-policy distillation after its step-2 checkpoint.
cat >"$tmp/tiny.toml" <<'TOML'
[run]
preset = "micro"
[world]
users = 40
news = 300
seed = 3
[tokenizer]
vocab_size = 2048
[clean]
enabled = false
[prompt]
max_tokens = 128
[sft]
steps = 2
batch = 2
seq = 160
lr = 1e-3
warmup = 1
checkpoint_every = 2
[grpo]
steps = 2
group = 2
prompts_per_step = 2
max_new_tokens = 16
lr = 1e-4
checkpoint_every = 2
[distill]
steps = 4
prompts_per_step = 2
samples_per_prompt = 2
max_new_tokens = 16
checkpoint_every = 2
batch = 2
seq = 160
[generate]
max_new_tokens = 16
max_users = 12
[placement]
rollout = [0]
reward = [0]
learner = [1]
teacher = [2]
TOML

np3=(mpirun "${mpirun_flags[@]}" -np 3 "$bin" experiment distill)

check "distill -np 3" 0 "${np3[@]}" --config "$tmp/tiny.toml" --out "$tmp/a" --student-preset nano
for f in report.md results.json timings.json config.toml experiment.json stages.json plots/distill.png \
  on-policy/student.h5 supervised/teacher_lists.jsonl none/student.h5; do
  [ -s "$tmp/a/$f" ] || fail "distill: $f missing or empty"
done
for row in teacher student-sft on-policy supervised none; do
  grep -q "^| $row |" "$tmp/a/report.md" || fail "distill: report.md has no row $row" "$(cat "$tmp/a/report.md")"
done
grep -qF "| teacher's gain kept |" "$tmp/a/report.md" || fail "distill: no gain column" "$(cat "$tmp/a/report.md")"
[ "$(grep -c '"gain_kept"' "$tmp/a/results.json")" -eq 3 ] || fail "distill: want gain_kept on the 3 students"
has "distill -np 3" "tokenizer: taken from"
# The tokenizer fitted to both presets, and both models given its vocabulary.
grep -q 'vocab_size = 1024' "$tmp/a/shared/config.toml" || fail "distill: tokenizer not fitted to nano"
grep -q '"vocab_size": 1024' "$tmp/a/teacher/stages/sft-model.json" || fail "distill: teacher vocabulary not 1024"
grep -q '"hidden_size": 128' "$tmp/a/teacher/stages/sft-model.json" || fail "distill: the teacher is not micro"
grep -q "mode = 'on-policy'" "$tmp/a/on-policy/config.toml" || fail "distill: on-policy config" "$(cat "$tmp/a/on-policy/config.toml")"

# Killed inside on-policy distillation (SIGKILL in its step 3), then resumed.
out=$(NEWSRL_KILL_AT_STEP=3 timeout 300 mpirun "${mpirun_flags[@]}" -x NEWSRL_KILL_AT_STEP -np 3 "$bin" experiment \
  distill --config "$tmp/tiny.toml" --out "$tmp/k" --student-preset nano 2>&1)
[ $? -ne 0 ] && echo "ok   killed in on-policy step 3" || fail "the kill hook did not kill" "$out"
[ -s "$tmp/k/on-policy/checkpoints/latest" ] || fail "killed: no on-policy checkpoint to resume from" "$out"
[ -e "$tmp/k/results.json" ] && fail "killed: results.json written by a killed run"
check "resumed" 0 "${np3[@]}" --out "$tmp/k" --resume
has "resumed" "teacher: done before, skipped"
has "resumed" "resuming $tmp/k/on-policy"
check "same on-policy student" 0 "$bin" ckpt diff --json "$tmp/a/on-policy/student.h5" "$tmp/k/on-policy/student.h5"
has "same on-policy student" '"identical":true'
cmp -s "$tmp/a/results.json" "$tmp/k/results.json" ||
  fail "resumed: results.json differs from the uninterrupted run" "$(diff "$tmp/a/results.json" "$tmp/k/results.json")"

# Mistakes: one line, exit 2, nothing written.
sed 's/^\[distill\]/[distill]\nmode = "none"/' "$tmp/tiny.toml" >"$tmp/mode.toml"
check "mode in config" 2 "$bin" experiment distill --config "$tmp/mode.toml" --out "$tmp/e1"
has "mode in config" "[distill] mode: set by the experiment"
check "unknown preset" 2 "$bin" experiment distill --config "$tmp/tiny.toml" --out "$tmp/e2" --student-preset huge
has "unknown preset" '--student-preset: unknown preset "huge"'
check "teacher too small" 2 "$bin" experiment distill --config "$tmp/tiny.toml" --out "$tmp/e3" \
  --teacher "$tmp/a/on-policy/student.h5"
has "teacher too small" "--teacher: its vocabulary (1024) is smaller than [tokenizer] vocab_size (2048)"
check "distill typo" 2 "$bin" experiment distill --config "$tmp/tiny.toml" --out "$tmp/e4" --set distill.stepz=3
has "distill typo" "[distill] stepz: unknown key"
for e in e1 e2 e3 e4; do [ -e "$tmp/$e" ] && fail "$e: a folder was written for a mistake"; done
finish
