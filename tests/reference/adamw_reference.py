#!/usr/bin/env python3
"""Writes tests/kernels/fixtures/adamw_torch.inc: five steps of PyTorch's
torch.optim.AdamW on a small parameter with fixed gradients, for the C++ test
of the AdamW kernel. Needs Debian's python3-torch (test-only):

    /usr/bin/python3 tests/reference/adamw_reference.py
"""
import pathlib

import torch

torch.manual_seed(0)
n, steps = 12, 5
param = torch.randn(n, dtype=torch.float32)
grads = [torch.randn(n, dtype=torch.float32) for _ in range(steps)]
hp = dict(lr=0.01, betas=(0.9, 0.95), eps=1e-6, weight_decay=0.1)

p = torch.nn.Parameter(param.clone())
opt = torch.optim.AdamW([p], **hp)
trajectory = []
for g in grads:
    p.grad = g.clone()
    opt.step()
    trajectory.append(p.detach().clone())


def floats(t):
    return ", ".join(f"{x:.9g}f" for x in t.tolist())


out = pathlib.Path(__file__).resolve().parents[1] / "kernels" / "fixtures" / "adamw_torch.inc"
with open(out, "w") as f:
    f.write("// Written by tests/reference/adamw_reference.py (PyTorch %s); do not edit.\n" % torch.__version__)
    f.write("constexpr int kAdamSize = %d, kAdamSteps = %d;\n" % (n, steps))
    f.write("constexpr float kAdamLr = %gf, kAdamBeta1 = %gf, kAdamBeta2 = %gf, kAdamEps = %gf, kAdamDecay = %gf;\n"
            % (hp["lr"], hp["betas"][0], hp["betas"][1], hp["eps"], hp["weight_decay"]))
    f.write("const float kAdamStart[] = {%s};\n" % floats(param))
    f.write("const float kAdamGrads[][%d] = {%s};\n" % (n, ", ".join("{" + floats(g) + "}" for g in grads)))
    f.write("const float kAdamAfter[][%d] = {%s};\n" % (n, ", ".join("{" + floats(t) + "}" for t in trajectory)))
print("wrote", out)
