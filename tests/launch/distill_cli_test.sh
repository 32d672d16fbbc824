#!/usr/bin/env bash
# `newsrl train distill` from outside, on a tiny world: a nano teacher (60
# steps of `train sft`) and a nano student (the same run's step-15
# checkpoint). On-policy distillation under mpirun -np 3 with one rank per
# role (rollout and reward on rank 0, learner on 1, teacher on 2): the full
# KL falls over 16 steps with the teacher fixed; with the student as its own
# teacher it is zero (both estimators); a run killed mid-run and
# resumed ends with the same student.h5 as an uninterrupted one, and so does
# a run with two teacher-scorers under -np 4; the sampled
# estimator runs; supervised distillation (best of 2) runs and, killed and
# resumed, ends with the same student; from greedy teacher lists it ignores
# the seed; mode none runs; bad
# config is one line and exit 2.
#   tests/launch/distill_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
export OMP_NUM_THREADS=1
mpirun_flags=(--oversubscribe --bind-to none -x OMP_NUM_THREADS)
if [ "$(id -u)" -eq 0 ]; then mpirun_flags+=(--allow-run-as-root); fi

check "world" 0 "$bin" world --out "$tmp/world" --users 40 --news 300 --seed 3 --quiet
check "index" 0 "$bin" index build --world "$tmp/world" --out "$tmp/index"
sed -n 's/.*"title":"\([^"]*\)".*/\1/p' "$tmp/world/news.jsonl" >"$tmp/titles.txt"
check "tokenizer" 0 "$bin" tokenizer train --input "$tmp/titles.txt" --vocab-size 1024 --out "$tmp/tok.json"
check "data sft" 0 "$bin" data sft --world "$tmp/world" --index "$tmp/index" --tokenizer "$tmp/tok.json" \
  --out "$tmp/sft.jsonl" --max-tokens 128
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
checkpoint_every = 15
keep_last = 4
TOML
check "train sft" 0 "$bin" train sft --config "$tmp/sft.toml" --run "$tmp/sft"
teacher="$tmp/sft/checkpoints/step-00000060.h5"
student="$tmp/sft/checkpoints/step-00000015.h5"

