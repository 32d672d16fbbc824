// A model in a checkpoint file (runtime/checkpoint.h: atomic, checksummed):
// every parameter as a dataset /model/<Hugging Face name> ([out, in] for
// linear weights; no lm_head.weight when the embeddings are tied), float32 or
// bfloat16 (uint16 with a dtype attribute), and the config as a JSON string
// attribute `config` on the root group, with Hugging Face config.json field
// names. docs/checkpoint-format.md has the whole layout.
#pragma once

#include <string>

#include "models/causal_lm.h"
#include "runtime/checkpoint.h"

namespace newsrl::models {

// Writes the model's parameters and config into an open checkpoint.
void write_model(runtime::CheckpointWriter& out, const CausalLM& model, kernels::DType dtype = kernels::DType::f32);
// A checkpoint holding just the model, written atomically.
void save_model(const CausalLM& model, const std::string& path, kernels::DType dtype = kernels::DType::f32);

// The config stored in a checkpoint.
Qwen2Config read_config(const runtime::H5File& file);
// Reads the parameters into `model` (float32 in memory whatever the file
// holds), checking shapes and checksums. Throws one line naming the file and
// the first missing, mistyped, misshapen or damaged dataset.
void read_model(const runtime::H5File& file, CausalLM& model);
CausalLM load_model(const std::string& path);

}  // namespace newsrl::models
