#!/usr/bin/env bash
# Generation and evaluation of a policy from outside: a tiny world, a nano
# policy after a few `train sft` steps, then `newsrl generate` under mpirun
# -np 1 and -np 3 (the same lists, rankings and metrics), best-of-N keeping
# the highest composite or by the per-reward rule, `eval policy` agreeing
# with `eval rankings` on its own rankings, and bad input (a missing
# checkpoint, an index of another world, a tokenizer of another vocabulary,
# config mistakes) as one line and exit 2.
#   tests/launch/policy_eval_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"
mpi=(mpirun --oversubscribe --bind-to none)
if [ "$(id -u)" -eq 0 ]; then mpi+=(--allow-run-as-root); fi

check "world" 0 "$bin" world --out "$tmp/world" --users 80 --news 400 --seed 3 --quiet
check "index" 0 "$bin" index build --world "$tmp/world" --out "$tmp/index"
sed -n 's/.*"title":"\([^"]*\)".*/\1/p' "$tmp/world/news.jsonl" >"$tmp/titles.txt"
check "tokenizer" 0 "$bin" tokenizer train --input "$tmp/titles.txt" --vocab-size 1024 --out "$tmp/tok.json"
check "data sft" 0 "$bin" data sft --world "$tmp/world" --index "$tmp/index" --tokenizer "$tmp/tok.json" \
  --out "$tmp/sft.jsonl" --max-tokens 256
printf '[model]\npreset = "nano"\n[train]\nsteps = 60\nbatch = 4\nseq = 320\nlr = 3e-3\nwarmup = 5\ncheckpoint_every = 60\n' \
  >"$tmp/sft.toml"
check "train sft" 0 "$bin" train sft --config "$tmp/sft.toml" --data "$tmp/sft.jsonl" --run "$tmp/sft"
ckpt=$(ls "$tmp"/sft/checkpoints/step-*.h5 | tail -1)
[ -f "$ckpt" ] || fail "no SFT checkpoint"

policy=(--ckpt "$ckpt" --index "$tmp/index" --tokenizer "$tmp/tok.json" --max-tokens 256 --max-new-tokens 96 --seed 5)
base=(--world "$tmp/world" --max-tokens 256 --max-new-tokens 96 --seed 5)
common=(--world "$tmp/world" "${policy[@]}")
for np in 1 3; do
  check "generate -np $np" 0 "${mpi[@]}" -np "$np" "$bin" generate "${common[@]}" --n 4 --batch 6 \
    --out "$tmp/lists-$np.jsonl" --rankings "$tmp/rankings-$np.jsonl" --metrics "$tmp/metrics-$np.json"
  has "generate -np $np" "80 users, 4 lists each (temperature 1)"
done
for f in lists rankings; do
  cmp -s "$tmp/$f-1.jsonl" "$tmp/$f-3.jsonl" || fail "$f differ between -np 1 and -np 3"
done
cmp -s "$tmp/metrics-1.json" "$tmp/metrics-3.json" || fail "metrics differ between -np 1 and -np 3"
[ "$(wc -l <"$tmp/lists-1.jsonl")" -eq 80 ] || fail "lists.jsonl should have 80 lines"
[ "$(wc -l <"$tmp/rankings-1.jsonl")" -eq 80 ] || fail "rankings.jsonl should have 80 lines"
grep -q '"segments":{"cold"\|"cold":' "$tmp/metrics-1.json" || fail "metrics.json lacks the cold segment"

# Best-of-N: the chosen candidate has the highest composite (the first one on
# a tie), and it is the composite reported under "rewards"; with 80 users at
# temperature 1 some user's best is not the first sample.
awk '
  {
    chosen = $0; sub(/.*"chosen":/, "", chosen); sub(/[^0-9].*/, "", chosen)
    reported = $0; sub(/.*"rewards":\{"composite":/, "", reported); sub(/[,}].*/, "", reported)
    list = $0; sub(/.*"composites":\[/, "", list); sub(/\].*/, "", list)
    n = split(list, c, ",")
    if (n != 4) { print "line " NR ": " n " composites, want 4"; bad = 1; next }
    best = 1
    for (i = 2; i <= n; i++) if (c[i] + 0 > c[best] + 0) best = i
    if (best - 1 != chosen + 0) { print "line " NR ": chose " chosen ", the best is " best - 1; bad = 1 }
    if (c[chosen + 1] + 0 != reported + 0) { print "line " NR ": rewards.composite " reported " is not candidate " chosen "s"; bad = 1 }
    if (chosen + 0 > 0) later = 1
  }
  END { if (!later) print "every user kept the first sample"; exit bad || !later }
