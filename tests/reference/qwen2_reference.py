#!/usr/bin/env python3
"""The PyTorch twin of newsrl's Qwen2 causal LM. Builds the same model by
hand (Hugging Face's Qwen2 equations: RMSNorm, GQA with repeat_kv, rotate-half
rotary embeddings, SwiGLU MLP, tied embeddings), and writes
tests/models/fixtures/qwen2_tiny.bin with its weights, a batch, the logits,
the loss, every gradient, and the losses of 10 AdamW steps. The C++ tests
match them to float32 tolerance. Needs Debian's python3-torch (test-only):

    /usr/bin/python3 tests/reference/qwen2_reference.py
"""
import json
import math
import pathlib
import struct

import torch

torch.manual_seed(1234)
CONFIG = dict(vocab_size=61, hidden_size=32, intermediate_size=48, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64, rope_theta=10000.0, rms_norm_eps=1e-6,
              tie_word_embeddings=True)
H, V, I, L = CONFIG["hidden_size"], CONFIG["vocab_size"], CONFIG["intermediate_size"], CONFIG["num_hidden_layers"]
HQ, HKV = CONFIG["num_attention_heads"], CONFIG["num_key_value_heads"]
D = H // HQ


def names():
    out = [("model.embed_tokens.weight", (V, H))]
    for i in range(L):
        p = f"model.layers.{i}."
        out += [(p + "input_layernorm.weight", (H,)),
                (p + "self_attn.q_proj.weight", (H, H)), (p + "self_attn.q_proj.bias", (H,)),
                (p + "self_attn.k_proj.weight", (HKV * D, H)), (p + "self_attn.k_proj.bias", (HKV * D,)),
                (p + "self_attn.v_proj.weight", (HKV * D, H)), (p + "self_attn.v_proj.bias", (HKV * D,)),
                (p + "self_attn.o_proj.weight", (H, H)),
                (p + "post_attention_layernorm.weight", (H,)),
                (p + "mlp.gate_proj.weight", (I, H)), (p + "mlp.up_proj.weight", (I, H)),
                (p + "mlp.down_proj.weight", (H, I))]
    out.append(("model.norm.weight", (H,)))
    return out


# Weights large enough that the logits are far from uniform, norms near 1.
params = {}
for name, shape in names():
    if name.endswith("norm.weight"):
        t = 1.0 + 0.1 * torch.randn(shape)
    elif name.endswith(".bias"):
        t = 0.05 * torch.randn(shape)
    else:
        t = 0.15 * torch.randn(shape)
    params[name] = torch.nn.Parameter(t.float())


def rmsnorm(x, w):
    var = x.pow(2).mean(-1, keepdim=True)
    return w * (x * torch.rsqrt(var + CONFIG["rms_norm_eps"]))


