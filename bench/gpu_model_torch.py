#!/usr/bin/env python3
"""PyTorch side of the GPU model benchmark (bench/gpu_model_bench.cpp): the same
Qwen2 shape (default qwen2.5-0.5b), written here in eager PyTorch, on the same GPU.

  train: forward + backward + AdamW (torch.optim.AdamW, foreach) with global
    norm clipping at 1.0, on [batch, seq] random tokens; float32 master weights
    under torch.autocast(bfloat16) (GEMMs and attention in bf16), attention by
    F.scaled_dot_product_attention (causal, enable_gqa). tokens/s and MFU =
    6 * parameters * tokens/s / peak (989 TFLOP/s dense bf16, H100/H200 SXM).
  serve: bf16 weights and activations; a static KV cache per layer; one
    batched prefill of every user's prompt, then one decode step per new token
    for all users at once; greedy choice (argmax) on the GPU, as newsrl's
    greedy (there on the host); users/s = users / wall seconds.

One JSON line per measurement ("engine":"pytorch"). With --newsrl FILE
(gpu_model_bench's output) it prints both side by side as a Markdown table (and
writes it to --summary). Exits 77 without a GPU.

    python3 bench/gpu_model_torch.py --out results/model_torch.jsonl \\
        --newsrl results/model_newsrl.jsonl --summary results/model_summary.md
"""
import argparse
import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

PRESETS = {  # vocab, hidden, intermediate, layers, heads, kv heads, rope theta, eps, tied
    "qwen2.5-0.5b": (151936, 896, 4864, 24, 14, 2, 1e6, 1e-6, True),
    "qwen2.5-1.5b": (151936, 1536, 8960, 28, 12, 2, 1e6, 1e-6, True),
    "qwen2.5-7b": (152064, 3584, 18944, 28, 28, 4, 1e6, 1e-6, False),
}


class Config:
    def __init__(self, name):
        (self.vocab, self.hidden, self.inter, self.layers, self.heads, self.kv_heads, self.theta, self.eps,
         self.tied) = PRESETS[name]
        self.head_dim = self.hidden // self.heads


def rmsnorm(x, w, eps):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(w.dtype) * w


def rope_tables(c, positions, device):
    inv = 1.0 / (c.theta ** (torch.arange(0, c.head_dim, 2, device=device, dtype=torch.float32) / c.head_dim))
    angles = positions.float()[:, None] * inv[None, :]
    angles = torch.cat([angles, angles], dim=-1)
    return angles.cos(), angles.sin()  # [T, D]


def rotate(x, cos, sin):  # x [B, H, T, D]
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return (x * cos + rotated * sin).to(x.dtype)


class Block(nn.Module):
    def __init__(self, c):
        super().__init__()
        h, kv = c.hidden, c.kv_heads * c.head_dim
        self.c = c
        self.q = nn.Linear(h, h, bias=True)
        self.k = nn.Linear(h, kv, bias=True)
        self.v = nn.Linear(h, kv, bias=True)
        self.o = nn.Linear(h, h, bias=False)
        self.gate = nn.Linear(h, c.inter, bias=False)
        self.up = nn.Linear(h, c.inter, bias=False)
        self.down = nn.Linear(c.inter, h, bias=False)
        self.norm1 = nn.Parameter(torch.ones(h))
        self.norm2 = nn.Parameter(torch.ones(h))

    def forward(self, x, cos, sin, cache=None, pos=0):
        c = self.c
        b, t, _ = x.shape
        n = rmsnorm(x, self.norm1, c.eps)
        q = self.q(n).view(b, t, c.heads, c.head_dim).transpose(1, 2)
        k = self.k(n).view(b, t, c.kv_heads, c.head_dim).transpose(1, 2)
        v = self.v(n).view(b, t, c.kv_heads, c.head_dim).transpose(1, 2)
        q, k = rotate(q, cos, sin), rotate(k, cos, sin)
        if cache is None:
            a = F.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        else:
            kc, vc = cache
            kc[:, :, pos:pos + t] = k
            vc[:, :, pos:pos + t] = v
            keys, values = kc[:, :, :pos + t], vc[:, :, :pos + t]
            # Prefill from an empty cache is causal; one new token sees every cached key.
            a = F.scaled_dot_product_attention(q, keys, values, is_causal=t > 1, enable_gqa=True)
        x = x + self.o(a.transpose(1, 2).reshape(b, t, c.hidden))
        n = rmsnorm(x, self.norm2, c.eps)
        return x + self.down(F.silu(self.gate(n)) * self.up(n))


