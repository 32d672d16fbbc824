#!/usr/bin/env bash
# `newsrl world`, `newsrl data check` and `newsrl import-mind` from outside:
# a world from a TOML config passes the check and is reproducible; every kind
# of broken file gets FILE:LINE and a non-zero exit; MIND imports with hashed ids.
#   tests/launch/news_data_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
fixtures="$(cd "$(dirname "$0")/../news/fixtures" && pwd)"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"

# A world from a config, with command-line overrides.
cat >"$tmp/world.toml" <<'TOML'
[world]
users = 50
news = 800
seed = 11
noise_rate = 0.2
TOML
check "world from a config" 0 "$bin" world --config "$tmp/world.toml" --users 300 --out "$tmp/w1"
has "world" "wrote $tmp/w1: 300 users, 800 news"
for f in news.jsonl users.jsonl split.json truth.jsonl interests.jsonl stats.json; do
  [ -s "$tmp/w1/$f" ] || fail "world wrote no $f"
done
grep -q '"noise_rate": 0.2' "$tmp/w1/stats.json" || fail "stats.json lacks the resolved config" "$(cat "$tmp/w1/stats.json")"
ls "$tmp/w1" | grep -q '\.tmp$' && fail "temporary files left behind" "$(ls "$tmp/w1")"
check "data check passes the world" 0 "$bin" data check "$tmp/w1"
has "data check" "$tmp/w1: ok"
has "data check" "users 300, news 800"
check "data check --json" 0 "$bin" data check "$tmp/w1" --json
has "data check --json" '"ok":true'
has "data check --json" '"users":300'
check "same seed again" 0 "$bin" world --config "$tmp/world.toml" --users 300 --out "$tmp/w2" --quiet
for f in news.jsonl users.jsonl truth.jsonl interests.jsonl split.json stats.json; do
  cmp -s "$tmp/w1/$f" "$tmp/w2/$f" || fail "same seed, different $f"
done
check "another seed" 0 "$bin" world --config "$tmp/world.toml" --users 300 --seed 12 --out "$tmp/w3"
cmp -s "$tmp/w1/users.jsonl" "$tmp/w3/users.jsonl" && fail "seeds 11 and 12 gave the same users"

# Config mistakes: one line naming the file, line and key; exit 2.
printf '[world]\nusers = 10\nnoise = 0.3\n' >"$tmp/bad.toml"
check "unknown [world] key" 2 "$bin" world --config "$tmp/bad.toml" --out "$tmp/x"
has "unknown key" "bad.toml line 3: [world] noise: unknown key (known: users, news, seed"
# Every key the command knows is documented in docs/world.md's table.
docs="$(dirname "$0")/../../docs/world.md"
keys=$(sed -n 's/.*(known: \(.*\))$/\1/p' <<<"$out" | tr -d ',')
[ -n "$keys" ] || fail "could not read the known keys" "$out"
for k in $keys; do grep -qF "| \`$k\` |" "$docs" || fail "docs/world.md does not document [world] $k"; done
printf '[world]\nnoise_rate = "lots"\n' >"$tmp/bad2.toml"
check "wrong type" 2 "$bin" world --config "$tmp/bad2.toml" --out "$tmp/x"
has "wrong type" "bad2.toml line 2: [world] noise_rate: must be a number"
printf '[world]\ncold_share = 1.5\n' >"$tmp/bad3.toml"
check "value out of range" 2 "$bin" world --config "$tmp/bad3.toml" --out "$tmp/x"
has "value out of range" "bad3.toml: [world] cold_share: must be 0..1"
[ -e "$tmp/x" ] && fail "a refused config still wrote output"

cat >"$tmp/tax.json" <<'JSON'
{"categories":[{"name":"science","weight":1,"subtopics":[
 {"name":"astronomy","label":"astronomy","terms":["comet","nebula"],"people":["Vera"],"orgs":["Observatory"],"places":["Chile"]},
 {"name":"geology","label":"geology","terms":["volcano","fault line"],"people":["Inge"],"orgs":["Survey"],"places":["Iceland"]}]}]}
JSON
check "world with --taxonomy" 0 "$bin" world --users 40 --news 100 --taxonomy "$tmp/tax.json" --out "$tmp/wt" --quiet
grep -q '"subcategory":"geology"' "$tmp/wt/news.jsonl" || fail "--taxonomy not used" "$(head -2 "$tmp/wt/news.jsonl")"
check "its data check" 0 "$bin" data check "$tmp/wt"
echo '{"categories":[{"name":"x","weight":1,"subtopics":[{"name":"y"}]}]}' >"$tmp/badtax.json"
check "a bad taxonomy" 2 "$bin" world --users 5 --news 20 --taxonomy "$tmp/badtax.json" --out "$tmp/wbt"
has "a bad taxonomy" "badtax.json: categories[0].subtopics[0].label must be a non-empty string"