def rotate_half(x):
    x1, x2 = x[..., : x.shape[-1] // 2], x[..., x.shape[-1] // 2:]
    return torch.cat((-x2, x1), dim=-1)


def rope(x):  # x [B, heads, T, D]
    inv_freq = 1.0 / (CONFIG["rope_theta"] ** (torch.arange(0, D, 2).float() / D))
    t = torch.arange(x.shape[2]).float()
    freqs = torch.outer(t, inv_freq)
    emb = torch.cat((freqs, freqs), dim=-1)
    return x * emb.cos() + rotate_half(x) * emb.sin()


def forward(ids):
    B, T = ids.shape
    x = params["model.embed_tokens.weight"][ids]
    mask = torch.full((T, T), float("-inf")).triu(1)
    for i in range(L):
        p = lambda n: params[f"model.layers.{i}.{n}"]
        h = rmsnorm(x, p("input_layernorm.weight"))
        q = (h @ p("self_attn.q_proj.weight").T + p("self_attn.q_proj.bias")).view(B, T, HQ, D).transpose(1, 2)
        k = (h @ p("self_attn.k_proj.weight").T + p("self_attn.k_proj.bias")).view(B, T, HKV, D).transpose(1, 2)
        v = (h @ p("self_attn.v_proj.weight").T + p("self_attn.v_proj.bias")).view(B, T, HKV, D).transpose(1, 2)
        q, k = rope(q), rope(k)
        k = k.repeat_interleave(HQ // HKV, dim=1)
        v = v.repeat_interleave(HQ // HKV, dim=1)
        att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(D) + mask, dim=-1)
        a = (att @ v).transpose(1, 2).reshape(B, T, H)
        x = x + a @ p("self_attn.o_proj.weight").T
        h2 = rmsnorm(x, p("post_attention_layernorm.weight"))
        m = torch.nn.functional.silu(h2 @ p("mlp.gate_proj.weight").T) * (h2 @ p("mlp.up_proj.weight").T)
        x = x + m @ p("mlp.down_proj.weight").T
    x = rmsnorm(x, params["model.norm.weight"])
    return x @ params["model.embed_tokens.weight"].T


def loss_of(logits, labels):
    return torch.nn.functional.cross_entropy(logits[:, :-1, :].reshape(-1, V), labels[:, 1:].reshape(-1),
                                             ignore_index=-100)


ids = torch.randint(0, V, (2, 7))
labels = ids.clone()
labels[0, 3] = -100
labels[1, 6] = -100

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


# The same weights as Hugging Face model folders, for the import tests: written
# here by hand (the safetensors format is 8 bytes of header length, a JSON
# header, the bytes), independently of newsrl's reader.
def safetensors_bytes(tensors):  # [(name, tensor, "F32" | "BF16" | "F16")]
    header, blobs, offset = {"__metadata__": {"format": "pt"}}, [], 0
    for name, t, dtype in tensors:
        t = t.detach().contiguous()
        if dtype == "F32":
            data = t.float().numpy().tobytes()
        elif dtype == "BF16":
            data = t.to(torch.bfloat16).view(torch.int16).numpy().tobytes()
        else:
            data = t.to(torch.float16).numpy().tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header).encode()
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


HF_CONFIG = dict(CONFIG, architectures=["Qwen2ForCausalLM"], model_type="qwen2", hidden_act="silu",
                 torch_dtype="float32", use_sliding_window=False, bos_token_id=0, eos_token_id=1)
fixtures = pathlib.Path(__file__).resolve().parents[1] / "models" / "fixtures"
# hf_tiny_f32: float32, two shards and an index, plus an lm_head.weight the tied model ignores.
f32_dir = fixtures / "hf_tiny_f32"
f32_dir.mkdir(parents=True, exist_ok=True)
(f32_dir / "config.json").write_text(json.dumps(HF_CONFIG, indent=2) + "\n")
all_names = [n for n, _ in names()]
half = len(all_names) // 2
shards = [[(n, params[n], "F32") for n in all_names[:half]],
          [(n, params[n], "F32") for n in all_names[half:]] + [("lm_head.weight", params["model.embed_tokens.weight"], "F32")]]
weight_map = {}
for i, shard in enumerate(shards):
    fname = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
    (f32_dir / fname).write_bytes(safetensors_bytes(shard))
    weight_map.update({n: fname for n, _, _ in shard})
(f32_dir / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}, indent=2) + "\n")
# hf_tiny_bf16: one file, matrices in BF16 and the rest in F16; the rounded values go into the fixture.
bf_dir = fixtures / "hf_tiny_bf16"
bf_dir.mkdir(parents=True, exist_ok=True)
(bf_dir / "config.json").write_text(json.dumps(dict(HF_CONFIG, torch_dtype="bfloat16"), indent=2) + "\n")
mixed = [(n, params[n], "BF16" if params[n].dim() == 2 else "F16") for n in all_names]
(bf_dir / "model.safetensors").write_bytes(safetensors_bytes(mixed))
for n, t, dtype in mixed:
    rounded = t.detach().to(torch.bfloat16 if dtype == "BF16" else torch.float16).float()
    put("hf_mixed/" + n, rounded)
put("input_ids", ids)
put("labels", labels)
logits = forward(ids)
loss = loss_of(logits, labels)
loss.backward()
put("logits", logits)
put("loss", loss.reshape(1))
for name, _ in names():
    put("grad/" + name, params[name].grad)

# Ten AdamW steps from the same start: the loss before each step.
for p in params.values():
    p.grad = None
opt = torch.optim.AdamW(params.values(), lr=1e-2, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
losses = []
for _ in range(10):
    opt.zero_grad()
    l = loss_of(forward(ids), labels)
    losses.append(l.item())
    l.backward()
    opt.step()
put("adamw_losses", torch.tensor(losses, dtype=torch.float32))

out = pathlib.Path(__file__).resolve().parents[1] / "models" / "fixtures" / "qwen2_tiny.bin"
out.parent.mkdir(parents=True, exist_ok=True)
with open(out, "wb") as f:
    f.write(b"NRLFIX1\n")
    for name, code, shape, data in records:
        f.write(struct.pack("<I", len(name)) + name.encode())
        f.write(struct.pack("<II", code, len(shape)) + struct.pack("<%dq" % len(shape), *shape))
        f.write(struct.pack("<Q", len(data)) + data)
print("wrote", out, "(PyTorch", torch.__version__ + ")")
