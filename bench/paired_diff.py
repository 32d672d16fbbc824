"""Is policy B better than policy A on the same users, or is it noise?
   python3 bench/paired_diff.py TRUTH_JSONL A_RANKINGS_JSONL B_RANKINGS_JSONL [BOOTSTRAP=2000]
Per user (those with test clicks and a ranking in both): Recall@10, NDCG@10
and reciprocal rank of each, as newsrl eval computes them (docs/metrics.md);
prints each mean, the mean of B - A, its standard error, a bootstrap 95%
interval over users, and how many users B wins, ties and loses."""
import json
import math
import random
import sys


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def per_user(truth, ranking, k=10):
    hits = [i for i, item in enumerate(ranking[:k]) if item in truth]
    recall = len(hits) / len(truth)
    dcg = sum(1 / math.log2(i + 2) for i in hits)
    idcg = sum(1 / math.log2(i + 2) for i in range(min(len(truth), k)))
    first = next((i for i, item in enumerate(ranking) if item in truth), None)
    return {"recall@10": recall, "ndcg@10": dcg / idcg, "mrr": 0.0 if first is None else 1 / (first + 1)}


def main(truth_path, a_path, b_path, rounds):
    truth = {d["user"]: set(d["items"]) for d in read_jsonl(truth_path) if d["items"]}
    a = {d["user"]: d["items"] for d in read_jsonl(a_path)}
    b = {d["user"]: d["items"] for d in read_jsonl(b_path)}
    users = sorted(u for u in truth if u in a and u in b)
    rng = random.Random(0)
    print(f"{len(users)} users")
    print("| metric | A | B | B - A | standard error | bootstrap 95% | B wins / ties / loses |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for metric in ["recall@10", "ndcg@10", "mrr"]:
        xa = [per_user(truth[u], a[u])[metric] for u in users]
        xb = [per_user(truth[u], b[u])[metric] for u in users]
        d = [y - x for x, y in zip(xa, xb)]
        n = len(d)
        mean = sum(d) / n
        se = math.sqrt(sum((x - mean) ** 2 for x in d) / (n - 1) / n)
        boots = sorted(sum(d[rng.randrange(n)] for _ in range(n)) / n for _ in range(rounds))
        lo, hi = boots[int(0.025 * rounds)], boots[int(0.975 * rounds) - 1]
        wins, losses = sum(x > 0 for x in d), sum(x < 0 for x in d)
        print(f"| {metric} | {sum(xa) / n:.4f} | {sum(xb) / n:.4f} | {mean:+.4f} | {se:.4f} | "
              f"[{lo:+.4f}, {hi:+.4f}] | {wins} / {n - wins - losses} / {losses} |")


if __name__ == "__main__":
    if len(sys.argv) < 4:
        sys.exit("usage: paired_diff.py TRUTH_JSONL A_RANKINGS_JSONL B_RANKINGS_JSONL [BOOTSTRAP]")
    main(sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]) if len(sys.argv) > 4 else 2000)
