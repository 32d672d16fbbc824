#include "models/qwen2_config.h"

#include <map>
#include <stdexcept>

namespace newsrl::models {

namespace {

Qwen2Config make(std::int64_t vocab, std::int64_t hidden, std::int64_t inter, std::int64_t layers, std::int64_t heads,
                 std::int64_t kv, std::int64_t max_pos, double theta, double eps, bool tie) {
  Qwen2Config c;
  c.vocab_size = vocab;
  c.hidden_size = hidden;
  c.intermediate_size = inter;
  c.num_hidden_layers = layers;
  c.num_attention_heads = heads;
  c.num_key_value_heads = kv;
  c.max_position_embeddings = max_pos;
  c.rope_theta = theta;
  c.rms_norm_eps = eps;
  c.tie_word_embeddings = tie;
  return c;
}

const std::map<std::string, Qwen2Config>& presets() {
  static const std::map<std::string, Qwen2Config> p = {
      // The ladder: about 0.3M, 1M, 4M and 16M parameters, tied embeddings, a small vocabulary.
      {"nano", make(1024, 64, 256, 4, 4, 2, 2048, 10000.0, 1e-6, true)},
      {"micro", make(2048, 128, 384, 4, 4, 2, 2048, 10000.0, 1e-6, true)},
      {"mini", make(4096, 256, 768, 4, 8, 4, 2048, 10000.0, 1e-6, true)},
      {"small", make(8192, 512, 1536, 4, 8, 4, 2048, 10000.0, 1e-6, true)},
      // Qwen2.5 shapes, as in their Hugging Face config.json files.
      {"qwen2.5-0.5b", make(151936, 896, 4864, 24, 14, 2, 32768, 1000000.0, 1e-6, true)},
      {"qwen2.5-1.5b", make(151936, 1536, 8960, 28, 12, 2, 32768, 1000000.0, 1e-6, true)},
      {"qwen2.5-3b", make(151936, 2048, 11008, 36, 16, 2, 32768, 1000000.0, 1e-6, true)},
      {"qwen2.5-7b", make(152064, 3584, 18944, 28, 28, 4, 32768, 1000000.0, 1e-6, false)},
      {"qwen2.5-14b", make(152064, 5120, 13824, 48, 40, 8, 32768, 1000000.0, 1e-5, false)},
      {"qwen2.5-32b", make(152064, 5120, 27648, 64, 40, 8, 32768, 1000000.0, 1e-5, false)},
  };
  return p;
}

}  // namespace

const std::vector<std::string>& Qwen2Config::preset_names() {
  static const std::vector<std::string> names = {"nano",         "micro",        "mini",       "small",
                                                 "qwen2.5-0.5b", "qwen2.5-1.5b", "qwen2.5-3b", "qwen2.5-7b",
                                                 "qwen2.5-14b",  "qwen2.5-32b"};
  return names;
}

Qwen2Config Qwen2Config::preset(const std::string& name) {
  auto it = presets().find(name);
  if (it == presets().end()) {
    std::string known;
    for (const auto& n : preset_names()) known += (known.empty() ? "" : ", ") + n;
    throw std::invalid_argument("unknown preset \"" + name + "\" (presets: " + known + ")");
  }
  return it->second;
}

void Qwen2Config::validate() const {
  auto need = [](bool ok, const std::string& what) {
    if (!ok) throw std::invalid_argument("model config: " + what);
  };
  need(vocab_size > 0, "vocab_size must be positive");
  need(hidden_size > 0, "hidden_size must be positive");
  need(intermediate_size > 0, "intermediate_size must be positive");
  need(num_hidden_layers > 0, "num_hidden_layers must be positive");
  need(num_attention_heads > 0 && hidden_size % num_attention_heads == 0,
       "hidden_size " + std::to_string(hidden_size) + " is not a multiple of num_attention_heads " +
           std::to_string(num_attention_heads));
  need(head_dim() % 2 == 0, "the head dimension " + std::to_string(head_dim()) + " must be even for rotary embeddings");
  need(num_key_value_heads > 0 && num_attention_heads % num_key_value_heads == 0,
       "num_attention_heads " + std::to_string(num_attention_heads) + " is not a multiple of num_key_value_heads " +
           std::to_string(num_key_value_heads));
  need(max_position_embeddings > 0, "max_position_embeddings must be positive");
  need(rope_theta > 0 && rms_norm_eps > 0, "rope_theta and rms_norm_eps must be positive");
}

std::int64_t Qwen2Config::parameter_count() const {
  const std::int64_t h = hidden_size, kv = num_key_value_heads * head_dim();
  const std::int64_t attention = (h * h + h) + 2 * (h * kv + kv) + h * h;
  const std::int64_t mlp = 3 * h * intermediate_size;
  const std::int64_t layer = attention + mlp + 2 * h;
  return vocab_size * h * (tie_word_embeddings ? 1 : 2) + num_hidden_layers * layer + h;
}

std::vector<Qwen2Config::ParameterShape> Qwen2Config::parameter_shapes() const {
  const std::int64_t h = hidden_size, kv = num_key_value_heads * head_dim();
  std::vector<ParameterShape> out = {{"model.embed_tokens.weight", {vocab_size, h}}};
  for (std::int64_t i = 0; i < num_hidden_layers; ++i) {
    const std::string l = "model.layers." + std::to_string(i) + ".";
    out.push_back({l + "input_layernorm.weight", {h}});
    out.push_back({l + "self_attn.q_proj.weight", {h, h}});
    out.push_back({l + "self_attn.q_proj.bias", {h}});
    out.push_back({l + "self_attn.k_proj.weight", {kv, h}});
    out.push_back({l + "self_attn.k_proj.bias", {kv}});
    out.push_back({l + "self_attn.v_proj.weight", {kv, h}});
    out.push_back({l + "self_attn.v_proj.bias", {kv}});
    out.push_back({l + "self_attn.o_proj.weight", {h, h}});
    out.push_back({l + "post_attention_layernorm.weight", {h}});
    out.push_back({l + "mlp.gate_proj.weight", {intermediate_size, h}});
    out.push_back({l + "mlp.up_proj.weight", {intermediate_size, h}});
    out.push_back({l + "mlp.down_proj.weight", {h, intermediate_size}});
  }
  out.push_back({"model.norm.weight", {h}});
  if (!tie_word_embeddings) out.push_back({"lm_head.weight", {vocab_size, h}});
  return out;
}

nlohmann::json Qwen2Config::to_json() const {
  return {{"architectures", {"Qwen2ForCausalLM"}},
          {"model_type", "qwen2"},
          {"vocab_size", vocab_size},
          {"hidden_size", hidden_size},
          {"intermediate_size", intermediate_size},
          {"num_hidden_layers", num_hidden_layers},
          {"num_attention_heads", num_attention_heads},
          {"num_key_value_heads", num_key_value_heads},
          {"max_position_embeddings", max_position_embeddings},
          {"rope_theta", rope_theta},
          {"rms_norm_eps", rms_norm_eps},
          {"tie_word_embeddings", tie_word_embeddings},
          {"hidden_act", "silu"}};
}

Qwen2Config Qwen2Config::from_json(const nlohmann::json& j, const std::string& source) {
  auto fail = [&](const std::string& what) { throw std::invalid_argument(source + ": " + what); };
  if (!j.is_object()) fail("a model config must be a JSON object");
  Qwen2Config c;
  auto integer = [&](const char* key, std::int64_t& out) {
    if (!j.contains(key)) fail(std::string("missing \"") + key + "\"");
    if (!j[key].is_number_integer()) fail(std::string("\"") + key + "\" must be an integer");
    out = j[key].get<std::int64_t>();
  };
  integer("vocab_size", c.vocab_size);
  integer("hidden_size", c.hidden_size);
  integer("intermediate_size", c.intermediate_size);
  integer("num_hidden_layers", c.num_hidden_layers);
  integer("num_attention_heads", c.num_attention_heads);
  c.num_key_value_heads = c.num_attention_heads;  // Hugging Face's default
  if (j.contains("num_key_value_heads")) integer("num_key_value_heads", c.num_key_value_heads);
  c.max_position_embeddings = 32768;
  if (j.contains("max_position_embeddings")) integer("max_position_embeddings", c.max_position_embeddings);
  for (const char* key : {"rope_theta", "rms_norm_eps"}) {
    if (j.contains(key) && !j[key].is_number()) fail(std::string("\"") + key + "\" must be a number");
  }
  if (j.contains("rope_theta")) c.rope_theta = j["rope_theta"].get<double>();
  if (j.contains("rms_norm_eps")) c.rms_norm_eps = j["rms_norm_eps"].get<double>();
  c.tie_word_embeddings = false;  // Hugging Face's default for Qwen2
  if (j.contains("tie_word_embeddings")) {
    if (!j["tie_word_embeddings"].is_boolean()) fail("\"tie_word_embeddings\" must be true or false");
    c.tie_word_embeddings = j["tie_word_embeddings"].get<bool>();
  }
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    fail(e.what());
  }
  return c;
}

}  // namespace newsrl::models
