#!/usr/bin/env python3
"""Writes tests/kernels/fixtures/rope_torch.inc: rotary embeddings as Hugging
Face's Qwen2 computes them (inverse frequencies and position x frequency in
float32, rotate-half), at positions up to Qwen2.5's 32k context, for the C++
test that newsrl's rope matches them where float32 angles matter. Needs
Debian's python3-torch (test-only):

    /usr/bin/python3 tests/reference/rope_reference.py
"""
import pathlib

import torch

torch.manual_seed(0)
dim, theta = 64, 1000000.0
positions = [0, 1, 1000, 30000, 32767]
x = torch.randn(len(positions), dim, dtype=torch.float32)

# Hugging Face's Qwen2RotaryEmbedding, written out.
inv_freq = 1.0 / (theta ** (torch.arange(0, dim, 2, dtype=torch.int64).float() / dim))
pos = torch.tensor(positions, dtype=torch.float32)
freqs = torch.outer(pos, inv_freq)
emb = torch.cat((freqs, freqs), dim=-1)
cos, sin = emb.cos(), emb.sin()


def rotate_half(t):
    return torch.cat((-t[..., dim // 2:], t[..., : dim // 2]), dim=-1)


out = x * cos + rotate_half(x) * sin


def floats(t):
    return ", ".join(f"{v:.9g}f" for v in t.reshape(-1).tolist())


path = pathlib.Path(__file__).resolve().parents[1] / "kernels" / "fixtures" / "rope_torch.inc"
path.write_text(
    f"// Written by tests/reference/rope_reference.py (PyTorch {torch.__version__}); do not edit.\n"
    f"constexpr int kRopeDim = {dim}, kRopePositions = {len(positions)};\n"
    f"constexpr float kRopeTheta = {theta}f;\n"
    f"const long kRopeAt[] = {{{', '.join(str(p) for p in positions)}}};\n"
    f"const float kRopeX[] = {{{floats(x)}}};\n"
    f"const float kRopeOut[] = {{{floats(out)}}};\n")
print("wrote", path)
