#!/usr/bin/env bash
# `newsrl model` from outside: init writes Hugging Face-named datasets, forward
# writes logits, loss and gradients, generate prints reproducible JSON lines,
# bench prints JSON; bad input is one line and exit 2.
#   tests/launch/model_cli_test.sh BUILD_BIN_DIR
set -u
bin="$1/newsrl"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# shellcheck source=check_lib.sh
source "$(dirname "$0")/check_lib.sh"

check "init a preset" 0 "$bin" model init --preset nano --seed 3 --out "$tmp/nano.h5"
has "init" "312384 parameters"
if command -v h5ls >/dev/null; then
  check "h5ls reads it" 0 h5ls -r "$tmp/nano.h5"
  has "h5ls" "/model/model.layers.0.self_attn.q_proj.weight Dataset {64, 64}"
  has "h5ls" "/model/model.layers.3.mlp.down_proj.weight Dataset {64, 256}"
  grep -q "lm_head" <<<"$out" && fail "tied embeddings: no lm_head.weight expected" "$out"
fi

echo '{"input_ids": [[1,2,3,4,5],[6,7,8,9,10]], "labels": [[1,2,3,4,-100],[6,7,8,9,10]]}' >"$tmp/batch.json"
check "forward with gradients" 0 "$bin" model forward --ckpt "$tmp/nano.h5" --tokens "$tmp/batch.json" --out "$tmp/out.h5" --grads
has "forward" "loss 6.9"  # about log(1024) for a fresh model
if command -v h5ls >/dev/null; then
  check "forward's file" 0 h5ls -r "$tmp/out.h5"
  has "forward's file" "/logits                  Dataset {2, 5, 1024}"
  has "forward's file" "/grads/model.norm.weight Dataset {64}"
fi

check "generate" 0 "$bin" model generate --ckpt "$tmp/nano.h5" --prompt-ids '[[1,2,3],[4]]' --n 2 --max-new-tokens 4 --seed 9 --temperature 0.8
first="$out"
[ "$(grep -c '"ids"' <<<"$out")" -eq 4 ] || fail "generate: want 4 JSON lines" "$out"
check "generate again, same seed" 0 "$bin" model generate --ckpt "$tmp/nano.h5" --prompt-ids '[[1,2,3],[4]]' --n 2 --max-new-tokens 4 --seed 9 --temperature 0.8
[ "$out" = "$first" ] || fail "generate is not reproducible for a seed" "$out"

check "bench train" 0 "$bin" model bench --preset nano --batch 2 --seq 16 --steps 2 --json
has "bench" '"mode":"train"'
has "bench" '"tokens_per_s":'

check "unknown preset" 2 "$bin" model init --preset nanoo --out "$tmp/x.h5"
has "unknown preset" 'newsrl: unknown preset "nanoo" (presets: nano, micro'
echo '{"input_ids": [[1,2],[3,2000]]}' >"$tmp/bad.json"
check "token id out of range" 2 "$bin" model forward --ckpt "$tmp/nano.h5" --tokens "$tmp/bad.json" --out "$tmp/o.h5"
has "token id out of range" "input_ids[1][1] = 2000 is outside the vocabulary of 1024"
echo '{"input_ids": [[1,2],[3]]}' >"$tmp/ragged.json"
check "ragged batch" 2 "$bin" model forward --ckpt "$tmp/nano.h5" --tokens "$tmp/ragged.json" --out "$tmp/o.h5"
has "ragged batch" "input_ids[1] must hold 2 ids like the first row"
check "not a checkpoint" 2 "$bin" model forward --ckpt "$tmp/batch.json" --tokens "$tmp/batch.json" --out "$tmp/o.h5"
has "not a checkpoint" "not an HDF5 file"
check "a checkpoint that lacks a dataset" 2 "$bin" model forward --ckpt "$tmp/out.h5" --tokens "$tmp/batch.json" --out "$tmp/o.h5"
has "lacks a dataset" "missing attribute config"
check "prompt id out of range" 2 "$bin" model generate --ckpt "$tmp/nano.h5" --prompt-ids '[[1,99999]]'
has "prompt id out of range" "prompt 0: token id 99999 is outside the vocabulary of 1024"
finish
