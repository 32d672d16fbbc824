#!/usr/bin/env python3
"""Writes tests/models/fixtures/distill_torch.inc: the reverse-KL distillation
losses of models/distill_loss.h computed with PyTorch autograd, for the C++
test. Full estimator: sum over kept rows of KL(softmax(z / T) || exp(teacher))
/ normaliser and its gradient in z. Sampled estimator: the Dr.GRPO clipped
objective with advantages -(old - teacher), and its gradient in log p.
Needs Debian's python3-torch (test-only):

    /usr/bin/python3 tests/reference/distill_reference.py
"""
import pathlib

import torch

torch.manual_seed(8)
rows, vocab, temperature, normaliser = 5, 7, 1.5, 8.0
keep = [1, 1, 0, 1, 1]  # row 2 is a prompt row: left out
logits = (2 * torch.randn(rows, vocab, dtype=torch.float64)).float()
teacher = torch.log_softmax(torch.randn(rows, vocab, dtype=torch.float64) * 1.5, dim=-1).float()

z = logits.double().clone().requires_grad_(True)
logp = torch.log_softmax(z / temperature, dim=-1)
kl_rows = (logp.exp() * (logp - teacher.double())).sum(-1)
full_loss = (kl_rows * torch.tensor(keep, dtype=torch.float64)).sum() / normaliser
full_loss.backward()
full_grad = z.grad

tokens, low, high, s_norm = 6, 0.2, 0.28, 4.0
old = (-torch.rand(tokens, dtype=torch.float64) * 3).float()
lp0 = (old.double() + torch.tensor([0.0, 0.05, -0.3, 0.4, -0.1, 0.25], dtype=torch.float64)).float()
teach = (-torch.rand(tokens, dtype=torch.float64) * 3).float()
lp = lp0.double().clone().requires_grad_(True)
adv = -(old.double() - teach.double())
ratio = torch.exp(lp - old.double())
per_token = -torch.minimum(ratio * adv, torch.clamp(ratio, 1 - low, 1 + high) * adv)
sampled_loss = per_token.sum() / s_norm
sampled_loss.backward()
sampled_grad = lp.grad


def literal(x):
    text = f"{x:.9g}"
    return (text if ("." in text or "e" in text) else text + ".0") + "f"


def floats(t):
    return ", ".join(literal(x) for x in t.reshape(-1).tolist())


out = pathlib.Path(__file__).resolve().parents[1] / "models" / "fixtures" / "distill_torch.inc"
with open(out, "w") as f:
    f.write("// Written by tests/reference/distill_reference.py (PyTorch %s); do not edit.\n" % torch.__version__)
    f.write("constexpr int kFullRows = %d, kFullVocab = %d;\n" % (rows, vocab))
    f.write("constexpr float kFullTemperature = %rf, kFullNormaliser = %rf;\n" % (temperature, normaliser))
    f.write("const int kFullKeep[] = {%s};\n" % ", ".join(str(k) for k in keep))
    f.write("const float kFullLogits[] = {%s};\n" % floats(logits))
    f.write("const float kFullTeacher[] = {%s};\n" % floats(teacher))
    f.write("constexpr float kFullLoss = %s;\n" % literal(full_loss.item()))
    f.write("const float kFullGrad[] = {%s};\n" % floats(full_grad))
    f.write("constexpr int kSampledTokens = %d;\n" % tokens)
    f.write("constexpr float kSampledLow = %rf, kSampledHigh = %rf, kSampledNormaliser = %rf;\n" % (low, high, s_norm))
    f.write("const float kSampledLogp[] = {%s};\n" % floats(lp0))
    f.write("const float kSampledOld[] = {%s};\n" % floats(old))
    f.write("const float kSampledTeacher[] = {%s};\n" % floats(teach))
    f.write("constexpr float kSampledLoss = %s;\n" % literal(sampled_loss.item()))
    f.write("const float kSampledGrad[] = {%s};\n" % floats(sampled_grad))
print("wrote", out)