class Model(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        self.embed = nn.Embedding(c.vocab, c.hidden)
        self.blocks = nn.ModuleList(Block(c) for _ in range(c.layers))
        self.norm = nn.Parameter(torch.ones(c.hidden))
        self.head = None if c.tied else nn.Linear(c.hidden, c.vocab, bias=False)
        for p in self.parameters():  # as gpu_model_bench: uniform(-0.02, 0.02) matrices, unit norms, zero biases
            if p.dim() == 2:
                nn.init.uniform_(p, -0.02, 0.02)
        for blk in self.blocks:
            for lin in (blk.q, blk.k, blk.v):
                nn.init.zeros_(lin.bias)

    def forward(self, ids, caches=None, pos=0, last_only=False):
        x = self.embed(ids)
        positions = torch.arange(pos, pos + ids.shape[1], device=ids.device)
        cos, sin = rope_tables(self.c, positions, ids.device)
        for i, blk in enumerate(self.blocks):
            x = blk(x, cos, sin, None if caches is None else caches[i], pos)
        if last_only:
            x = x[:, -1:]
        x = rmsnorm(x, self.norm, self.c.eps)
        w = self.embed.weight if self.head is None else self.head.weight
        return F.linear(x, w)


def gpu_name():
    return torch.cuda.get_device_name(0)


def bench_train(a, c):
    torch.manual_seed(0)
    model = Model(c).cuda()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.1, foreach=True)
    ids = torch.randint(0, c.vocab, (a.batch, a.seq), device="cuda")

    def step():
        with torch.autocast("cuda", dtype=torch.bfloat16):
            logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, c.vocab).float(), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        return loss

    for _ in range(a.warmup):
        step()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(a.steps):
        loss = step()
    torch.cuda.synchronize()
    seconds = (time.perf_counter() - t0) / a.steps
    tokens_per_s = a.batch * a.seq / seconds
    row = {"engine": "pytorch", "bench": "train", "model": a.preset, "batch": a.batch, "seq": a.seq,
           "dtype": "autocast_bf16", "step_ms": round(seconds * 1e3, 1), "tokens_per_s": round(tokens_per_s),
           "params": params, "mfu": round(6 * params * tokens_per_s / (a.peak_tflops * 1e12), 4),
           "peak_tflops": a.peak_tflops, "loss": round(loss.item(), 4), "gpu": gpu_name(), "torch": torch.__version__}
    del model, opt
    torch.cuda.empty_cache()
    return row


@torch.no_grad()
def generate(model, c, prompts, new_tokens):
    b, t = prompts.shape
    caches = [(torch.empty(b, c.kv_heads, t + new_tokens, c.head_dim, device="cuda", dtype=torch.bfloat16),
               torch.empty(b, c.kv_heads, t + new_tokens, c.head_dim, device="cuda", dtype=torch.bfloat16))
              for _ in range(c.layers)]
    logits = model(prompts, caches, 0, last_only=True)
    out = []
    pos = t
    for i in range(new_tokens):
        token = logits[:, -1].argmax(dim=-1, keepdim=True)
        out.append(token)
        if i + 1 == new_tokens:
            break
        logits = model(token, caches, pos)
        pos += 1
    return torch.cat(out, dim=1)


def bench_serve(a, c, model, users):
    prompts = torch.randint(0, c.vocab, (users, a.prompt), device="cuda")
    generate(model, c, prompts, 2)  # warm-up
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    tokens = generate(model, c, prompts, a.new)
    torch.cuda.synchronize()
    seconds = time.perf_counter() - t0
    row = {"engine": "pytorch", "bench": "serve", "model": a.preset, "users": users, "prompt": a.prompt,
           "new_tokens": a.new, "weights": "bf16", "activations": "bf16", "seconds": round(seconds, 3),
           "users_per_s": round(users / seconds, 2), "generated_tokens": int(tokens.numel()), "sampling": "greedy on the device",
           "gpu": gpu_name(), "torch": torch.__version__}
    del prompts, tokens
    torch.cuda.empty_cache()
    return row


