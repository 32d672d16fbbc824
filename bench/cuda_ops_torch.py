#!/usr/bin/env python3
"""PyTorch side of the GPU op benchmark: the cases of bench/cuda_ops_bench.cpp
timed the same way (CUDA events, mean of --iters runs after --warmup), on the
same GPU, one JSON line per case with "engine":"pytorch".

  float32 GEMMs with TF32 off (torch.backends.cuda.matmul.allow_tf32 = False),
  as newsrl's float32 matmul; "bfloat16" GEMMs with x and W both in bf16 (the
  counterpart of newsrl's bf16 weights, which keep x and y in float32); "tf32"
  GEMMs for reference. Attention: F.scaled_dot_product_attention, causal, with
  enable_gqa=True on [B, H, T, D] tensors, in float32 (as newsrl) and bf16,
  and in float32 with k and v repeated to every query head ("float32_mha");
  its backward is (forward + backward) - forward.

With --out FILE the JSON lines also go there. With --newsrl FILE
(cuda_ops_bench's output) it then prints the two side by side as a Markdown
table (and writes it to --summary when given). Exits 77 without a GPU.

    python3 bench/cuda_ops_torch.py --out results/bench_torch.jsonl \
        --newsrl results/bench_newsrl.jsonl --summary results/summary.md
"""
import argparse
import json
import sys

import torch
import torch.nn.functional as F

HIDDEN, INTER, HEADS, KV_HEADS, HEAD_DIM, VOCAB = 896, 4864, 14, 2, 64, 151936


def time_ms(run, warmup, iters):
    for _ in range(warmup):
        run()
    start, stop = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for _ in range(iters):
        run()
    stop.record()
    stop.synchronize()
    return start.elapsed_time(stop) / iters


def report(rows, op, name, dtype, shape, ms, flops):
    row = {"engine": "pytorch", "op": op, "name": name, "dtype": dtype, "shape": shape, "ms": round(ms, 4),
           "tflops": round(flops / (ms * 1e-3) / 1e12, 2), "gpu": torch.cuda.get_device_name(0),
           "torch": torch.__version__}
    rows.append(row)
    print(json.dumps(row), flush=True)


def projection(rows, a, name, m, n, k):
    shape = f"{m}x{n}x{k}"
    flops = 2.0 * m * n * k
    for dtype, label, tf32 in ((torch.float32, "float32", False), (torch.bfloat16, "bfloat16", False),
                               (torch.float32, "tf32", True)):
        torch.backends.cuda.matmul.allow_tf32 = tf32
        x = torch.rand(m, k, device="cuda", dtype=dtype) * 2 - 1
        w = (torch.rand(n, k, device="cuda", dtype=dtype) * 2 - 1) * 0.05
        ms = time_ms(lambda: torch.matmul(x, w.t()), a.warmup, a.iters)
        report(rows, "matmul", name, label, shape, ms, flops)
        del x, w
    torch.backends.cuda.matmul.allow_tf32 = False


def projection_backward(rows, a, name, m, n, k):
    shape = f"{m}x{n}x{k}"
    flops = 2.0 * m * n * k
    x = torch.rand(m, k, device="cuda") * 2 - 1
    w = (torch.rand(n, k, device="cuda") * 2 - 1) * 0.05
    dy = torch.rand(m, n, device="cuda") * 2 - 1
    dw = torch.zeros(n, k, device="cuda")
    report(rows, "matmul", name + "_dx", "float32", shape, time_ms(lambda: torch.matmul(dy, w), a.warmup, a.iters),
           flops)
    report(rows, "matmul", name + "_dw", "float32", shape,
           time_ms(lambda: dw.addmm_(dy.t(), x), a.warmup, a.iters), flops)


