#!/usr/bin/env bash
# `newsrl run` from outside, on a tiny world: every stage runs into one run
# folder; --resume skips what is done; a stage killed mid-way fails the run
# with one line and --resume finishes it with the same result as an
# uninterrupted run; the same config under mpirun -np 2 gives the same
# eval.json; config mistakes are one line, exit 2, before anything is written.
#   tests/launch/run_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1

cat >"$tmp/tiny.toml" <<'TOML'
[run]
preset = "nano"
[world]
users = 80
news = 400
seed = 3
[tokenizer]
vocab_size = 1024
[clean]
epochs = 1
[prompt]
max_tokens = 256
[sft]
steps = 8
batch = 4
seq = 320
lr = 1e-3
warmup = 2
checkpoint_every = 4
log_every = 4
[grpo]
steps = 3
group = 4
prompts_per_step = 2
max_new_tokens = 24
lr = 1e-4
checkpoint_every = 2
[generate]
max_new_tokens = 24
[eval]
baselines = ["recent-searches", "popular", "labeller"]
TOML

check "run" 0 "$bin" run --config "$tmp/tiny.toml" --out "$tmp/a"
has "run" "eval-baselines done"
has "run" "grpo done"
has "run" "eval-grpo done"
has "run" "report done"
for f in report.md plots/eval_methods.png config.toml stages.json eval.json tokenizer.json sft.jsonl logs/world.log sft/metrics.jsonl; do
  [ -s "$tmp/a/$f" ] || fail "run: $f missing or empty"
done
grep -q '"recall@10"' "$tmp/a/eval.json" || fail "eval.json lacks recall@10" "$(cat "$tmp/a/eval.json")"
for m in grpo sft recent-searches popular labeller; do
  grep -q "\"$m\"" "$tmp/a/eval.json" || fail "eval.json lacks $m"
done
# The labeller baseline sees the run's [prompt]: its users with a list are the warm start's examples.
grep -q "\"labelled\": $(wc -l <"$tmp/a/sft.jsonl")," "$tmp/a/eval.json" ||
  fail "eval.json: the labeller's labelled users differ from sft.jsonl's $(wc -l <"$tmp/a/sft.jsonl") examples" "$(cat "$tmp/a/eval.json")"
grep -q "^| labeller |" "$tmp/a/report.md" || fail "report.md has no labeller row" "$(grep '^|' "$tmp/a/report.md")"
[ -s "$tmp/a/grpo/policy.h5" ] && [ -s "$tmp/a/grpo/metrics.jsonl" ] || fail "grpo/ lacks policy.h5 or metrics.jsonl"
[ "$(grep -c '"done"' "$tmp/a/stages.json")" -ge 11 ] || fail "stages.json: not every stage done" "$(cat "$tmp/a/stages.json")"

check "resume a finished run" 0 "$bin" run --out "$tmp/a" --resume
has "resume a finished run" "done before, skipped"

# Killed inside the warm start (the sft child SIGKILLs itself at step 6),
# then resumed: the same final weights and eval as the uninterrupted run.
check "killed" 137 env NEWSRL_KILL_AT_STEP=6 "$bin" run --config "$tmp/tiny.toml" --out "$tmp/b"
has "killed" "sft FAILED"
has "killed" "--resume continues"
check "resumed" 0 "$bin" run --out "$tmp/b" --resume
has "resumed" "sft done"
check "same weights" 0 "$bin" ckpt diff --json "$tmp/a/sft/checkpoints/step-00000008.h5" "$tmp/b/sft/checkpoints/step-00000008.h5"
has "same weights" '"identical":true'
cmp -s "$tmp/a/eval.json" "$tmp/b/eval.json" || fail "eval.json differs after resume"

check "two ranks" 0 mpirun --oversubscribe -np 2 "$bin" run --config "$tmp/tiny.toml" --out "$tmp/c"
cmp -s "$tmp/a/eval.json" "$tmp/c/eval.json" || fail "eval.json differs under -np 2"

# Mistakes: one line, exit 2, nothing written.
check "unknown table" 2 "$bin" run --config "$tmp/tiny.toml" --out "$tmp/d" --set wrold.seed=2
has "unknown table" "unknown table [wrold]"
check "unknown key" 2 "$bin" run --config "$tmp/tiny.toml" --out "$tmp/d" --set sft.stpes=2
has "unknown key" "[sft] stpes: unknown key"
check "bad override" 2 "$bin" run --config "$tmp/tiny.toml" --out "$tmp/d" --set seed
has "bad override" "expected table.key=value"
check "unknown baseline" 2 "$bin" run --config "$tmp/tiny.toml" --out "$tmp/d" --set 'eval.baselines=["labeler"]'
has "unknown baseline" '[eval] baselines: unknown "labeler" (recent-searches, popular, labeller)'
[ -e "$tmp/d" ] && fail "a config mistake left a run folder behind"
check "existing run" 2 "$bin" run --config "$tmp/tiny.toml" --out "$tmp/a"
has "existing run" "already holds a run"
finish
