// The shape of a Qwen2-family causal LM, with Hugging Face config.json field
// names, and the presets: a ladder that trains on a laptop (nano, micro,
// mini, small) and the real Qwen2.5 shapes (weights come by import).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace newsrl::models {

struct Qwen2Config {
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t num_key_value_heads = 0;
  std::int64_t max_position_embeddings = 0;
  double rope_theta = 10000.0;
  double rms_norm_eps = 1e-6;
  bool tie_word_embeddings = true;

  std::int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // Throws std::invalid_argument naming the first field that does not fit.
  void validate() const;
  std::int64_t parameter_count() const;
  // Every parameter's Hugging Face name and shape, in the model's order (no
  // lm_head.weight when tied), without allocating any of them.
  struct ParameterShape {
    std::string name;
    std::vector<std::int64_t> shape;
  };
  std::vector<ParameterShape> parameter_shapes() const;

  nlohmann::json to_json() const;
  // Reads the fields above from a config.json object; `source` names it in errors.
  static Qwen2Config from_json(const nlohmann::json& j, const std::string& source);
  // nano, micro, mini, small, qwen2.5-0.5b, -1.5b, -3b, -7b, -14b, -32b.
  static Qwen2Config preset(const std::string& name);
  static const std::vector<std::string>& preset_names();
};

}  // namespace newsrl::models
