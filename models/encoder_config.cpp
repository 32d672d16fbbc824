#include "models/encoder_config.h"

#include <map>
#include <stdexcept>

namespace newsrl::models {

namespace {

EncoderConfig make(std::int64_t vocab, std::int64_t hidden, std::int64_t layers, std::int64_t heads, std::int64_t inter,
                   std::int64_t max_pos) {
  EncoderConfig c;
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.intermediate_size = inter;
  c.max_position_embeddings = max_pos;
  return c;
}

const std::map<std::string, EncoderConfig>& presets() {
  static const std::map<std::string, EncoderConfig> p = {
      {"cls-tiny", make(512, 64, 2, 4, 128, 128)},     // about 0.11M parameters
      {"cls-small", make(2048, 128, 4, 4, 512, 256)},  // about 1.1M parameters
  };
  return p;
}

}  // namespace

const std::vector<std::string>& EncoderConfig::preset_names() {
  static const std::vector<std::string> names = {"cls-tiny", "cls-small"};
  return names;
}

EncoderConfig EncoderConfig::preset(const std::string& name) {
  auto it = presets().find(name);
  if (it == presets().end()) {
    std::string known;
    for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown classifier preset \"" + name + "\" (presets: " + known + ")");
  }
  return it->second;
}

void EncoderConfig::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("classifier config: " + what);
  };
  need(vocab_size > 0, "vocab_size must be positive");
  need(hidden_size > 0, "hidden_size must be positive");
  need(num_hidden_layers > 0, "num_hidden_layers must be positive");
  need(num_attention_heads > 0 && hidden_size % num_attention_heads == 0,
       "hidden_size " + std::to_string(hidden_size) + " is not a multiple of num_attention_heads " +
           std::to_string(num_attention_heads));
  need(intermediate_size > 0, "intermediate_size must be positive");
  need(max_position_embeddings > 0, "max_position_embeddings must be positive");
  need(layer_norm_eps > 0, "layer_norm_eps must be positive");
  need(num_labels >= 2, "num_labels must be at least 2, not " + std::to_string(num_labels));
  need(hidden_dropout_prob >= 0 && hidden_dropout_prob < 1, "hidden_dropout_prob must be in [0, 1)");
}

std::vector<EncoderConfig::ParameterShape> EncoderConfig::parameter_shapes() const {
  const std::int64_t h = hidden_size, i = intermediate_size;
  std::vector<ParameterShape> out = {{"roberta.embeddings.word_embeddings.weight", {vocab_size, h}},
                                     {"roberta.embeddings.position_embeddings.weight", {max_position_embeddings, h}},
                                     {"roberta.embeddings.LayerNorm.weight", {h}},
                                     {"roberta.embeddings.LayerNorm.bias", {h}}};
  for (std::int64_t n = 0; n < num_hidden_layers; ++n) {
    const std::string l = "roberta.encoder.layer." + std::to_string(n) + ".";
    for (const char* proj : {"query", "key", "value"}) {
      out.push_back({l + "attention.self." + proj + ".weight", {h, h}});
      out.push_back({l + "attention.self." + proj + ".bias", {h}});
    }
    out.push_back({l + "attention.output.dense.weight", {h, h}});
    out.push_back({l + "attention.output.dense.bias", {h}});
    out.push_back({l + "attention.output.LayerNorm.weight", {h}});
    out.push_back({l + "attention.output.LayerNorm.bias", {h}});
    out.push_back({l + "intermediate.dense.weight", {i, h}});
    out.push_back({l + "intermediate.dense.bias", {i}});
    out.push_back({l + "output.dense.weight", {h, i}});
    out.push_back({l + "output.dense.bias", {h}});
    out.push_back({l + "output.LayerNorm.weight", {h}});
    out.push_back({l + "output.LayerNorm.bias", {h}});
  }
  out.push_back({"classifier.dense.weight", {h, h}});
  out.push_back({"classifier.dense.bias", {h}});
  out.push_back({"classifier.out_proj.weight", {num_labels, h}});
  out.push_back({"classifier.out_proj.bias", {num_labels}});
  return out;
}

std::int64_t EncoderConfig::parameter_count() const {
  std::int64_t n = 0;
  for (const ParameterShape& p : parameter_shapes()) {
    std::int64_t size = 1;
    for (std::int64_t d : p.shape) size *= d;
    n += size;
  }
  return n;
}

nlohmann::json EncoderConfig::to_json() const {
  return {{"architectures", {"RobertaForSequenceClassification"}},
          {"model_type", "roberta"},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"intermediate_size", intermediate_size},
          {"max_position_embeddings", max_position_embeddings},
          {"layer_norm_eps", layer_norm_eps},
          {"num_labels", num_labels},
          {"hidden_dropout_prob", hidden_dropout_prob},
          {"attention_probs_dropout_prob", 0.0},
          {"hidden_act", "gelu"}};
}

EncoderConfig EncoderConfig::from_json(const nlohmann::json& j, const std::string& source) {
  auto fail = [&](const std::string& what) { throw std::invalid_argument(source + ": " + what); };
  if (!j.is_object()) fail("a classifier config must be a JSON object");
  EncoderConfig c;
  auto integer = [&](const char* key, std::int64_t& out, bool required) {
    if (!j.contains(key)) {
      if (required) fail(std::string("missing \"") + key + "\"");
      return;
    }
    if (!j[key].is_number_integer()) fail(std::string("\"") + key + "\" must be an integer");
    out = j[key].get<std::int64_t>();
  };
  auto number = [&](const char* key, double& out) {
    if (!j.contains(key)) return;
    if (!j[key].is_number()) fail(std::string("\"") + key + "\" must be a number");
    out = j[key].get<double>();
  };
  integer("vocab_size", c.vocab_size, true);
  integer("hidden_size", c.hidden_size, true);
  integer("num_hidden_layers", c.num_hidden_layers, true);
  integer("num_attention_heads", c.num_attention_heads, true);
  integer("intermediate_size", c.intermediate_size, true);
  integer("max_position_embeddings", c.max_position_embeddings, true);
  integer("num_labels", c.num_labels, false);
  number("layer_norm_eps", c.layer_norm_eps);
  number("hidden_dropout_prob", c.hidden_dropout_prob);
  // What this model does not have is refused rather than silently ignored.
  double attention_dropout = 0.0;
  number("attention_probs_dropout_prob", attention_dropout);
  if (attention_dropout != 0.0) fail("attention_probs_dropout_prob must be 0 (attention dropout is not supported)");
  if (j.contains("hidden_act") && j["hidden_act"] != "gelu") fail("hidden_act must be \"gelu\"");
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  return c;
}

}  // namespace newsrl::models