def bench_serving(a, c):
    torch.manual_seed(1)
    model = Model(c).cuda().to(torch.bfloat16).eval()
    for users in a.users:
        yield bench_serve(a, c, model, users)
    del model
    torch.cuda.empty_cache()


def side_by_side(newsrl_rows, torch_rows):
    lines = ["| bench | engine | precision | shape | result | MFU |", "|---|---|---|---|---|---|"]
    for rows in (newsrl_rows, torch_rows):
        for r in rows:
            if r.get("bench") == "train":
                precision = r["dtype"] + (f", matmul {r['matmul_precision']}" if "matmul_precision" in r else "")
                lines.append(f"| train step | {r['engine']} | {precision} | {r['model']} B{r['batch']} T{r['seq']} | "
                             f"{r['tokens_per_s']:.0f} tokens/s ({r['step_ms']} ms/step) | {100 * r['mfu']:.1f}% |")
    for rows in (newsrl_rows, torch_rows):
        for r in rows:
            if r.get("bench") == "serve":
                matmul = f", matmul {r['matmul_precision']}" if "matmul_precision" in r else ""
                lines.append(f"| serve | {r['engine']} | weights {r['weights']}, activations {r['activations']}{matmul} | "
                             f"{r['model']} {r['users']} users x {r['prompt']}+{r['new_tokens']} tokens | "
                             f"{r['users_per_s']:.1f} users/s ({r['seconds']} s) | |")
    for r in newsrl_rows:
        if r.get("bench") == "profile":
            top = ", ".join(f"{o['op']} {o['ms']:.0f}" for o in r["ops"][:6])
            lines.append(f"| profile: {r['of']} | newsrl | | | {r['wall_ms']:.0f} ms with a wait per op: "
                         f"ops {r['op_ms']:.0f} ({top}), outside ops {r['outside_ops_ms']:.0f} | |")
    gpu = (newsrl_rows or torch_rows or [{"gpu": "?"}])[0]["gpu"]
    return "\n".join([f"Models on {gpu} (MFU = 6 * params * tokens/s / 989 TFLOP/s):", ""] + lines) + "\n"


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--what", default="train,serve")
    p.add_argument("--preset", default="qwen2.5-0.5b", choices=sorted(PRESETS))
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--seq", type=int, default=1024)
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--users", type=lambda v: [int(x) for x in v.split(",")], default=[64, 256],
                   help="comma-separated numbers of users")
    p.add_argument("--prompt", type=int, default=1000)
    p.add_argument("--new", type=int, default=64)
    p.add_argument("--peak-tflops", type=float, default=989.0)
    p.add_argument("--out", help="also write the JSON lines here")
    p.add_argument("--newsrl", help="gpu_model_bench's JSON lines, to print side by side")
    p.add_argument("--summary", help="also write the side-by-side table here")
    a = p.parse_args()
    if not torch.cuda.is_available():
        print("gpu_model_torch.py: no GPU: skipped", file=sys.stderr)
        return 77
    c = Config(a.preset)
    rows = []
    failed = 0
    out = open(a.out, "w") if a.out else None  # each line as it comes: a timeout keeps the finished ones
    for part, fn in (("train", lambda: [bench_train(a, c)]), ("serve", lambda: bench_serving(a, c))):
        if part not in a.what:
            continue
        try:
            for row in fn():
                rows.append(row)
                print(json.dumps(row), flush=True)
                if out:
                    out.write(json.dumps(row) + "\n")
                    out.flush()
        except torch.cuda.OutOfMemoryError as e:
            print(f"gpu_model_torch.py: {part}: {e}", file=sys.stderr)
            failed = 1
            torch.cuda.empty_cache()
    if out:
        out.close()
    if a.newsrl:
        newsrl_rows = []
        try:
            with open(a.newsrl) as f:
                newsrl_rows = [json.loads(line) for line in f if line.strip()]
        except OSError as e:
            print(f"gpu_model_torch.py: {e}", file=sys.stderr)
        table = side_by_side(newsrl_rows, rows)
        print(table)
        if a.summary:
            with open(a.summary, "w") as f:
                f.write(table)
    return failed


if __name__ == "__main__":
    sys.exit(main())