def attention(rows, a, batch, t, hq, hkv, dim):
    shape = f"B{batch} T{t} Hq{hq} Hkv{hkv} D{dim} causal"
    fwd_flops = 4.0 * batch * hq * dim * t * t / 2
    # float32_mha: k and v repeated to every query head beforehand (untimed), so
    # that SDPA's kernels for equal head counts apply.
    for dtype, label in ((torch.float32, "float32"), (torch.bfloat16, "bfloat16"), (torch.float32, "float32_mha")):
        kv_heads = hq if label == "float32_mha" else hkv
        q = (torch.rand(batch, hq, t, dim, device="cuda", dtype=dtype) * 2 - 1).requires_grad_()
        k = (torch.rand(batch, kv_heads, t, dim, device="cuda", dtype=dtype) * 2 - 1).requires_grad_()
        v = (torch.rand(batch, kv_heads, t, dim, device="cuda", dtype=dtype) * 2 - 1).requires_grad_()
        dout = torch.rand(batch, hq, t, dim, device="cuda", dtype=dtype) * 2 - 1

        def forward():
            return F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=kv_heads != hq)

        def forward_backward():
            torch.autograd.grad(forward(), (q, k, v), dout)

        try:
            fwd = time_ms(forward, a.warmup, a.iters)
            both = time_ms(forward_backward, a.warmup, a.iters)
        except RuntimeError as e:  # an SDPA backend refusing this dtype or GQA
            print(f"cuda_ops_torch.py: attention {label}: {e}".splitlines()[0], file=sys.stderr)
            continue
        report(rows, "attention", "attention_fwd", label, shape, fwd, fwd_flops)
        report(rows, "attention", "attention_bwd", label, shape, both - fwd, 2.5 * fwd_flops)
        report(rows, "attention", "attention_fwd_bwd", label, shape, both, 3.5 * fwd_flops)
        del q, k, v, dout


def side_by_side(newsrl_rows, torch_rows):
    """Markdown: one row per newsrl case beside PyTorch's counterpart."""
    counterpart = {"float32": "float32", "bf16_weights": "bfloat16", "float32_tf32": "tf32",
                   "float32_bf16": "bfloat16"}
    by_key = {(r["name"], r["dtype"]): r for r in torch_rows}
    gpu = newsrl_rows[0]["gpu"] if newsrl_rows else torch.cuda.get_device_name(0)
    lines = [f"GPU: {gpu}, PyTorch {torch.__version__}", "",
             "| case | shape | newsrl dtype | newsrl ms | newsrl TFLOP/s | PyTorch dtype | PyTorch ms | "
             "PyTorch TFLOP/s | newsrl / PyTorch speed |",
             "|---|---|---|---|---|---|---|---|---|"]
    for r in newsrl_rows:
        t = by_key.get((r["name"], counterpart.get(r["dtype"], r["dtype"])))
        if t is None:
            lines.append(f"| {r['name']} | {r['shape']} | {r['dtype']} | {r['ms']:.3f} | {r['tflops']:.1f} | - | - | - | - |")
            continue
        lines.append(f"| {r['name']} | {r['shape']} | {r['dtype']} | {r['ms']:.3f} | {r['tflops']:.1f} | "
                     f"{t['dtype']} | {t['ms']:.3f} | {t['tflops']:.1f} | {t['ms'] / r['ms']:.2f} |")
    extra = [t for t in torch_rows if t["dtype"] in ("tf32", "float32_mha") or
             (t["op"] == "attention" and t["dtype"] == "bfloat16")]
    if extra:
        lines += ["", "PyTorch for reference (no newsrl counterpart):", "",
                  "| case | dtype | ms | TFLOP/s |", "|---|---|---|---|"]
        lines += [f"| {t['name']} | {t['dtype']} | {t['ms']:.3f} | {t['tflops']:.1f} |" for t in extra]
    return "\n".join(lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--tokens", type=int, default=8192, help="token rows of the projection GEMMs")
    p.add_argument("--iters", type=int, default=20, help="timed runs per case")
    p.add_argument("--warmup", type=int, default=3, help="untimed runs before them")
    p.add_argument("--out", help="write the JSON lines here too")
    p.add_argument("--newsrl", help="cuda_ops_bench's JSON lines, to print beside PyTorch's")
    p.add_argument("--summary", help="also write the side-by-side table here")
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("cuda_ops_torch.py: no GPU: skipped", file=sys.stderr)
        return 77
    rows = []
    m = a.tokens
    projection(rows, a, "q_proj", m, HIDDEN, HIDDEN)
    projection(rows, a, "kv_proj", m, KV_HEADS * HEAD_DIM, HIDDEN)
    projection(rows, a, "o_proj", m, HIDDEN, HIDDEN)
    projection(rows, a, "mlp_up", m, INTER, HIDDEN)
    projection(rows, a, "mlp_down", m, HIDDEN, INTER)
    projection(rows, a, "lm_head", min(m, 1024), VOCAB, HIDDEN)
    projection_backward(rows, a, "mlp_up", m, INTER, HIDDEN)
    attention(rows, a, 8, 1024, HEADS, KV_HEADS, HEAD_DIM)
    if a.out:
        with open(a.out, "w") as f:
            f.writelines(json.dumps(r) + "\n" for r in rows)
    if a.newsrl:
        with open(a.newsrl) as f:
            newsrl_rows = [json.loads(line) for line in f if line.strip().startswith("{")]
        table = side_by_side(newsrl_rows, rows)
        print(table)
        if a.summary:
            with open(a.summary, "w") as f:
                f.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
