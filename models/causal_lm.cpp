#include "models/causal_lm.h"

#include <cmath>
#include <random>
#include <stdexcept>

#include "models/functional.h"

namespace newsrl::models {

namespace {
std::string layer(std::int64_t i, const std::string& rest) { return "model.layers." + std::to_string(i) + "." + rest; }
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

CausalLM::CausalLM(const Qwen2Config& config, kernels::Device device) : device_(device), config_(config) {
  config_.validate();
  for (const Qwen2Config::ParameterShape& p : config_.parameter_shapes()) add(p.name, Shape(p.shape));
  for (std::int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    auto p = [&](const std::string& rest) { return &parameter(layer(i, rest)); };
    blocks_.push_back(Block{p("input_layernorm.weight"), p("self_attn.q_proj.weight"), p("self_attn.q_proj.bias"),
                            p("self_attn.k_proj.weight"), p("self_attn.k_proj.bias"), p("self_attn.v_proj.weight"),
                            p("self_attn.v_proj.bias"), p("self_attn.o_proj.weight"),
                            p("post_attention_layernorm.weight"), p("mlp.gate_proj.weight"), p("mlp.up_proj.weight"),
                            p("mlp.down_proj.weight")});
  }
  embed_ = &parameter("model.embed_tokens.weight");
  final_norm_ = &parameter("model.norm.weight");
  head_ = &parameter(config_.tie_word_embeddings ? "model.embed_tokens.weight" : "lm_head.weight");
}

Parameter& CausalLM::add(const std::string& name, const Shape& shape) {
  auto p = std::make_unique<Parameter>(name, Tensor::zeros(shape, kernels::DType::f32, device_));
  Parameter* raw = p.get();
  params_.emplace(name, std::move(p));
  order_.push_back(raw);
  return *raw;
}

Parameter& CausalLM::parameter(const std::string& name) {
  auto it = params_.find(name);
  if (it == params_.end()) throw std::invalid_argument("the model has no parameter " + name);
  return *it->second;
}

void CausalLM::zero_grad() {
  for (Parameter* p : order_) p->zero_grad();
}

void CausalLM::to(kernels::Device device) {
  if (device == device_) return;
  for (Parameter* p : order_) {
    p->value = p->value.to(device);
    p->grad = p->grad.to(device);
  }
  device_ = device;
}

void CausalLM::init(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (Parameter* p : order_) {
    // Drawn into host memory (the parameter itself on the CPU), then copied over.
    Tensor host = device_ == kernels::Device::cpu ? p->value : Tensor::empty(p->value.shape());
    float* w = host.data<float>();
    const std::int64_t n = p->value.numel();
    if (ends_with(p->name, "layernorm.weight") || p->name == "model.norm.weight") {
      for (std::int64_t i = 0; i < n; ++i) w[i] = 1.0f;
    } else if (ends_with(p->name, ".bias")) {
      for (std::int64_t i = 0; i < n; ++i) w[i] = 0.0f;
    } else {
      for (std::int64_t i = 0; i < n; ++i) w[i] = normal(rng);
    }
    if (device_ != kernels::Device::cpu) kernels::copy(p->value, host.to(device_));
  }
}

Value CausalLM::hidden(Graph& g, const Tensor& ids, bool trainable) {
  if (ids.ndim() != 2) throw std::invalid_argument("input ids " + ids.str() + " should be [batch, tokens]");
  const std::int64_t t = ids.dim(1);
  if (t > config_.max_position_embeddings) {
    throw std::invalid_argument(std::to_string(t) + " tokens exceed max_position_embeddings " +
                                std::to_string(config_.max_position_embeddings));
  }
  const float eps = static_cast<float>(config_.rms_norm_eps);
  auto P = [&](Parameter* p) { return trainable ? g.param(*p) : g.constant(p->value); };

  Value x = fn::embedding(g, P(embed_), ids);  // [B, T, H]
  for (const Block& blk : blocks_) {
    x = recompute_ && trainable ? recomputed_block(g, blk, x) : block(g, blk, x, trainable);
  }
  return fn::rmsnorm(g, x, P(final_norm_), eps);
}

Value CausalLM::block(Graph& g, const Block& blk, Value x, bool trainable) {
  const std::int64_t b = x.shape()[0], t = x.shape()[1], h = config_.hidden_size, d = config_.head_dim();
  const std::int64_t hq = config_.num_attention_heads, hkv = config_.num_key_value_heads;
  const float theta = static_cast<float>(config_.rope_theta), eps = static_cast<float>(config_.rms_norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  auto P = [&](Parameter* p) { return trainable ? g.param(*p) : g.constant(p->value); };
  {
    Value n1 = fn::rmsnorm(g, x, P(blk.input_norm), eps);
    Value q = fn::linear(g, n1, P(blk.q), P(blk.q_bias));
    Value k = fn::linear(g, n1, P(blk.k), P(blk.k_bias));
    Value v = fn::linear(g, n1, P(blk.v), P(blk.v_bias));
    q = fn::rope(g, fn::view(g, q, {b, t, hq, d}), 0, theta);
    k = fn::rope(g, fn::view(g, k, {b, t, hkv, d}), 0, theta);
    v = fn::view(g, v, {b, t, hkv, d});
    Value a = fn::view(g, fn::attention(g, q, k, v, 0, scale), {b, t, h});
    x = fn::add(g, x, fn::linear(g, a, P(blk.o)));
    Value n2 = fn::rmsnorm(g, x, P(blk.post_norm), eps);
    Value gate = fn::linear(g, n2, P(blk.gate));
    Value up = fn::linear(g, n2, P(blk.up));
    x = fn::add(g, x, fn::linear(g, fn::swiglu(g, gate, up), P(blk.down)));
  }
  return x;
}

Value CausalLM::recomputed_block(Graph& g, const Block& blk, Value x) {
  // Forward on a scratch graph with the weights as constants: nothing of it is
  // kept but the output, whose storage the outer graph now holds.
  Tensor input = x.tensor(), output;
  {
    Graph scratch;
    output = block(scratch, blk, scratch.constant(input), false).tensor();
  }
  Graph* outer = &g;
  return g.record(output, {x}, [this, outer, &blk, x, input](const Tensor& dy) {
    // Again, with gradients: the weights' go into their grads as in an
    // ordinary step; the input's into the outer graph's gradient of x.
    Parameter leaf("recomputed block input", input);
    leaf.grad = outer->grad(x);
    Graph again;
    const Value y = block(again, blk, again.param(leaf), true);
    again.backward(y, dy);
  });
}

Value CausalLM::logits(Graph& g, const Tensor& ids, bool trainable) {
  return fn::linear(g, hidden(g, ids, trainable), trainable ? g.param(*head_) : g.constant(head_->value));
}

Value CausalLM::logits_at(Graph& g, const Tensor& ids, const Tensor& positions, bool trainable) {
  if (positions.ndim() != 1 || positions.dtype() != kernels::DType::i32 || positions.device() != kernels::Device::cpu) {
    throw std::invalid_argument("logits_at: positions " + positions.str() + " should be int32 [M] on the host");
  }
  const Value h = hidden(g, ids, trainable);
  const std::int64_t rows = h.shape().rows();
  const std::int32_t* p = positions.data<std::int32_t>();
  for (std::int64_t i = 0; i < positions.numel(); ++i) {
    if (p[i] < 0 || p[i] >= rows) {
      throw std::invalid_argument("logits_at: position " + std::to_string(p[i]) + " outside the " +
                                  std::to_string(rows) + " rows of ids " + ids.str());
    }
  }
  // A row gather is an embedding lookup into the hidden states (its backward scatters the rows back).
  const Value picked = fn::embedding(g, fn::view(g, h, {rows, config_.hidden_size}), positions);
  return fn::linear(g, picked, trainable ? g.param(*head_) : g.constant(head_->value));
}

Value CausalLM::loss(Graph& g, const Tensor& ids, const Tensor& labels) {
  if (!(labels.shape() == ids.shape()) || labels.dtype() != kernels::DType::i32) {
    throw std::invalid_argument("labels " + labels.str() + " should be int32 shaped like the input ids " + ids.str());
  }
  const std::int64_t b = ids.dim(0), t = ids.dim(1);
  // Shift: position t is scored on the label at t + 1; the last position on
  // nothing. Built on the host (device labels are read back first);
  // cross_entropy copies them to the model's device.
  const Tensor host_labels = labels.to(kernels::Device::cpu);
  const std::int32_t* l = host_labels.data<std::int32_t>();
  auto label = [&](std::int64_t i, std::int64_t j) { return j + 1 < t ? l[i * t + j + 1] : kernels::kIgnoreIndex; };
  std::int64_t scored = 0;
  for (std::int64_t i = 0; i < b; ++i) {
    for (std::int64_t j = 0; j < t; ++j) scored += label(i, j) != kernels::kIgnoreIndex;
  }
  // Where at most half the positions are scored (a warm start's prompts carry no labels), the LM head and
  // the cross-entropy run on those rows alone; the mean is over the same targets either way.
  if (scored > 0 && 2 * scored <= b * t) {
    Tensor positions = Tensor::empty({scored}, kernels::DType::i32), targets = Tensor::empty({scored}, kernels::DType::i32);
    std::int32_t *pp = positions.data<std::int32_t>(), *pt = targets.data<std::int32_t>();
    for (std::int64_t i = 0; i < b; ++i) {
      for (std::int64_t j = 0; j < t; ++j) {
        if (label(i, j) == kernels::kIgnoreIndex) continue;
        *pp++ = static_cast<std::int32_t>(i * t + j);
        *pt++ = label(i, j);
      }
    }
    return fn::cross_entropy(g, logits_at(g, ids, positions), targets);
  }
  Tensor targets = Tensor::empty({b * t}, kernels::DType::i32);
  std::int32_t* out = targets.data<std::int32_t>();
  for (std::int64_t i = 0; i < b; ++i) {
    for (std::int64_t j = 0; j < t; ++j) out[i * t + j] = label(i, j);
  }
  Value z = logits(g, ids);
  return fn::cross_entropy(g, fn::view(g, z, {b * t, config_.vocab_size}), targets);
}

}  // namespace newsrl::models
