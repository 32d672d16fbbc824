// Hugging Face Qwen2 / Qwen2.5 folders in and out: config.json plus
// model.safetensors, or shards listed by model.safetensors.index.json.
// Both directions stream a slice of rows at a time, so a model larger than
// memory is never whole: a 32B import holds a few MiB of weights at once.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

namespace newsrl::models {

struct HfImportSummary {
  std::int64_t parameters = 0, tensors = 0;
  std::int64_t ignored = 0;  // tensors in the folder the model does not use (lm_head.weight when tied, ...)
};

// dtype: "auto" keeps BF16 as bfloat16 and stores F32 / F16 as float32;
// "float32" or "bfloat16" converts everything. Bad input (no config, a
// malformed header, a missing tensor, a shape the config disagrees with)
// throws std::invalid_argument with one line.
HfImportSummary import_hf(const std::string& folder, const std::string& out_file, const std::string& dtype,
                          std::ostream& progress);

// Writes config.json and model.safetensors (or shards of at most
// max_shard_bytes with model.safetensors.index.json). dtype: "auto" (as
// stored), "float32" or "bfloat16".
void export_hf(const std::string& checkpoint, const std::string& folder, const std::string& dtype,
               std::uint64_t max_shard_bytes, std::ostream& progress);

}  // namespace newsrl::models