touch "$tmp/a-file"
check "world into a file" 2 "$bin" world --users 10 --news 20 --out "$tmp/a-file" --quiet
has "world into a file" "newsrl: $tmp/a-file: cannot create the folder"
check "import-mind into a file" 2 "$bin" import-mind --news "$fixtures/mind/news.tsv" --behaviors "$fixtures/mind/behaviors.tsv" --out "$tmp/a-file" --salt s
has "import-mind into a file" "newsrl: $tmp/a-file: cannot create the folder"

# Broken datasets: every problem with FILE:LINE, exit 1.
cp -r "$fixtures/tiny_dataset" "$tmp/d"
check "the fixture dataset" 0 "$bin" data check "$tmp/d"
printf '{"id":"N9","title":"x"\n' >>"$tmp/d/news.jsonl"
printf '{"user":"u00000000000000c3","events":[{"domain":"news","time":"2026-10-05T00:00:00Z","news":"N404"}]}\n' >>"$tmp/d/users.jsonl"
printf '{"user":"u00000000000000d4","events":[{"domain":"search","time":"2027-01-01T00:00:00Z","text":"late"}]}\n' >>"$tmp/d/users.jsonl"
printf '{"user":"u00000000000000e5","events":[{"domain":"search","time":"2026-10-05T00:00:00Z","text":"caf\xc3"}]}\n' >>"$tmp/d/users.jsonl"
printf '{"user":"u00000000000000f6","events":[{"domain":"search","time":"2026-10-05T00:00:00Z"}]}\n' >>"$tmp/d/users.jsonl"
head -c 3000 /dev/zero | tr '\0' 'x' >>"$tmp/d/users.jsonl"; echo >>"$tmp/d/users.jsonl"
check "broken dataset" 1 "$bin" data check "$tmp/d" --max-line-bytes 1000
has "malformed JSON" "$tmp/d/news.jsonl:5: malformed JSON"
has "unknown news id" "$tmp/d/users.jsonl:3: user u00000000000000c3 events[0]: unknown news id \"N404\""
has "time outside" "$tmp/d/users.jsonl:4: user u00000000000000d4 events[0]: time 2027-01-01T00:00:00Z is outside the train window"
has "invalid UTF-8" "$tmp/d/users.jsonl:5: invalid UTF-8"
has "missing field" "$tmp/d/users.jsonl:6: events[0]: missing field \"text\""
has "oversized line" "$tmp/d/users.jsonl:7: line longer than the limit of 1000 bytes"
has "summary" "$tmp/d: 6 problems"
check "listing capped" 1 "$bin" data check "$tmp/d" --max-line-bytes 1000 --max-errors 2
has "listing capped" "... and 4 more problems"
check "not a folder" 1 "$bin" data check "$tmp/nowhere"
has "not a folder" "$tmp/nowhere: not a folder"

# MIND.
check "import-mind" 0 "$bin" import-mind --news "$fixtures/mind/news.tsv" --behaviors "$fixtures/mind/behaviors.tsv" --out "$tmp/m" --salt s3cret
has "import-mind" "wrote $tmp/m: 3 users, 7 news events"
has "import-mind missing ids" "2 news ids missing from"
grep -q 'U100\|U200\|U300' "$tmp/m/users.jsonl" "$tmp/m/truth.jsonl" && fail "raw MIND user ids written"
check "import-mind output passes the check" 0 "$bin" data check "$tmp/m"
check "import-mind bad rows" 1 "$bin" import-mind --news "$fixtures/mind/news_bad.tsv" --behaviors "$fixtures/mind/behaviors_bad.tsv" --out "$tmp/mb" --salt s
has "bad rows" "behaviors_bad.tsv:4: time \"13/45/2019 1:05:00 PM\" is not like"
has "bad rows" "nothing written"
[ -e "$tmp/mb/users.jsonl" ] && fail "bad rows still wrote users.jsonl"
check "import-mind --skip-bad-rows" 0 "$bin" import-mind --news "$fixtures/mind/news_bad.tsv" --behaviors "$fixtures/mind/behaviors_bad.tsv" --out "$tmp/mb" --salt s --skip-bad-rows
has "skip" "6 malformed rows skipped"

finish