' "$tmp/lists-1.jsonl" || fail "best-of-N did not keep the highest composite"
grep -q '"n":4,"parsed":' "$tmp/lists-1.jsonl" || fail "lists.jsonl lines lack n and parsed"

# --select per-reward: the same samples (every candidate's composite as
# above), another rule for keeping one, so some user keeps another list; the
# same under -np 1 and -np 3 (the scale is the batch's, actors/best_of_n.h).
for np in 1 3; do
  check "generate --select per-reward -np $np" 0 "${mpi[@]}" -np "$np" "$bin" generate "${common[@]}" --n 4 --batch 6 \
    --select per-reward --out "$tmp/lists-pr$np.jsonl"
done
cmp -s "$tmp/lists-pr1.jsonl" "$tmp/lists-pr3.jsonl" || fail "--select per-reward: lists differ between -np 1 and -np 3"
[ "$(sed 's/.*"composites"://' "$tmp/lists-1.jsonl")" = "$(sed 's/.*"composites"://' "$tmp/lists-pr1.jsonl")" ] ||
  fail "--select per-reward sampled other lists"
[ "$(sed 's/.*"chosen":\([0-9]*\).*/\1/' "$tmp/lists-1.jsonl")" != "$(sed 's/.*"chosen":\([0-9]*\).*/\1/' "$tmp/lists-pr1.jsonl")" ] ||
  fail "--select per-reward kept the same list as the composite for every user"

# A user whose kept list did not parse is ranked by the popular list.
check "popular" 0 "$bin" eval heuristic --world "$tmp/world" --method popular --out "$tmp/popular.jsonl" --json
line=$(grep -n '"parsed":false' "$tmp/lists-1.jsonl" | head -1 | cut -d: -f1)
if [ -n "$line" ]; then
  [ "$(sed -n "${line}p" "$tmp/rankings-1.jsonl" | sed 's/.*"items"://')" = "$(head -1 "$tmp/popular.jsonl" | sed 's/.*"items"://')" ] ||
    fail "the fallback ranking (line $line) is not the popular list"
fi

# --salvage: the same samples; a user whose kept list did not parse but
# holds readable queries is ranked by them, not by the fallback.
check "generate --salvage" 0 "$bin" generate "${common[@]}" --n 4 --batch 6 --salvage \
  --out "$tmp/lists-s.jsonl" --rankings "$tmp/rankings-s.jsonl"
has "generate --salvage" "users ranked by the queries salvaged from theirs"
line=$(grep -n '"salvaged":true' "$tmp/lists-s.jsonl" | head -1 | cut -d: -f1)
[ -n "$line" ] || fail "no list was salvaged (the test needs a nano policy that breaks the grammar)"
sed -n "${line}p" "$tmp/lists-s.jsonl" | grep -q '"queries":\["[^"]' || fail "salvaged line $line has no queries"
[ "$(sed -n "${line}p" "$tmp/lists-1.jsonl" | sed 's/"queries":\[[^]]*\]//; s/,"fallback":"popular"//')" = \
  "$(sed -n "${line}p" "$tmp/lists-s.jsonl" | sed 's/"queries":\[[^]]*\]//; s/,"salvaged":true//')" ] ||
  fail "salvage changed more than the kept queries of line $line"
[ "$(sed -n "${line}p" "$tmp/rankings-s.jsonl")" != "$(sed -n "${line}p" "$tmp/rankings-1.jsonl")" ] ||
  fail "the salvaged user (line $line) is still ranked by the fallback"

# eval policy (greedy): its metrics are those `eval rankings --users` gives
# for the rankings it wrote.
check "eval policy" 0 "${mpi[@]}" -np 2 "$bin" eval policy "${common[@]}" --out "$tmp/eval" --json
has "eval policy" '"method":"policy"'
has "eval policy" '"n":1,'
for f in lists.jsonl rankings.jsonl metrics.json config.toml; do
  [ -s "$tmp/eval/$f" ] || fail "eval policy --out lacks $f"
done
check "eval rankings" 0 "$bin" eval rankings --rankings "$tmp/eval/rankings.jsonl" --truth "$tmp/world/truth.jsonl" \
  --users "$tmp/world/users.jsonl" --json
scores() { tr -d ' \n' | sed 's/"segments".*//; s/.*"recall@5"/"recall@5"/'; }
[ "$(scores <<<"$out")" = "$(scores <"$tmp/eval/metrics.json")" ] ||
  fail "eval policy and eval rankings disagree" "$(scores <<<"$out") vs $(scores <"$tmp/eval/metrics.json")"
