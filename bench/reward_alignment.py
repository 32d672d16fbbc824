"""Within-user agreement of each reward with Recall@10 (bench/reward_alignment.sh).
   python3 bench/reward_alignment.py TRUTH_JSONL SAMPLE_DIR...
Each SAMPLE_DIR is an `eval policy --out` folder (lists.jsonl, rankings.jsonl)
of the same users; the k-th folder holds each user's k-th list."""
import collections
import json
import math
import sys

REWARDS = ["ret", "cov", "spec", "div", "struct"]


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def pearson(xs, ys):
    n = len(xs)
    mx, my = sum(xs) / n, sum(ys) / n
    sxy = sum((x - mx) * (y - my) for x, y in zip(xs, ys))
    sx = math.sqrt(sum((x - mx) ** 2 for x in xs))
    sy = math.sqrt(sum((y - my) ** 2 for y in ys))
    return sxy / (sx * sy) if sx > 0 and sy > 0 else float("nan")


def main(truth_path, dirs):
    truth = {d["user"]: set(d["items"]) for d in read_jsonl(truth_path) if d["items"]}
    samples = collections.defaultdict(list)  # user -> [(rewards, recall@10)]
    for d in dirs:
        lists = {row["user"]: row for row in read_jsonl(d + "/lists.jsonl")}
        for row in read_jsonl(d + "/rankings.jsonl"):
            u = row["user"]
            if u not in truth or u not in lists:
                continue
            recall = len(truth[u] & set(row["items"][:10])) / len(truth[u])
            samples[u].append((lists[u]["rewards"], recall))
    n = min(len(v) for v in samples.values())
    samples = {u: v[:n] for u, v in samples.items()}
    names = ["composite"] + [r for r in REWARDS if r in next(iter(samples.values()))[0][0]]
    print(f"{len(samples)} users, {n} sampled lists each")

    def centred(values):
        m = sum(values) / len(values)
        return [x - m for x in values]

    # Batch RMS of each reward's within-user deviations: the per-reward scale.
    rms = {}
    for name in names:
        dev = [x for v in samples.values() for x in centred([r[name] for r, _ in v])]
        rms[name] = math.sqrt(sum(x * x for x in dev) / len(dev))
    mean_recall = sum(sum(rc for _, rc in v) / n for v in samples.values()) / len(samples)
    oracle = sum(max(rc for _, rc in v) for v in samples.values()) / len(samples)
    print(f"mean Recall@10 of one sampled list {mean_recall:.4f}; the best of {n} by Recall@10 itself {oracle:.4f}")
    print()
    print(f"| reward | within-user spread (RMS) | within-user corr. with Recall@10 | Recall@10 of best-of-{n} by it |")
    print("|---|---:|---:|---:|")

    def score_by(scorer):
        xs, ys, picked = [], [], 0.0
        for v in samples.values():
            s = [scorer(r) for r, _ in v]
            xs += centred(s)
            ys += centred([rc for _, rc in v])
            picked += v[max(range(n), key=lambda i: (s[i], -i))][1]
        return pearson(xs, ys), picked / len(samples)

    for name in names:
        c, b = score_by(lambda r, name=name: r[name])
        print(f"| {name} | {rms[name]:.4f} | {c:+.3f} | {b:.4f} |")
    parts = names[1:]
    for label, used in [("per-reward, all", parts)] + [(f"per-reward, no {p}", [q for q in parts if q != p]) for p in parts]:
        used = [p for p in used if rms[p] > 0]
        c, b = score_by(lambda r, used=used: sum(r[p] / rms[p] for p in used))
        print(f"| {label} | | {c:+.3f} | {b:.4f} |")


if __name__ == "__main__":
    if len(sys.argv) < 3:
        sys.exit("usage: reward_alignment.py TRUTH_JSONL SAMPLE_DIR...")
    main(sys.argv[1], sys.argv[2:])
