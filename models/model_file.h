// A model in an HDF5 file: every parameter as a float32 dataset
// /model/<Hugging Face name> ([out, in] for linear weights; no lm_head.weight
// when the embeddings are tied), and the config as a JSON string attribute
// `config` on the root group, with Hugging Face config.json field names.
#pragma once

#include <string>

#include "models/causal_lm.h"

namespace newsrl::models {

void save_model(const CausalLM& model, const std::string& path);
// Throws one line naming the file and the first missing or mistyped dataset.
CausalLM load_model(const std::string& path);

}  // namespace newsrl::models
