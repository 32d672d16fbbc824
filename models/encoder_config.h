// The shape of the small bidirectional encoder classifier (RoBERTa-style)
// that cleans noisy signals, with Hugging Face RoBERTa config.json field
// names, and its presets: cls-tiny (about 0.1M parameters) and cls-small
// (about 1M), both with a small vocabulary.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace newsrl::models {

struct EncoderConfig {
  std::int64_t vocab_size = 0;
  std::int64_t hidden_size = 0;
  std::int64_t num_hidden_layers = 0;
  std::int64_t num_attention_heads = 0;
  std::int64_t intermediate_size = 0;
  std::int64_t max_position_embeddings = 0;
  double layer_norm_eps = 1e-5;  // RoBERTa's
  std::int64_t num_labels = 2;
  double hidden_dropout_prob = 0.0;  // applied only while training (see EncoderClassifier)

  std::int64_t head_dim() const { return hidden_size / num_attention_heads; }
  // Throws std::invalid_argument naming the first field that does not fit.
  void validate() const;
  std::int64_t parameter_count() const;
  // Every parameter's Hugging Face name and shape, in the model's order.
  struct ParameterShape {
    std::string name;
    std::vector<std::int64_t> shape;
  };
  std::vector<ParameterShape> parameter_shapes() const;

  nlohmann::json to_json() const;
  // Reads the fields above from a config.json object; `source` names it in errors.
  static EncoderConfig from_json(const nlohmann::json& j, const std::string& source);
  // cls-tiny, cls-small.
  static EncoderConfig preset(const std::string& name);
  static const std::vector<std::string>& preset_names();
};

}  // namespace newsrl::models
