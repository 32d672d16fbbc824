"""Is policy B better than policy A on the same users, or is it noise?
   python3 bench/paired_diff.py [--bootstrap N] TRUTH_JSONL A_RANKINGS_JSONL B_RANKINGS_JSONL [TRUTH A B ...]
Per user (those with test clicks and a ranking in both): Recall@10, NDCG@10
and reciprocal rank of each, as newsrl eval computes them (docs/metrics.md);
prints each mean, the mean of B - A, its standard error, a bootstrap 95%
interval over users, and how many users B wins, ties and loses. Several
triples (e.g. one per world seed) pool their users into one comparison."""
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


def paired_users(truth_path, a_path, b_path):
    """(truth, A's ranking, B's ranking) of every user with test clicks ranked by both."""
    truth = {d["user"]: set(d["items"]) for d in read_jsonl(truth_path) if d["items"]}
    a = {d["user"]: d["items"] for d in read_jsonl(a_path)}
    b = {d["user"]: d["items"] for d in read_jsonl(b_path)}
    return [(truth[u], a[u], b[u]) for u in sorted(truth) if u in a and u in b]


def main(triples, rounds):
    users = [row for t in triples for row in paired_users(*t)]
    rng = random.Random(0)
    print(f"{len(users)} users")
    print("| metric | A | B | B - A | standard error | bootstrap 95% | B wins / ties / loses |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for metric in ["recall@10", "ndcg@10", "mrr"]:
        xa = [per_user(truth, a)[metric] for truth, a, _ in users]
        xb = [per_user(truth, b)[metric] for truth, _, b in users]
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
    args, rounds = sys.argv[1:], 2000
    if args[:1] == ["--bootstrap"] and len(args) > 1:
        rounds, args = int(args[1]), args[2:]
    if not args or len(args) % 3:
        sys.exit("usage: paired_diff.py [--bootstrap N] TRUTH_JSONL A_RANKINGS_JSONL B_RANKINGS_JSONL [TRUTH A B ...]")
    main([args[i:i + 3] for i in range(0, len(args), 3)], rounds)
