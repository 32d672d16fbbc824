#!/usr/bin/env bash
# The retrieval half from outside: world → index build → index query → eval
# heuristic → eval rankings on a small world; results are reproducible; bad
# input (missing files, malformed rankings) is one line with file:line and a
# non-zero exit.
#   tests/launch/news_retrieval_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
# A JSON number field from the output: field NAME
field() { grep -oE "\"$1\":[0-9.e+-]+" <<<"$out" | head -1 | cut -d: -f2; }

check "world" 0 "$bin" world --out "$tmp/w" --users 400 --news 1500 --seed 4 --quiet
check "index build" 0 "$bin" index build --world "$tmp/w" --out "$tmp/idx" --dim 32 --seed 1
has "index build" "embedder lsa dim 32"
has "index build" "window test: flat"
for f in index.json embedder.h5 articles.jsonl index-all.faiss index-train.faiss index-test.faiss; do
  [ -s "$tmp/idx/$f" ] || fail "index build wrote no $f"
done
check "index build, hnsw, test window only" 0 "$bin" index build --world "$tmp/w" --out "$tmp/idx_hnsw" --kind hnsw --window test --dim 32 --seed 1
has "hnsw" "window test: hnsw"
grep -q '"train"' "$tmp/idx_hnsw/index.json" && fail "a test-only index holds no train window"

# A query made of an indexed title finds that article first.
title=$(head -1 "$tmp/idx/articles.jsonl" | grep -oE '"title":"[^"]*"' | cut -d'"' -f4)
id=$(head -1 "$tmp/idx/articles.jsonl" | grep -oE '"id":"[^"]*"' | cut -d'"' -f4)
check "index query" 0 "$bin" index query --index "$tmp/idx" "$title" -k 5 --json
has "index query" "\"results\":[{\"id\":\"$id\""
check "index query, test window, table" 0 "$bin" index query --index "$tmp/idx" "$title" -k 3 --window test
has "index query table" "rank  score   id"
[ "$(grep -c '^ *[0-9]\+  ' <<<"$out")" -eq 3 ] || fail "index query: want 3 rows" "$out"

check "eval heuristic popular" 0 "$bin" eval heuristic --world "$tmp/w" --method popular --k 5,10 --json --out "$tmp/popular.jsonl"
has "popular" '"segments":{"cold":'
has "popular" '"method":"popular"'
popular_json="$out"
check "eval heuristic recent-searches" 0 "$bin" eval heuristic --world "$tmp/w" --index "$tmp/idx" --method recent-searches --k 5,10 --json --out "$tmp/recent.jsonl"
recent_json="$out"
recall=$(field "recall@10")
awk -v r="$recall" 'BEGIN { exit !(r > 0 && r <= 1) }' || fail "recent-searches recall@10 = $recall, want in (0, 1]" "$out"
[ "$(wc -l <"$tmp/recent.jsonl")" -eq 400 ] || fail "recent-searches: want one ranking per user (400)"

# eval rankings on the written file gives the same numbers as eval heuristic.
check "eval rankings" 0 "$bin" eval rankings --rankings "$tmp/recent.jsonl" --truth "$tmp/w/truth.jsonl" --users "$tmp/w/users.jsonl" --k 5,10 --json
[ "$(sed 's/,"method":"recent-searches"//' <<<"$recent_json")" = "$out" ] || fail "eval rankings differs from eval heuristic" "$recent_json
$out"
check "eval rankings, table" 0 "$bin" eval rankings --rankings "$tmp/popular.jsonl" --truth "$tmp/w/truth.jsonl" --k 5
has "table" "recall@5"
has "table" "users without future clicks excluded"

