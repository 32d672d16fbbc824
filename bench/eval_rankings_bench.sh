#!/usr/bin/env bash
# Times `newsrl eval rankings` on a synthetic 500k-user case (rankings of 20
# items, 1-10 future clicks, users.jsonl with 0-8 events for the segments).
# Prints wall and CPU seconds of three runs (the VM is shared: CPU time is the
# steadier number).
#   bench/eval_rankings_bench.sh [BUILD_BIN_DIR] [USERS] [DATA_DIR]
# DATA_DIR keeps the generated files for another run (made when missing).
set -euo pipefail
bin="${1:-build/bin}/newsrl"
users="${2:-500000}"
if [ -n "${3:-}" ]; then
  tmp="$3"
  mkdir -p "$tmp"
else
  tmp=$(mktemp -d)
  trap 'rm -rf "$tmp"' EXIT
fi
[ -s "$tmp/users.jsonl" ] || /usr/bin/python3 - "$tmp" "$users" <<'PY'
import json, random, sys
out, n = sys.argv[1], int(sys.argv[2])
rng = random.Random(1)
news = ["N%d" % i for i in range(200000)]
with open(out + "/rankings.jsonl", "w") as r, open(out + "/truth.jsonl", "w") as t, open(out + "/users.jsonl", "w") as u:
    for i in range(n):
        user = "u%016x" % i
        clicks = rng.sample(news[:2000], rng.randint(1, 10))
        ranked = [rng.choice(news[:2000]) for _ in range(20)]
        r.write(json.dumps({"user": user, "items": ranked}) + "\n")
        t.write(json.dumps({"user": user, "items": clicks}) + "\n")
        events = [{"domain": "news", "time": "2026-10-01T00:00:%02dZ" % e, "news": rng.choice(news)} for e in range(rng.randint(0, 8))]
        u.write(json.dumps({"user": user, "events": events}) + "\n")
PY
ls -l "$tmp"
for run in 1 2 3; do
  /usr/bin/time -f "run $run: %e s wall, %U s user + %S s system CPU, %M KiB max RSS" "$bin" eval rankings --rankings "$tmp/rankings.jsonl" \
    --truth "$tmp/truth.jsonl" --users "$tmp/users.jsonl" --k 5,10 --json >"$tmp/out.json"
done
cat "$tmp/out.json"
