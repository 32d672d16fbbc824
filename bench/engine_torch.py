#!/usr/bin/env python3
"""PyTorch side of the engine benchmark: the same Qwen2 model as newsrl's C++
engine (presets from models/qwen2_config.cpp, equations from
tests/reference/qwen2_reference.py), built by hand in float32 on the CPU.

  --mode train:    one step = forward + backward + global-norm clip to 1.0 +
                   AdamW(lr=1e-4, betas 0.9/0.95, no decay), as newsrl's bench does,
                   on B sequences of T tokens (labels = inputs, mean next-token
                   cross-entropy). 2 warm-up steps, then --steps timed;
                   tokens_per_s = B*T / step time.
  --mode generate: B prompts of T/2 tokens each generate T/2 new
                   tokens greedily with a hand-written KV cache, under no_grad.
                   One whole generation (prefill + decode) is timed --steps times
                   after 2 warm-ups; step_ms is its median, tokens_per_s counts
                   generated tokens (B*T/2 / median). --weights bfloat16
                   casts the model to bf16 first (PyTorch then computes in bf16).
Token ids are (7i + 3) % vocab over the flattened batch, as in newsrl's bench.

Prints one JSON line with the keys of `newsrl model bench --json` (engine, mode, preset,
batch, seq, steps, tokens_per_s, step_ms, threads; "engine":"pytorch").
Debian's torch runs its matmuls on OpenBLAS's own pthreads beside its OpenMP
pool; left at their defaults the two fight (steps 3-20x slower and erratic on 2
cores), so unless the environment says otherwise this sets
OPENBLAS_NUM_THREADS=--threads and OMP_WAIT_POLICY=PASSIVE before torch loads.
Needs Debian's python3-torch:

    /usr/bin/python3 bench/engine_torch.py --preset micro --batch 8 --seq 128 --steps 10 --mode train --threads 2
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

_THREADS = sys.argv[sys.argv.index("--threads") + 1] if "--threads" in sys.argv[:-1] else str(len(os.sched_getaffinity(0)))
os.environ.setdefault("OPENBLAS_NUM_THREADS", _THREADS)  # read when torch loads OpenBLAS
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

# vocab, hidden, intermediate, layers, heads, kv heads (rope_theta 1e4, rms_norm_eps 1e-6, tied embeddings).
PRESETS = {"nano": (1024, 64, 256, 4, 4, 2), "micro": (2048, 128, 384, 4, 4, 2),
           "mini": (4096, 256, 768, 4, 8, 4), "small": (8192, 512, 1536, 4, 8, 4)}
ROPE_THETA, EPS = 10000.0, 1e-6


def rmsnorm(x, w):
    return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + EPS))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


class Layer(torch.nn.Module):
    def __init__(s, H, I, HQ, HKV):
        super().__init__()
        s.HQ, s.HKV, s.D = HQ, HKV, H // HQ
        s.input_layernorm = torch.nn.Parameter(torch.ones(H))
        s.q_proj = torch.nn.Linear(H, H, bias=True)
        s.k_proj = torch.nn.Linear(H, HKV * s.D, bias=True)
        s.v_proj = torch.nn.Linear(H, HKV * s.D, bias=True)
        s.o_proj = torch.nn.Linear(H, H, bias=False)
        s.post_attention_layernorm = torch.nn.Parameter(torch.ones(H))
        s.gate_proj = torch.nn.Linear(H, I, bias=False)
        s.up_proj = torch.nn.Linear(H, I, bias=False)
        s.down_proj = torch.nn.Linear(I, H, bias=False)

    def forward(s, x, cos, sin, mask, cache=None, pos=0):
        # x [B, T, H]; cos/sin [T, D] for positions pos..pos+T; cache = (K, V) [B, HKV, Tmax, D] or None.
        B, T, H = x.shape
        h = rmsnorm(x, s.input_layernorm)
        q = s.q_proj(h).view(B, T, s.HQ, s.D).transpose(1, 2)
        k = s.k_proj(h).view(B, T, s.HKV, s.D).transpose(1, 2)
        v = s.v_proj(h).view(B, T, s.HKV, s.D).transpose(1, 2)
        q, k = q * cos + rotate_half(q) * sin, k * cos + rotate_half(k) * sin
        if cache is not None:  # append this step's K/V, attend to everything so far
            cache[0][:, :, pos:pos + T] = k
            cache[1][:, :, pos:pos + T] = v
            k, v = cache[0][:, :, :pos + T], cache[1][:, :, :pos + T]
        k = k.repeat_interleave(s.HQ // s.HKV, dim=1)
        v = v.repeat_interleave(s.HQ // s.HKV, dim=1)
        scores = q @ k.transpose(-1, -2) / math.sqrt(s.D)
        if mask is not None:
            scores = scores + mask
        a = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(B, T, H)
        x = x + s.o_proj(a)
        h2 = rmsnorm(x, s.post_attention_layernorm)
        return x + s.down_proj(F.silu(s.gate_proj(h2)) * s.up_proj(h2))


class Qwen2(torch.nn.Module):
    def __init__(s, V, H, I, L, HQ, HKV, max_pos=2048):
        super().__init__()
        s.V, s.H, s.HKV, s.D = V, H, HKV, H // HQ
        s.embed = torch.nn.Parameter(0.02 * torch.randn(V, H))
        s.layers = torch.nn.ModuleList(Layer(H, I, HQ, HKV) for _ in range(L))
        s.norm = torch.nn.Parameter(torch.ones(H))
        inv_freq = 1.0 / (ROPE_THETA ** (torch.arange(0, s.D, 2).float() / s.D))
        emb = torch.outer(torch.arange(max_pos).float(), inv_freq).repeat(1, 2)
        s.register_buffer("cos", emb.cos(), persistent=False)
        s.register_buffer("sin", emb.sin(), persistent=False)

    def forward(s, ids, caches=None, pos=0, last_only=False):
        B, T = ids.shape
        x = F.embedding(ids, s.embed)
        cos, sin = s.cos[pos:pos + T], s.sin[pos:pos + T]
        mask = None
        if T > 1:  # causal over the new tokens (pos == 0 whenever T > 1 here)
            mask = torch.full((T, T), float("-inf"), dtype=x.dtype).triu(1)
        for i, layer in enumerate(s.layers):
            x = layer(x, cos, sin, mask, None if caches is None else caches[i], pos)
        if last_only:
            x = x[:, -1:]
        return F.linear(rmsnorm(x, s.norm), s.embed)  # tied lm_head


def batch_ids(B, T, V):
    return (torch.arange(B * T) * 7 + 3).reshape(B, T) % V


def time_train(model, B, T, steps):
    ids = batch_ids(B, T, model.V)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), weight_decay=0.0, foreach=True)

    def step():
        opt.zero_grad(set_to_none=True)
        logits = model(ids)
        loss = F.cross_entropy(logits[:, :-1].reshape(-1, model.V), ids[:, 1:].reshape(-1))
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()

    for _ in range(2):
        step()
    t0 = time.perf_counter()
    for _ in range(steps):
        step()
    return (time.perf_counter() - t0) / steps, B * T


@torch.no_grad()
def generate(model, prompts, new_tokens):
    B, P = prompts.shape
    dt = model.embed.dtype
    caches = [(torch.empty(B, model.HKV, P + new_tokens, model.D, dtype=dt),
               torch.empty(B, model.HKV, P + new_tokens, model.D, dtype=dt)) for _ in model.layers]
    tok = model(prompts, caches, 0, last_only=True)[:, -1].argmax(-1, keepdim=True)  # prefill
    out = [tok]
    for t in range(P, P + new_tokens - 1):
        tok = model(tok, caches, t)[:, -1].argmax(-1, keepdim=True)
        out.append(tok)
    return torch.cat(out, dim=1)


def time_generate(model, B, T, steps):
    P = T // 2
    prompts = batch_ids(B, T, model.V)[:, :P].contiguous()
    for _ in range(2):
        generate(model, prompts, T - P)
    times = []
    for _ in range(steps):
        t0 = time.perf_counter()
        generate(model, prompts, T - P)
        times.append(time.perf_counter() - t0)
    return statistics.median(times), B * (T - P)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--preset", default="micro", choices=sorted(PRESETS))
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seq", type=int, default=128)
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--mode", default="train", choices=["train", "generate"])
    ap.add_argument("--threads", type=int, default=_THREADS)
    ap.add_argument("--weights", default="float32", choices=["float32", "bfloat16"],
                    help="generate: the model in bfloat16 (torch computes in bf16 then)")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = Qwen2(*PRESETS[a.preset])
    if a.mode == "train":
        sec, tokens = time_train(model, a.batch, a.seq, a.steps)
    else:
        model.eval()
        if a.weights == "bfloat16":
            model.to(torch.bfloat16)
        sec, tokens = time_generate(model, a.batch, a.seq, a.steps)
    print(json.dumps({"engine": "pytorch", "mode": a.mode, "preset": a.preset, "batch": a.batch, "seq": a.seq,
                      "steps": a.steps, "weights": a.weights, "tokens_per_s": round(tokens / sec, 1), "step_ms": round(sec * 1e3, 2),
                      "threads": torch.get_num_threads()}, separators=(",", ":")))


if __name__ == "__main__":
    main()
