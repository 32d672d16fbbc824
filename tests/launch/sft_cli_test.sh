#!/usr/bin/env bash
# The warm start from outside: a small world, its index, a tokenizer trained
# on its titles, `data sft` examples (and the labeller's lists as a recall
# path: `eval heuristic --method labeller`), and `train sft` — whose loss falls, and
# which, killed mid-step and resumed, ends bit-identical to an uninterrupted
# run; bad input is one line.
#   tests/launch/sft_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"

check "world" 0 "$bin" world --out "$tmp/world" --users 80 --news 400 --seed 3 --quiet
check "index" 0 "$bin" index build --world "$tmp/world" --out "$tmp/index"
sed -n 's/.*"title":"\([^"]*\)".*/\1/p' "$tmp/world/news.jsonl" >"$tmp/titles.txt"
check "tokenizer" 0 "$bin" tokenizer train --input "$tmp/titles.txt" --vocab-size 1024 --out "$tmp/tok.json"
check "data sft" 0 "$bin" data sft --world "$tmp/world" --index "$tmp/index" --tokenizer "$tmp/tok.json" \
  --out "$tmp/sft.jsonl" --max-tokens 256
has "data sft" "examples from 80 users"
grep -q '"prompt":\[' "$tmp/sft.jsonl" && grep -q '"target":\[' "$tmp/sft.jsonl" || fail "sft.jsonl lacks prompt/target"

# The labeller as a recall path: the targets above, as queries to the test
# week. Its users with a list are exactly the examples; one ranking per user;
# the [prompt] of a config gives what the same flags give.
check "eval heuristic labeller" 0 "$bin" eval heuristic --world "$tmp/world" --index "$tmp/index" --method labeller \
  --tokenizer "$tmp/tok.json" --max-tokens 256 --json --out "$tmp/labeller.jsonl"
has "labeller" "\"method\":\"labeller\",\"labeller\":{\"users\":80,\"labelled\":$(wc -l <"$tmp/sft.jsonl"),"
[ "$(wc -l <"$tmp/labeller.jsonl")" -eq 80 ] || fail "labeller: want one ranking per user (80)"
labeller_json="$out"
printf '[prompt]\nmax_tokens = 256\n' >"$tmp/prompt.toml"
check "labeller, [prompt] from a config" 0 "$bin" eval heuristic --world "$tmp/world" --index "$tmp/index" \
  --method labeller --tokenizer "$tmp/tok.json" --config "$tmp/prompt.toml" --json --out "$tmp/labeller2.jsonl"
[ "$out" = "$labeller_json" ] && cmp -s "$tmp/labeller.jsonl" "$tmp/labeller2.jsonl" ||
  fail "labeller: --config [prompt] max_tokens = 256 differs from --max-tokens 256"
check "labeller without tokenizer" 2 "$bin" eval heuristic --world "$tmp/world" --index "$tmp/index" --method labeller
has "labeller without tokenizer" "newsrl: --method labeller needs --tokenizer"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "labeller without tokenizer: want one line" "$out"
printf '[prompt]\nmax_tokns = 256\n' >"$tmp/typo.toml"
check "labeller, bad config key" 2 "$bin" eval heuristic --world "$tmp/world" --index "$tmp/index" \
  --method labeller --tokenizer "$tmp/tok.json" --config "$tmp/typo.toml"
has "labeller, bad config key" "max_tokns"

cat >"$tmp/run.toml" <<TOML
[model]
preset = "nano"
[train]
data = "$tmp/sft.jsonl"
steps = 12
batch = 4
seq = 320
lr = 1e-3
warmup = 2
checkpoint_every = 4
log_every = 4
TOML
check "train sft" 0 "$bin" train sft --config "$tmp/run.toml" --run "$tmp/a"
has "train sft" "step 12/12"
first=$(head -1 "$tmp/a/metrics.jsonl" | sed 's/.*"loss":\([0-9.]*\).*/\1/')
last=$(tail -1 "$tmp/a/metrics.jsonl" | sed 's/.*"loss":\([0-9.]*\).*/\1/')
awk -v a="$first" -v b="$last" 'BEGIN { exit !(b < a - 0.3) }' || fail "the loss did not fall: $first -> $last"
out=$(NEWSRL_KILL_AT_STEP=10 timeout 300 "$bin" train sft --config "$tmp/run.toml" --run "$tmp/b" 2>&1)
[ $? -ne 0 ] && echo "ok   killed in step 10" || fail "the kill hook did not kill" "$out"
check "resume sft" 0 "$bin" train sft --run "$tmp/b" --resume
check "bit-identical" 0 "$bin" ckpt diff "$tmp/a/checkpoints/step-00000012.h5" "$tmp/b/checkpoints/step-00000012.h5" --json
has "bit-identical" '"identical":true'

printf '[1,2,3]\n' >"$tmp/stream.jsonl"
check "sft needs examples" 2 "$bin" train sft --preset nano --data "$tmp/stream.jsonl" --run "$tmp/c"
has "sft needs examples" "train sft needs {\"prompt\""
printf '{"prompt":[1,2],"target":[3]}\n{"prompt":[1]}\n' >"$tmp/bad.jsonl"
check "example without target" 2 "$bin" train sft --preset nano --data "$tmp/bad.jsonl" --run "$tmp/d"
has "example without target" "bad.jsonl:2: an SFT example needs"
finish