# Reproducible: the same world, seed and method give the same bytes.
# (on one thread this time: the result must not depend on the thread count)
check "index build again" 0 env OMP_NUM_THREADS=1 "$bin" index build --world "$tmp/w" --out "$tmp/idx2" --dim 32 --seed 1
cmp -s "$tmp/idx/index-all.faiss" "$tmp/idx2/index-all.faiss" || fail "index build is not reproducible"
if command -v h5diff >/dev/null; then  # same numbers (HDF5 stores object times, so not the same bytes)
  h5diff "$tmp/idx/embedder.h5" "$tmp/idx2/embedder.h5" >/dev/null || fail "the fitted embedder is not reproducible"
fi
check "index build hnsw again" 0 "$bin" index build --world "$tmp/w" --out "$tmp/idx_hnsw2" --kind hnsw --window test --dim 32 --seed 1
cmp -s "$tmp/idx_hnsw/index-test.faiss" "$tmp/idx_hnsw2/index-test.faiss" || fail "the HNSW index is not reproducible"
check "recent-searches again" 0 "$bin" eval heuristic --world "$tmp/w" --index "$tmp/idx2" --method recent-searches --k 5,10 --json --out "$tmp/recent2.jsonl"
cmp -s "$tmp/recent.jsonl" "$tmp/recent2.jsonl" || fail "recent-searches rankings are not reproducible"
[ "$out" = "$recent_json" ] || fail "recent-searches metrics are not reproducible"

# Bad input: one line, file and line where it applies, exit 2.
check "missing truth" 2 "$bin" eval rankings --rankings "$tmp/recent.jsonl" --truth "$tmp/nope.jsonl"
has "missing truth" "$tmp/nope.jsonl: cannot read the truth file"
{ head -3 "$tmp/recent.jsonl"; echo '{"user":"u0000000000000001","items":"N1"}'; } >"$tmp/bad.jsonl"
check "malformed rankings line" 2 "$bin" eval rankings --rankings "$tmp/bad.jsonl" --truth "$tmp/w/truth.jsonl"
has "malformed" "$tmp/bad.jsonl:4: \"items\" must be a list of article ids"
{ head -2 "$tmp/recent.jsonl"; echo '{"user": "u1", "items": [}'; } >"$tmp/bad2.jsonl"
check "rankings line not JSON" 2 "$bin" eval rankings --rankings "$tmp/bad2.jsonl" --truth "$tmp/w/truth.jsonl"
has "not JSON" "$tmp/bad2.jsonl:3: not valid JSON"
{ head -2 "$tmp/recent.jsonl"; head -1 "$tmp/recent.jsonl"; } >"$tmp/dup.jsonl"
check "user ranked twice" 2 "$bin" eval rankings --rankings "$tmp/dup.jsonl" --truth "$tmp/w/truth.jsonl"
has "ranked twice" "$tmp/dup.jsonl:3: user"
check "bad --k" 2 "$bin" eval rankings --rankings "$tmp/recent.jsonl" --truth "$tmp/w/truth.jsonl" --k 5,x
has "bad k" "--k: \"5,x\" must be positive integers"
check "index query without an index" 2 "$bin" index query --index "$tmp/none" "text"
has "no index" "$tmp/none/index.json: cannot read"
check "unknown window" 2 "$bin" index query --index "$tmp/idx_hnsw" "text" --window train
has "unknown window" 'no window "train" (this index has: all, test)'
check "recent-searches without index" 2 "$bin" eval heuristic --world "$tmp/w" --method recent-searches
has "no index" "needs --index"
mkdir -p "$tmp/broken" && cp "$tmp/w/split.json" "$tmp/broken/" && head -5 "$tmp/w/news.jsonl" >"$tmp/broken/news.jsonl"
echo '{"id":"X1","title":3}' >>"$tmp/broken/news.jsonl"
check "malformed news" 2 "$bin" index build --world "$tmp/broken" --out "$tmp/idx3"
has "malformed news" "$tmp/broken/news.jsonl:6:"
[ -e "$tmp/idx3/index.json" ] && fail "a failed build left an index.json behind"
mkdir -p "$tmp/empty"
check "world without files" 2 "$bin" index build --world "$tmp/empty" --out "$tmp/idx3"
has "world without files" "$tmp/empty/split.json"
finish
