#!/usr/bin/env python3
"""Checks newsrl's Hugging Face interop against the transformers library itself
(run where transformers is installed, e.g. the GPU machine's image; this
development machine has none):

  1. transformers loads tests/models/fixtures/hf_tiny_f32 (the folder the
     PyTorch twin wrote, which `newsrl ckpt import-hf` imports exactly) and its
     logits equal the twin's (tests/models/fixtures/qwen2_tiny.bin), which
     newsrl's engine matches in models_test;
  2. transformers loads tests/models/fixtures/hf_tiny_export, written by
     `newsrl ckpt export-hf --dtype bfloat16` from that import, and its logits
     equal the twin's with the weights rounded to bfloat16;
  3. with OUT given, writes OUT/hf_random: a random Qwen2 model saved by
     transformers (GQA, rope_theta 1e6, untied) with its logits on a sequence
     of 200 tokens, for a later import test on the development machine.

    python3 tests/reference/hf_transformers_check.py [OUT]
Exit 0 when every check passes; prints one line per check.
"""
import json
import pathlib
import struct
import sys

import torch
import transformers

root = pathlib.Path(__file__).resolve().parents[1] / "models" / "fixtures"


def read_fixture(path):
    records = {}
    with open(path, "rb") as f:
        assert f.read(8) == b"NRLFIX1\n"
        while True:
            head = f.read(4)
            if not head:
                break
            name = f.read(struct.unpack("<I", head)[0]).decode()
            code, ndim = struct.unpack("<II", f.read(8))
            dims = struct.unpack("<%dq" % ndim, f.read(8 * ndim))
            data = f.read(struct.unpack("<Q", f.read(8))[0])
            if code == 2:
                records[name] = data.decode()
            else:
                dtype = torch.float32 if code == 0 else torch.int32
                records[name] = torch.frombuffer(bytearray(data), dtype=dtype).reshape(dims)
    return records


fx = read_fixture(root / "qwen2_tiny.bin")
ids = fx["input_ids"].long()
failed = 0


def check(name, got, want, tol):
    global failed
    err = (got - want).abs().max().item()
    ok = err <= tol
    failed += not ok
    print(f"{'ok  ' if ok else 'FAIL'} {name}: max |diff| {err:.3g} (tolerance {tol})")


for folder, dtype_note in (("hf_tiny_f32", "float32"), ("hf_tiny_export", "bfloat16 export")):
    model = transformers.AutoModelForCausalLM.from_pretrained(root / folder, torch_dtype=torch.float32,
                                                              attn_implementation="eager")
    model.eval()
    with torch.no_grad():
        logits = model(ids).logits
    want = fx["logits"]
    if folder == "hf_tiny_export":  # the twin's weights rounded to bf16: recompute with transformers' own model
        ref = transformers.AutoModelForCausalLM.from_pretrained(root / "hf_tiny_f32", torch_dtype=torch.float32,
                                                                attn_implementation="eager")
        with torch.no_grad():
            for p in ref.parameters():
                p.copy_(p.to(torch.bfloat16).float())
            want = ref(ids).logits
    check(f"transformers on {folder} ({dtype_note}) vs the twin", logits, want, 2e-4)

if len(sys.argv) > 1:
    out = pathlib.Path(sys.argv[1]) / "hf_random"
    torch.manual_seed(0)
    config = transformers.Qwen2Config(vocab_size=300, hidden_size=64, intermediate_size=96, num_hidden_layers=2,
                                      num_attention_heads=4, num_key_value_heads=2, max_position_embeddings=512,
                                      rope_theta=1000000.0, rms_norm_eps=1e-6, tie_word_embeddings=False)
    model = transformers.Qwen2ForCausalLM(config).eval()
    with torch.no_grad():
        for p in model.parameters():
            p.normal_(0, 0.1)
    model.save_pretrained(out, safe_serialization=True)
    tokens = torch.arange(200).reshape(1, 200) * 7 % 300
    with torch.no_grad():
        logits = model(tokens).logits
    (out / "logits.json").write_text(json.dumps({"input_ids": tokens.tolist(), "logits": logits[0].tolist(),
                                                 "transformers": transformers.__version__}))
    print("wrote", out)
sys.exit(1 if failed else 0)
