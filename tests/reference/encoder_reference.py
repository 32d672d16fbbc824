#!/usr/bin/env python3
"""The PyTorch twin of newsrl's encoder classifier. Builds the same model by
hand (RoBERTa's equations: word + learned position embeddings, LayerNorm,
post-LayerNorm blocks of bidirectional multi-head attention and an exact-GELU
MLP, the classification head dense → tanh → out_proj on the first token) and
writes tests/models/fixtures/encoder_tiny.bin (the NRLFIX1 format of
tests/models/fixture.h) with its config, weights, a batch, the logits, the
loss, every gradient, and the losses of 10 AdamW steps with gradient-norm
clipping. The C++ tests match them to float32 tolerance. Positions run 0..T-1
(no RoBERTa padding offset), as in newsrl. Needs Debian's python3-torch
(test-only):

    /usr/bin/python3 tests/reference/encoder_reference.py
"""
import json
import math
import pathlib
import struct

import torch

torch.manual_seed(4321)
CONFIG = dict(vocab_size=37, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=48,
              max_position_embeddings=16, layer_norm_eps=1e-5, num_labels=3, hidden_dropout_prob=0.0)
H, V, I, L = CONFIG["hidden_size"], CONFIG["vocab_size"], CONFIG["intermediate_size"], CONFIG["num_hidden_layers"]
NH, C, EPS = CONFIG["num_attention_heads"], CONFIG["num_labels"], CONFIG["layer_norm_eps"]
D = H // NH


def names():
    out = [("roberta.embeddings.word_embeddings.weight", (V, H)),
           ("roberta.embeddings.position_embeddings.weight", (CONFIG["max_position_embeddings"], H)),
           ("roberta.embeddings.LayerNorm.weight", (H,)), ("roberta.embeddings.LayerNorm.bias", (H,))]
    for i in range(L):
        p = f"roberta.encoder.layer.{i}."
        for proj in ("query", "key", "value"):
            out += [(p + f"attention.self.{proj}.weight", (H, H)), (p + f"attention.self.{proj}.bias", (H,))]
        out += [(p + "attention.output.dense.weight", (H, H)), (p + "attention.output.dense.bias", (H,)),
                (p + "attention.output.LayerNorm.weight", (H,)), (p + "attention.output.LayerNorm.bias", (H,)),
                (p + "intermediate.dense.weight", (I, H)), (p + "intermediate.dense.bias", (I,)),
                (p + "output.dense.weight", (H, I)), (p + "output.dense.bias", (H,)),
                (p + "output.LayerNorm.weight", (H,)), (p + "output.LayerNorm.bias", (H,))]
    out += [("classifier.dense.weight", (H, H)), ("classifier.dense.bias", (H,)),
            ("classifier.out_proj.weight", (C, H)), ("classifier.out_proj.bias", (C,))]
    return out


# Weights large enough that the logits are far from uniform, LayerNorm weights near 1.
params = {}
for name, shape in names():
    if name.endswith("LayerNorm.weight"):
        t = 1.0 + 0.1 * torch.randn(shape)
    elif name.endswith(".bias"):
        t = 0.05 * torch.randn(shape)
    else:
        t = 0.15 * torch.randn(shape)
    params[name] = torch.nn.Parameter(t.float())


def layer_norm(x, w, b):
    mean = x.mean(-1, keepdim=True)
    var = ((x - mean) ** 2).mean(-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + EPS) * w + b


def dense(x, name):
    return x @ params[name + ".weight"].T + params[name + ".bias"]


def forward(ids):
    B, T = ids.shape
    positions = torch.arange(T).unsqueeze(0).expand(B, T)
    x = params["roberta.embeddings.word_embeddings.weight"][ids] + \
        params["roberta.embeddings.position_embeddings.weight"][positions]
    x = layer_norm(x, params["roberta.embeddings.LayerNorm.weight"], params["roberta.embeddings.LayerNorm.bias"])
    for i in range(L):
        p = f"roberta.encoder.layer.{i}."
        q = dense(x, p + "attention.self.query").view(B, T, NH, D).transpose(1, 2)
        k = dense(x, p + "attention.self.key").view(B, T, NH, D).transpose(1, 2)
        v = dense(x, p + "attention.self.value").view(B, T, NH, D).transpose(1, 2)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D), dim=-1)  # no mask: bidirectional
        a = (att @ v).transpose(1, 2).reshape(B, T, H)
        x = layer_norm(dense(a, p + "attention.output.dense") + x, params[p + "attention.output.LayerNorm.weight"],
                       params[p + "attention.output.LayerNorm.bias"])
        m = dense(x, p + "intermediate.dense")
        m = 0.5 * m * (1.0 + torch.erf(m / math.sqrt(2.0)))  # the exact (erf) GELU, written out
        x = layer_norm(dense(m, p + "output.dense") + x, params[p + "output.LayerNorm.weight"],
                       params[p + "output.LayerNorm.bias"])
    pooled = torch.tanh(dense(x[:, 0, :], "classifier.dense"))
    return dense(pooled, "classifier.out_proj")


ids = torch.randint(0, V, (3, 6))
labels = torch.tensor([2, 0, 1])

records = []  # (name, dtype code, shape, bytes)


def put(name, t):
    t = t.detach().contiguous()
    if t.dtype == torch.int64:
        t = t.to(torch.int32)
    code = 0 if t.dtype == torch.float32 else 1
    records.append((name, code, tuple(t.shape), t.numpy().tobytes()))


records.append(("config", 2, (len(json.dumps(CONFIG)),), json.dumps(CONFIG).encode()))
for name, _ in names():
    put("param/" + name, params[name])
put("input_ids", ids)
put("labels", labels)
logits = forward(ids)
loss = torch.nn.functional.cross_entropy(logits, labels)
loss.backward()
put("logits", logits)
put("loss", loss.reshape(1))
for name, _ in names():
    put("grad/" + name, params[name].grad)

# Ten AdamW steps from the same start, gradients clipped to global norm 1: the loss before each step.
for p in params.values():
    p.grad = None
opt = torch.optim.AdamW(params.values(), lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
losses = []
for _ in range(10):
    opt.zero_grad()
    l = torch.nn.functional.cross_entropy(forward(ids), labels)
    losses.append(l.item())
    l.backward()
    torch.nn.utils.clip_grad_norm_(params.values(), 1.0)
    opt.step()
put("adamw_losses", torch.tensor(losses, dtype=torch.float32))

out = pathlib.Path(__file__).resolve().parents[1] / "models" / "fixtures" / "encoder_tiny.bin"
out.parent.mkdir(parents=True, exist_ok=True)
with open(out, "wb") as f:
    f.write(b"NRLFIX1\n")
    for name, code, shape, data in records:
        f.write(struct.pack("<I", len(name)) + name.encode())
        f.write(struct.pack("<II", code, len(shape)) + struct.pack("<%dq" % len(shape), *shape))
        f.write(struct.pack("<Q", len(data)) + data)
print("wrote", out, "(PyTorch", torch.__version__ + ")")
