#!/usr/bin/python3
"""Independent reference for news/metrics.cpp (plain Python 3, no packages).

Writes a seeded random evaluation case into tests/news/fixtures/metrics/
(rankings.jsonl, truth.jsonl, users.jsonl) with hand-made edge cases mixed in
(duplicates in a ranking, a user without a ranking, a ranking without truth,
empty truth, a truth user missing from users.jsonl), computes Recall@K,
NDCG@K and MRR the way docs/metrics.md defines them, and writes the expected
numbers to expected.json, which tests/news/metrics_test.cpp compares against.

    /usr/bin/python3 tests/reference/metrics_reference.py
"""
import json
import math
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "news", "fixtures", "metrics")
CUTOFFS = [1, 5, 10]


def make_case(rng):
    articles = ["N%d" % i for i in range(60)]
    rankings, truth, users = [], [], []
    for u in range(150):
        name = "u%016x" % rng.getrandbits(64)
        clicks = rng.sample(articles, rng.randint(0, 6))
        if rng.random() < 0.3 and clicks:
            clicks.append(clicks[0])  # a repeated click counts once
        ranked = [rng.choice(articles[:30] + clicks) for _ in range(rng.randint(0, 25))]
        events = [{"domain": "news", "time": "2026-10-01T00:00:%02dZ" % i, "news": rng.choice(articles)}
                  for i in range(rng.randint(0, 7))]
        events += [{"domain": "search", "time": "2026-10-02T00:00:00Z", "text": "weather"}]
        if u % 17 != 3:
            rankings.append({"user": name, "items": ranked})
        if u % 23 != 5:
            truth.append({"user": name, "items": clicks})
        if u % 29 != 7:
            users.append({"user": name, "events": events})
    return rankings, truth, users


def dedupe(items):
    seen, out = set(), []
    for x in items:
        if x not in seen:
            seen.add(x)
            out.append(x)
    return out


def scores(ranked, relevant):
    ranked = dedupe(ranked)
    out = {}
    for k in CUTOFFS:
        top = ranked[:k]
        hits = [1 if x in relevant else 0 for x in top]
        out["recall@%d" % k] = sum(hits) / len(relevant)
        dcg = sum(h / math.log2(i + 2) for i, h in enumerate(hits))
        idcg = sum(1 / math.log2(i + 2) for i in range(min(k, len(relevant))))
        out["ndcg@%d" % k] = dcg / idcg
    rr = 0.0
    for i, x in enumerate(ranked):
        if x in relevant:
            rr = 1 / (i + 1)
            break
    out["mrr"] = rr
    return out


def mean_of(rows):
    keys = ["recall@%d" % k for k in CUTOFFS] + ["ndcg@%d" % k for k in CUTOFFS] + ["mrr"]
    out = {"users": len(rows)}
    for key in keys:
        out[key] = sum(r[key] for r in rows) / len(rows) if rows else 0.0
    return out


def expected(rankings, truth, users):
    ranked_by = {r["user"]: r["items"] for r in rankings}
    news_events = {u["user"]: sum(1 for e in u["events"] if e["domain"] == "news") for u in users}
    rows = {"all": [], "cold": [], "warm": []}
    with_clicks, without_ranking = set(), 0
    for t in truth:
        relevant = set(t["items"])
        if not relevant:
            continue
        with_clicks.add(t["user"])
        if t["user"] not in ranked_by:
            without_ranking += 1
        s = scores(ranked_by.get(t["user"], []), relevant)
        rows["all"].append(s)
        # a truth user missing from users.jsonl has no news events: cold
        rows["cold" if news_events.get(t["user"], 0) <= 3 else "warm"].append(s)
    seen = {t["user"] for t in truth} | set(ranked_by) | set(news_events)
    out = mean_of(rows["all"])
    out["excluded_no_truth"] = len(seen - with_clicks)
    out["without_ranking"] = without_ranking
    out["segments"] = {"cold": mean_of(rows["cold"]), "warm": mean_of(rows["warm"])}
    return out


def write_jsonl(path, rows):
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps(r) + "\n")


def main():
    rng = random.Random(20261127)
    rankings, truth, users = make_case(rng)
    os.makedirs(OUT, exist_ok=True)
    write_jsonl(os.path.join(OUT, "rankings.jsonl"), rankings)
    write_jsonl(os.path.join(OUT, "truth.jsonl"), truth)
    write_jsonl(os.path.join(OUT, "users.jsonl"), users)
    with open(os.path.join(OUT, "expected.json"), "w") as f:
        json.dump({"cutoffs": CUTOFFS, "expected": expected(rankings, truth, users)}, f, indent=1, sort_keys=True)
        f.write("\n")


if __name__ == "__main__":
    main()