check "eval policy, table" 0 "$bin" eval policy "${common[@]}" --max-users 20
has "eval policy, table" "20 users, 1 list each (temperature 0)"
has "eval policy, table" "warm"

# A user with no signal left after cleaning (every event dropped by the
# annotator) gets no list and the popular ranking, in its place in the files.
cp -r "$tmp/world" "$tmp/world-e"
sed -i '1s/"annotator":true/"annotator":false/g' "$tmp/world-e/users.jsonl"
check "no signals" 0 "$bin" eval policy "${policy[@]}" --world "$tmp/world-e" --max-users 6 --out "$tmp/eval-e" --json
has "no signals" '"empty_signals":1,'
head -1 "$tmp/eval-e/lists.jsonl" | grep -q '"n":0,"parsed":false,"error":"no signal left after cleaning","fallback":"popular"' ||
  fail "the user without signals is not the first line of lists.jsonl" "$(head -1 "$tmp/eval-e/lists.jsonl")"
[ "$(head -1 "$tmp/eval-e/rankings.jsonl" | sed 's/.*"items"://')" = "$(head -1 "$tmp/popular.jsonl" | sed 's/.*"items"://')" ] ||
  fail "the user without signals is not ranked by the popular list"
[ "$(wc -l <"$tmp/eval-e/lists.jsonl")" -eq 6 ] || fail "lists.jsonl of 6 users should have 6 lines"
[ "$(sed -n 2p "$tmp/eval-e/lists.jsonl")" = "$(sed -n 2p "$tmp/eval/lists.jsonl")" ] ||
  fail "the second user's list changed when the first lost its signals"

# Bad input: one line, exit 2.
check "missing checkpoint" 2 "$bin" generate "${base[@]}" --ckpt "$tmp/none.h5" --index "$tmp/index" --tokenizer "$tmp/tok.json" --out "$tmp/x.jsonl"
has "missing checkpoint" "none.h5: no such checkpoint file"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "missing checkpoint: more than one line" "$out"
check "other world" 0 "$bin" world --out "$tmp/world2" --users 20 --news 300 --seed 4 --quiet
check "other index" 0 "$bin" index build --world "$tmp/world2" --out "$tmp/index2"
check "index of another world" 2 "$bin" generate "${base[@]}" --ckpt "$ckpt" --index "$tmp/index2" --tokenizer "$tmp/tok.json" --out "$tmp/x.jsonl"
has "index of another world" "was built from another world than $tmp/world"
check "big tokenizer" 0 "$bin" tokenizer train --input "$tmp/titles.txt" --vocab-size 2048 --out "$tmp/tok2.json"
check "tokenizer of another vocabulary" 2 "$bin" generate "${base[@]}" --ckpt "$ckpt" --index "$tmp/index" --tokenizer "$tmp/tok2.json" \
  --out "$tmp/x.jsonl"
has "tokenizer of another vocabulary" "has a vocabulary of 1024"
printf '[generate]\nn = 2\ntemprature = 1.0\n' >"$tmp/typo.toml"
check "unknown key" 2 "${mpi[@]}" -np 2 "$bin" eval policy "${common[@]}" --config "$tmp/typo.toml"
has "unknown key" "[generate] temprature"
[ "$(grep -c newsrl: <<<"$out")" -eq 1 ] || fail "unknown key: not one line under mpirun" "$out"
printf '[generate]\nn = 4\ntemperature = 0.0\n' >"$tmp/greedy.toml"
check "greedy best-of-4" 2 "$bin" eval policy "${common[@]}" --config "$tmp/greedy.toml"
has "greedy best-of-4" "samples the same list n times"
printf '[generate]\nn = 4\nselect = "ret"\n' >"$tmp/select.toml"
check "unknown select" 2 "$bin" eval policy "${common[@]}" --config "$tmp/select.toml"
has "unknown select" '[generate] select: "ret" (known: composite, per-reward)'
check "missing output folder" 2 "$bin" generate "${common[@]}" --out "$tmp/no/lists.jsonl"
has "missing output folder" "the folder $tmp/no does not exist"
printf '[prompt]\nmax_tokns = 256\n' >"$tmp/prompt.toml"
check "[prompt] typo" 2 "$bin" eval policy "${common[@]}" --config "$tmp/prompt.toml"
has "[prompt] typo" "[prompt] max_tokns"
[ ! -e "$tmp/x.jsonl" ] || fail "a failed run left an output behind"
finish
