#!/usr/bin/env bash
# `newsrl report` from outside: a run folder with only eval.json gets its
# report.md and five plots; a folder without eval.json is one line, exit 2.
#   tests/launch/report_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"

mkdir -p "$tmp/run"
echo '{"methods": {"grpo": {"recall@5": 0.25, "recall@10": 0.3, "ndcg@5": 0.2, "ndcg@10": 0.22, "mrr": 0.4, "users": 12}}}' \
  >"$tmp/run/eval.json"
check "report" 0 "$bin" report --run "$tmp/run"
has "report" "wrote $tmp/run/report.md"
has "report" "wrote $tmp/run/plots/reward_composite.png"
grep -qF "| grpo | 12 | 0.2500 | 0.3000 | 0.2000 | 0.2200 | 0.4000 |" "$tmp/run/report.md" ||
  fail "report.md lacks grpo's row" "$(cat "$tmp/run/report.md")"
grep -qF "grpo/metrics.jsonl is absent" "$tmp/run/report.md" || fail "report.md does not say GRPO metrics are absent"
for p in eval_methods reward_composite rewards grpo_training sft_loss; do
  [ "$(head -c 4 "$tmp/run/plots/$p.png" | tail -c 3)" = "PNG" ] || fail "plots/$p.png is not a PNG"
done

mkdir -p "$tmp/empty"
check "no eval.json" 2 "$bin" report --run "$tmp/empty"
has "no eval.json" "newsrl: $tmp/empty/eval.json: not found"
[ "$(wc -l <<<"$out")" -eq 1 ] || fail "no eval.json: want one line" "$out"
[ -e "$tmp/empty/report.md" ] && fail "a report was written without eval.json"

finish
