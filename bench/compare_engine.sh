#!/usr/bin/env bash
# Side-by-side CPU benchmark of newsrl's C++ transformer engine against PyTorch.
# For each preset and mode it runs `newsrl model bench` and bench/engine_torch.py
# (the same Qwen2 model by hand in torch) on the same shapes and thread count,
# and prints one JSON line per pair:
#   {"mode":..,"preset":..,"newsrl_tokens_per_s":..,"pytorch_tokens_per_s":..,"ratio":..,"threads":..}
# ratio = newsrl / pytorch (above 1: newsrl is faster). Train counts B*T tokens a
# step (forward + backward + AdamW); generate counts generated tokens.
#
#   bench/compare_engine.sh                      # micro, mini, small; threads = nproc
#   PRESETS=micro THREADS=2 bench/compare_engine.sh
#   ROUNDS=5 PRESETS=small bench/compare_engine.sh   # 5 pairs each, then the median ratio
#
# Knobs (env): PRESETS, MODES ("train generate"), THREADS, ROUNDS (1; with more, every
# pair runs that many times, one engine right after the other, and a last line per preset
# and mode gives the median ratio: the VM's speed drifts by 20-30% within minutes), TRAIN_BATCH/TRAIN_SEQ/
# TRAIN_STEPS (8/128/5), GEN_BATCH/GEN_SEQ/GEN_STEPS (8/64/5), NEWSRL (build/bin/newsrl),
# WEIGHTS (float32 | bfloat16: generation's weights, on both engines; PyTorch
# then computes in bf16, newsrl keeps float32 activations and sums).
# Threads: both engines get OMP_NUM_THREADS = THREADS. newsrl links OpenBLAS's
# OpenMP build, one thread pool. Debian's PyTorch uses OpenBLAS's pthreads build
# beside its OpenMP pool; idle OpenMP threads then spin against OpenBLAS's, so
# PyTorch runs with OPENBLAS_NUM_THREADS = THREADS and OMP_WAIT_POLICY=PASSIVE,
# its best setting measured here (engine_torch.py sets them too when run alone).
set -euo pipefail
cd "$(dirname "$0")/.."

NEWSRL=${NEWSRL:-build/bin/newsrl}
PY=/usr/bin/python3
PRESETS=${PRESETS:-micro mini small}
MODES=${MODES:-train generate}
THREADS=${THREADS:-$(nproc)}
ROUNDS=${ROUNDS:-1}

if [[ ! -x $NEWSRL ]]; then
  echo "compare_engine.sh: $NEWSRL is missing; build it first (cmake --preset ... && cmake --build build)" >&2
  exit 1
fi
help=$("$NEWSRL" model bench --help 2>&1 || true)
if ! grep -q -- --preset <<<"$help"; then
  echo "compare_engine.sh: $NEWSRL has no 'model bench' subcommand yet; rebuild it from a tree that has one" >&2
  exit 1
fi
newsrl_threads=()
if grep -q -- --threads <<<"$help"; then newsrl_threads=(--threads "$THREADS"); fi

export OMP_NUM_THREADS=$THREADS
torch_env=(OPENBLAS_NUM_THREADS="${OPENBLAS_NUM_THREADS:-$THREADS}" OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-PASSIVE}")

pairs=$(mktemp)
trap 'rm -f "$pairs"' EXIT
for ((round = 1; round <= ROUNDS; round++)); do
for preset in $PRESETS; do
  for mode in $MODES; do
    if [[ $mode == train ]]; then
      shape=(--batch "${TRAIN_BATCH:-8}" --seq "${TRAIN_SEQ:-128}" --steps "${TRAIN_STEPS:-5}")
    else
      shape=(--batch "${GEN_BATCH:-8}" --seq "${GEN_SEQ:-64}" --steps "${GEN_STEPS:-5}" --weights "${WEIGHTS:-float32}")
    fi
    args=(--preset "$preset" "${shape[@]}" --mode "$mode")
    newsrl_out=$("$NEWSRL" model bench "${args[@]}" "${newsrl_threads[@]}" --json)
    torch_out=$(env "${torch_env[@]}" "$PY" bench/engine_torch.py "${args[@]}" --threads "$THREADS")
    "$PY" - "$mode" "$preset" "$THREADS" "$newsrl_out" "$torch_out" <<'EOF'
import json, sys
mode, preset, threads, outputs = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
def last_json(text, who):  # the last line that is a JSON object with tokens_per_s
    for line in reversed(text.splitlines()):
        try:
            r = json.loads(line)
        except ValueError:
            continue
        if isinstance(r, dict) and "tokens_per_s" in r:
            return r
    sys.exit(f"compare_engine.sh: no JSON result line from {who}:\n{text}")
n, t = last_json(outputs[0], "newsrl"), last_json(outputs[1], "engine_torch.py")
for who, r in (("newsrl", n), ("pytorch", t)):
    if r.get("threads", threads) != threads:
        print(f"compare_engine.sh: warning: {who} ran {r['threads']} threads, not {threads}", file=sys.stderr)
print(json.dumps({"mode": mode, "preset": preset, "weights": n.get("weights", "float32"), "newsrl_tokens_per_s": round(n["tokens_per_s"], 1),
                  "pytorch_tokens_per_s": t["tokens_per_s"],
                  "ratio": round(n["tokens_per_s"] / t["tokens_per_s"], 3), "threads": threads},
                 separators=(",", ":")))
EOF
  done
done
done | tee "$pairs"
if ((ROUNDS > 1)); then
  "$PY" - "$pairs" <<'EOF'
import json, statistics, sys
runs = {}
for line in open(sys.argv[1]):
    r = json.loads(line)
    runs.setdefault((r["mode"], r["preset"], r["weights"]), []).append(r)
for (mode, preset, weights), rs in runs.items():
    ratios = sorted(r["ratio"] for r in rs)
    print(json.dumps({"mode": mode, "preset": preset, "weights": weights, "rounds": len(rs),
                      "median_ratio": round(statistics.median(ratios), 3), "min_ratio": ratios[0], "max_ratio": ratios[-1],
                      "median_newsrl_tokens_per_s": round(statistics.median(r["newsrl_tokens_per_s"] for r in rs), 1),
                      "median_pytorch_tokens_per_s": round(statistics.median(r["pytorch_tokens_per_s"] for r in rs), 1)},
                     separators=(",", ":")))
EOF
fi
