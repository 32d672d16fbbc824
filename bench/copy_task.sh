#!/bin/bash
# Does a micro policy learn to copy from its prompt, and how soon? A synthetic
# task: 30 random tokens with a marker at a random place; the target is the 3
# tokens after the marker. newsrl's `train sft` and its PyTorch twin
# (bench/copy_task_torch.py) train on the same data with the same recipe,
# side by side; the no-copy floor of the loss is 0.75 x ln(700) = 4.91.
# Usage: bench/copy_task.sh [STEPS] [OUT]   (docs/results.md)
set -euo pipefail
STEPS=${1:-300}
OUT=${2:-$(mktemp -d)}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mkdir -p "$OUT"
python3 - "$OUT/copy.jsonl" <<'PY'
import json, random, sys
r = random.Random(0)
with open(sys.argv[1], "w") as f:
    for _ in range(4000):
        toks = [r.randrange(300, 1000) for _ in range(30)]
        pos = r.randrange(0, 26)
        f.write(json.dumps({"prompt": [2046] + toks[:pos] + [10] + toks[pos:], "target": toks[pos:pos + 3] + [2047]}) + "\n")
PY
cat > "$OUT/sft.toml" <<TOML
[model]
preset = "micro"
[train]
data = "$OUT/copy.jsonl"
steps = $STEPS
batch = 16
seq = 64
lr = 2e-3
min_lr = 2e-4
warmup = 20
checkpoint_every = $STEPS
log_every = 30
TOML
"$ROOT/build/bin/newsrl" train sft --config "$OUT/sft.toml" --run "$OUT/newsrl" > "$OUT/newsrl.log" 2>&1
echo "newsrl: step, loss"
python3 -c "
import json, sys
for l in open(sys.argv[1]):
    d = json.loads(l)
    if d['step'] % 30 == 0: print(d['step'], round(d['loss'], 3))" "$OUT/newsrl/metrics.jsonl"
echo "pytorch: step, loss"
/usr/bin/python3 "$ROOT/bench/copy_task_torch.py" "$OUT/copy.jsonl" "$STEPS" 16 2e-3 2e-4