# distill.toml MODE KL STEPS [placement ...]
distill_config() {
  cat <<TOML
[model]
init = "$student"
[teacher]
checkpoint = "$teacher"
[data]
world = "$tmp/world"
index = "$tmp/index"
tokenizer = "$tmp/tok.json"
[prompt]
max_tokens = 128
[distill]
mode = "$1"
kl = "$2"
steps = $3
prompts_per_step = 3
samples_per_prompt = 2
max_new_tokens = 24
lr = 2e-3
min_lr = 2e-3
checkpoint_every = 2
seed = 5
batch = 4
seq = 160
best_of = 2
[grpo]
steps = 2
group = 2
prompts_per_step = 2
max_new_tokens = 24
TOML
  [ $# -gt 3 ] && printf '[placement]\n%s\n' "$4"
}
one_per_role='rollout = [0]
reward = [0]
learner = [1]
teacher = [2]'
distill_config on-policy full 4 "$one_per_role" >"$tmp/full4.toml"
distill_config on-policy full 16 "$one_per_role" >"$tmp/full16.toml"

# On-policy, exact KL, one rank per role: the KL to the fixed teacher falls.
check "on-policy -np 3" 0 mpirun "${mpirun_flags[@]}" -np 3 "$bin" train distill --config "$tmp/full16.toml" --run "$tmp/kl"
has "on-policy -np 3" "step 16/16"
[ "$(wc -l <"$tmp/kl/metrics.jsonl")" -eq 16 ] || fail "metrics.jsonl should hold 16 lines" "$(cat "$tmp/kl/metrics.jsonl")"
for key in '"teacher_kl":' '"entropy":' '"reward":{"composite":{"mean":' '"ret":{"mean":' '"struct":{"mean":' \
  '"tokens_per_s":' '"seconds":' '"lr":' '"loss":' '"grad_norm":' '"policy_version":16'; do
  grep -qF -- "$key" "$tmp/kl/metrics.jsonl" || fail "metrics.jsonl lacks $key" "$(tail -1 "$tmp/kl/metrics.jsonl")"
done
[ -f "$tmp/kl/student.h5" ] && [ -f "$tmp/kl/config.toml" ] || fail "no student.h5 or config.toml"
# The mean teacher KL of the first four steps against the last four (each
# step's batch is other users: single steps are noisy). About halves here.
kls=$(sed -n 's/.*"teacher_kl":\([^,]*\),.*/\1/p' "$tmp/kl/metrics.jsonl")
if awk 'NR<=4{a+=$1} NR>=13{b+=$1} END{exit !(b < 0.75*a)}' <<<"$kls"; then
  echo "ok   the teacher KL falls: $(echo $kls)"
else
  fail "the teacher KL did not fall by a quarter" "$kls"
fi

# The teacher made the student itself: before the first step the KL is zero
# up to rounding with either estimator, so the teacher-scorers' rows line up
# with the learner's positions (a row out of place costs nats, not 1e-6).
distill_config on-policy full 1 "$one_per_role" | sed "s|^checkpoint = .*|checkpoint = \"$student\"|" >"$tmp/self.toml"
for kl in full sampled; do
  check "self-distillation ($kl) -np 3" 0 mpirun "${mpirun_flags[@]}" -np 3 "$bin" train distill --config "$tmp/self.toml" \
    --run "$tmp/self-$kl" --set distill.kl=$kl
  kl_value=$(sed -n 's/.*"teacher_kl":\([^,]*\),.*/\1/p' "$tmp/self-$kl/metrics.jsonl")
  if awk -v k="$kl_value" 'BEGIN{exit !(k != "" && k < 1e-5 && k > -1e-5)}'; then
    echo "ok   the student's own KL to itself ($kl): $kl_value"
  else
    fail "the KL of the student to itself ($kl) should be 0" "$kl_value"
  fi
done

# Killed in step 3 and resumed: the same student as the uninterrupted run.
check "on-policy 4 steps" 0 mpirun "${mpirun_flags[@]}" -np 3 "$bin" train distill --config "$tmp/full4.toml" --run "$tmp/a"
out=$(NEWSRL_KILL_AT_STEP=3 timeout 300 mpirun "${mpirun_flags[@]}" -x NEWSRL_KILL_AT_STEP -np 3 "$bin" train distill \
  --config "$tmp/full4.toml" --run "$tmp/b" 2>&1)
[ $? -ne 0 ] && echo "ok   killed in step 3" || fail "the kill hook did not kill" "$out"
[ "$(wc -l <"$tmp/b/metrics.jsonl")" -eq 2 ] || fail "the killed run should have logged 2 steps"
check "resume" 0 mpirun "${mpirun_flags[@]}" -np 3 "$bin" train distill --run "$tmp/b" --resume
has "resume" "(step 2)"
check "killed and resumed: same student" 0 "$bin" ckpt diff "$tmp/a/student.h5" "$tmp/b/student.h5" --json
has "killed and resumed: same student" '"identical":true'
no_timings() { sed -e 's/"seconds":[^,]*,"stage_seconds":{[^}]*},//' -e 's/,"tokens_per_s":[^}]*}/}/' "$1"; }
cmp -s <(no_timings "$tmp/a/metrics.jsonl") <(no_timings "$tmp/b/metrics.jsonl") && echo "ok   same metrics" ||
  fail "killed and resumed: the metrics differ" "$(diff <(no_timings "$tmp/a/metrics.jsonl") <(no_timings "$tmp/b/metrics.jsonl"))"

# Two teacher-scorers (each a share of the samples) change nothing.
distill_config on-policy full 4 'rollout = [0]
reward = [0]
learner = [1]
teacher = [2, 3]' >"$tmp/two_teachers.toml"
check "two teachers -np 4" 0 mpirun "${mpirun_flags[@]}" -np 4 "$bin" train distill --config "$tmp/two_teachers.toml" \
  --run "$tmp/t2"
check "two teachers: same student" 0 "$bin" ckpt diff "$tmp/a/student.h5" "$tmp/t2/student.h5" --json
has "two teachers: same student" '"identical":true'

# The sampled estimator, on one rank, chosen by --set.
distill_config on-policy full 4 >"$tmp/sampled.toml"
check "sampled -np 1" 0 "$bin" train distill --config "$tmp/sampled.toml" --run "$tmp/s" --set distill.kl=sampled \
  --set distill.steps=2
has "sampled -np 1" "step 2/2"
grep -qF '"clip_fraction":' "$tmp/s/metrics.jsonl" && [ -f "$tmp/s/student.h5" ] || fail "sampled: no metrics or student"
grep -qF "kl = 'sampled'" "$tmp/s/config.toml" || fail "sampled: config.toml lacks the --set value" "$(cat "$tmp/s/config.toml")"

# Supervised: the teacher's best-of-2 list per user, then SFT of the student.
distill_config supervised full 4 >"$tmp/sup.toml"
check "supervised" 0 "$bin" train distill --config "$tmp/sup.toml" --run "$tmp/sup"
has "supervised" "(best of 2 at temperature 1 by composite)"
users=$(grep -c . "$tmp/world/users.jsonl")
lists=$(wc -l <"$tmp/sup/teacher_lists.jsonl")
[ "$lists" -ge 1 ] && [ "$lists" -le "$users" ] || fail "supervised: $lists teacher lists for $users users"
[ -f "$tmp/sup/student.h5" ] && [ -f "$tmp/sup/sft/metrics.jsonl" ] || fail "supervised: no student.h5 or sft metrics"
# Killed in its third SFT step and resumed: the lists are reused, the same student.
out=$(NEWSRL_KILL_AT_STEP=3 timeout 300 "$bin" train distill --config "$tmp/sup.toml" --run "$tmp/sup2" 2>&1)
[ $? -ne 0 ] && echo "ok   supervised killed in step 3" || fail "supervised: the kill hook did not kill" "$out"
check "supervised resume" 0 "$bin" train distill --run "$tmp/sup2" --resume
has "supervised resume" "teacher lists: reusing"
check "supervised killed and resumed: same student" 0 "$bin" ckpt diff "$tmp/sup/student.h5" "$tmp/sup2/student.h5" --json
has "supervised killed and resumed: same student" '"identical":true'
cmp -s "$tmp/sup/teacher_lists.jsonl" "$tmp/sup2/teacher_lists.jsonl" && echo "ok   same teacher lists" ||
  fail "supervised: the teacher lists differ between two runs"

# Supervised from the teacher's greedy lists: the seed changes nothing.
for seed in 5 6; do
  check "supervised greedy (seed $seed)" 0 "$bin" train distill --config "$tmp/sup.toml" --run "$tmp/greedy$seed" \
    --set distill.teacher_temperature=0 --set distill.best_of=1 --set distill.steps=1 --seed $seed
  has "supervised greedy (seed $seed)" "(greedy)"
done
cmp -s "$tmp/greedy5/teacher_lists.jsonl" "$tmp/greedy6/teacher_lists.jsonl" && echo "ok   greedy lists whatever the seed" ||
  fail "supervised greedy: the teacher lists differ with the seed"
cmp -s "$tmp/greedy5/teacher_lists.jsonl" "$tmp/sup/teacher_lists.jsonl" &&
  fail "supervised greedy: the lists equal the sampled best-of-2 ones" || echo "ok   greedy lists differ from sampled ones"

# The per-reward rule keeps one of the same best-of-2 lists (the same
# samples: every kept list is one of the composite run's candidates, which
# the progress line names); an unknown rule is one line, exit 2.
check "supervised per-reward" 0 "$bin" train distill --config "$tmp/sup.toml" --run "$tmp/pr" \
  --set distill.select=per-reward --set distill.steps=1
has "supervised per-reward" "best of 2 at temperature 1 by per-reward"
[ "$(wc -l <"$tmp/pr/teacher_lists.jsonl")" -eq "$(wc -l <"$tmp/sup/teacher_lists.jsonl")" ] ||
  fail "supervised per-reward: another number of teacher lists"
check "unknown select" 2 "$bin" train distill --config "$tmp/sup.toml" --run "$tmp/e9" --set distill.select=best
has "unknown select" '[distill] select: "best" (known: composite, per-reward)'

# None: the GRPO recipe on the student.
distill_config none full 3 >"$tmp/none.toml"
check "none" 0 "$bin" train distill --config "$tmp/none.toml" --run "$tmp/none"
has "none" "step 2/2"
[ -f "$tmp/none/student.h5" ] || fail "none: no student.h5"

# Bad config: one line, exit 2, before any work.
check "micro teacher" 0 "$bin" model init --preset micro --out "$tmp/micro.h5"
distill_config on-policy full 2 | sed "s|^checkpoint = .*|checkpoint = \"$tmp/micro.h5\"|" >"$tmp/vocab.toml"
check "vocabularies differ" 2 "$bin" train distill --config "$tmp/vocab.toml" --run "$tmp/e"
has "vocabularies differ" "[teacher] checkpoint: the teacher's vocabulary has 2048 ids, the student's 1024"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "vocabularies differ: more than one line" "$out"
distill_config on-policy full 2 | sed "s|^checkpoint = .*|checkpoint = \"$tmp/none.h5\"|" >"$tmp/noteacher.toml"
check "missing teacher" 2 "$bin" train distill --config "$tmp/noteacher.toml" --run "$tmp/f"
has "missing teacher" "[teacher] checkpoint: $tmp/none.h5: no such checkpoint file"
distill_config on-policy kl3 2 >"$tmp/badkl.toml"
check "bad kl" 2 "$bin" train distill --config "$tmp/badkl.toml" --run "$tmp/g"
has "bad kl" '[distill] kl: must be "full" or "sampled"'
distill_config on-policy full 2 | sed '/^\[distill\]/a stepz = 3' >"$tmp/typo.toml"
check "unknown key" 2 "$bin" train distill --config "$tmp/typo.toml" --run "$tmp/h"
has "unknown key" "[distill] stepz: unknown key"
check "greedy best of 2" 2 "$bin" train distill --config "$tmp/sup.toml" --run "$tmp/i" --set distill.teacher_temperature=0
has "greedy best of 2" "[distill] best_of: must be 1 when teacher_temperature is 0: greedy lists are all the same"
finish
