#!/usr/bin/env bash
# `newsrl train lm` and `newsrl ckpt` from outside: a run killed mid-step
# (SIGKILL, as a crash) and resumed ends bit-identical to an uninterrupted
# one; ckpt ls/diff/verify read the checkpoints; a damaged byte is one line
# naming the dataset; bad input is one line and a non-zero exit; [model]
# recompute = true trains to the same bits.
#   tests/launch/train_ckpt_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
one_line() { [ "$(printf '%s\n' "$out" | wc -l)" -eq 1 ] || fail "$1: want one line" "$out"; }

# 30 documents of token ids below nano's vocabulary of 1024: about 37 windows
# of 32 tokens, so 16 steps of 4 windows cross into a second epoch (step 10)
# and the checkpoint the run resumes from (step 12) lies in it.
for i in $(seq 1 30); do
  printf '['
  for j in $(seq 0 $((20 + i % 40))); do printf '%s%d' "$([ "$j" -gt 0 ] && echo ,)" $(((i * 131 + j * 17) % 1024)); done
  printf ']\n'
done >"$tmp/ids.jsonl"
cat >"$tmp/run.toml" <<TOML
[model]
preset = "nano"
[train]
data = "$tmp/ids.jsonl"
steps = 16
batch = 4
seq = 32
warmup = 3
checkpoint_every = 4
keep_last = 2
log_every = 4
TOML

check "uninterrupted run" 0 "$bin" train lm --config "$tmp/run.toml" --run "$tmp/a"
has "uninterrupted run" "step 16/16"
# [model] recompute = true: the blocks' activations computed again in the backward, the same weights.
sed 's/^preset = "nano"$/preset = "nano"\nrecompute = true/' "$tmp/run.toml" >"$tmp/recompute.toml"
check "recompute run" 0 "$bin" train lm --config "$tmp/recompute.toml" --run "$tmp/r"
grep -qx 'recompute = true' "$tmp/r/config.toml" || fail "config.toml should keep recompute = true" "$(cat "$tmp/r/config.toml")"
check "recompute: the same weights" 0 "$bin" ckpt diff "$tmp/a/checkpoints/step-00000016.h5" \
  "$tmp/r/checkpoints/step-00000016.h5" --json
has "recompute: bit-identical" '"identical":true'
sed 's/^preset = "nano"$/preset = "nano"\nrecompute = "yes"/' "$tmp/run.toml" >"$tmp/bad.toml"
check "recompute not a bool" 2 "$bin" train lm --config "$tmp/bad.toml" --run "$tmp/bad"
has "recompute not a bool" "[model] recompute: should be true or false"
out=$(NEWSRL_KILL_AT_STEP=14 timeout 300 "$bin" train lm --config "$tmp/run.toml" --run "$tmp/b" 2>&1)
rc=$?
[ "$rc" -ne 0 ] && echo "ok   killed in step 14 (exit $rc)" || fail "the kill hook did not kill" "$out"
[ "$(cat "$tmp/b/checkpoints/latest")" = "step-00000012.h5" ] || fail "latest should be step 12 after the kill"
check "resume" 0 "$bin" train lm --run "$tmp/b" --resume
has "resume" "from $tmp/b/checkpoints/step-00000012.h5 (step 12)"
has "resume" "step 16/16"
check "diff after resume" 0 "$bin" ckpt diff "$tmp/a/checkpoints/step-00000016.h5" "$tmp/b/checkpoints/step-00000016.h5" --json
has "bit-identical" '"identical":true'
[ "$(cut -d, -f1-4 "$tmp/a/metrics.jsonl")" = "$(cut -d, -f1-4 "$tmp/b/metrics.jsonl")" ] ||
  fail "metrics.jsonl of the resumed run differs in loss or lr"
[ "$(wc -l <"$tmp/b/metrics.jsonl")" -eq 16 ] || fail "metrics.jsonl should have 16 lines"
ls "$tmp/a/checkpoints"/step-*.h5 | wc -l | grep -qx 2 || fail "keep_last = 2 should leave two checkpoints"

ck="$tmp/a/checkpoints/step-00000016.h5"
check "ls" 0 "$bin" ckpt ls "$ck"
has "ls" "parameters: 312384"
has "ls" "step: 16"
has "ls" "/optimizer/m/model.norm.weight"
check "ls --stats --json" 0 "$bin" ckpt ls "$ck" --stats --json
has "ls --json" '"name":"/model/model.norm.weight"'
has "ls --json" '"nan":0'
check "diff of two steps" 0 "$bin" ckpt diff "$tmp/a/checkpoints/step-00000012.h5" "$ck"
has "diff" "different"
check "verify" 0 "$bin" ckpt verify "$ck"
has "verify" "intact"
if command -v h5ls >/dev/null; then
  check "h5ls reads the layout" 0 h5ls -r "$ck"
  has "h5ls" "/state/global_step"
  has "h5ls" "/optimizer/v/model.embed_tokens.weight Dataset {1024, 64}"
fi

# Damage: one flipped byte inside the embedding's data.
cp "$ck" "$tmp/damaged.h5"
size=$(stat -c %s "$tmp/damaged.h5")
python_free_flip() {  # flips the byte at offset $2 of file $1
  local byte
  byte=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $((255 - byte)))" | dd of="$1" bs=1 seek="$2" count=1 conv=notrunc 2>/dev/null
}
# The embedding is the largest dataset: somewhere in the middle of the file.
python_free_flip "$tmp/damaged.h5" $((size / 2))
check "verify damaged" 1 "$bin" ckpt verify "$tmp/damaged.h5"
has "verify damaged" "is damaged"
one_line "verify damaged"
check "ls --stats on damage" 2 "$bin" ckpt ls "$tmp/damaged.h5" --stats
has "ls --stats damaged" "is damaged"
head -c 1000 "$ck" >"$tmp/truncated.h5"
check "verify truncated" 1 "$bin" ckpt verify "$tmp/truncated.h5"
one_line "verify truncated"

# Bad input.
check "resume without checkpoints" 2 "$bin" train lm --run "$tmp/empty" --resume --data "$tmp/ids.jsonl"
has "resume without" "no checkpoint to resume from"
check "reuse a run folder" 2 "$bin" train lm --config "$tmp/run.toml" --run "$tmp/a"
has "reuse" "add --resume"
printf '[1,2,3]\n[4, "x"]\n' >"$tmp/bad.jsonl"
check "bad data line" 2 "$bin" train lm --run "$tmp/c" --data "$tmp/bad.jsonl"
has "bad data" "bad.jsonl:2: token \"x\""
printf '[train]\nstep = 3\n' >"$tmp/typo.toml"
check "config typo" 2 "$bin" train lm --config "$tmp/typo.toml" --run "$tmp/d" --data "$tmp/ids.jsonl"
has "config typo" "[train] step: unknown key"
check "not a checkpoint" 2 "$bin" ckpt ls "$tmp/ids.jsonl"
one_line "not a checkpoint"

finish
