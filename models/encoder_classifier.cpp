#include "models/encoder_classifier.h"

#include <algorithm>
#include <cmath>
#include <random>
#include <stdexcept>

#include "models/functional.h"

namespace newsrl::models {

namespace {
bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}
}  // namespace

EncoderClassifier::EncoderClassifier(const EncoderConfig& config) : config_(config) {
  config_.validate();
  for (const EncoderConfig::ParameterShape& p : config_.parameter_shapes()) add(p.name, Shape(p.shape));
  for (std::int64_t i = 0; i < config_.num_hidden_layers; ++i) {
    const std::string l = "roberta.encoder.layer." + std::to_string(i) + ".";
    auto p = [&](const std::string& rest) { return &parameter(l + rest); };
    blocks_.push_back(Block{
        p("attention.self.query.weight"), p("attention.self.query.bias"), p("attention.self.key.weight"),
        p("attention.self.key.bias"), p("attention.self.value.weight"), p("attention.self.value.bias"),
        p("attention.output.dense.weight"), p("attention.output.dense.bias"), p("attention.output.LayerNorm.weight"),
        p("attention.output.LayerNorm.bias"), p("intermediate.dense.weight"), p("intermediate.dense.bias"),
        p("output.dense.weight"), p("output.dense.bias"), p("output.LayerNorm.weight"), p("output.LayerNorm.bias")});
  }
  word_ = &parameter("roberta.embeddings.word_embeddings.weight");
  position_ = &parameter("roberta.embeddings.position_embeddings.weight");
  embed_norm_ = &parameter("roberta.embeddings.LayerNorm.weight");
  embed_norm_bias_ = &parameter("roberta.embeddings.LayerNorm.bias");
  head_dense_ = &parameter("classifier.dense.weight");
  head_dense_bias_ = &parameter("classifier.dense.bias");
  head_out_ = &parameter("classifier.out_proj.weight");
  head_out_bias_ = &parameter("classifier.out_proj.bias");
}

void EncoderClassifier::add(const std::string& name, const Shape& shape) {
  auto p = std::make_unique<Parameter>(name, Tensor::zeros(shape));
  order_.push_back(p.get());
  params_.emplace(name, std::move(p));
}

Parameter& EncoderClassifier::parameter(const std::string& name) {
  auto it = params_.find(name);
  if (it == params_.end()) throw std::invalid_argument("the classifier has no parameter " + name);
  return *it->second;
}

void EncoderClassifier::zero_grad() {
  for (Parameter* p : order_) p->zero_grad();
}

void EncoderClassifier::init(std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (Parameter* p : order_) {
    float* w = p->value.data<float>();
    const std::int64_t n = p->value.numel();
    const bool norm_weight = ends_with(p->name, "LayerNorm.weight");
    const bool zero = ends_with(p->name, ".bias");  // biases, LayerNorm biases included
    for (std::int64_t i = 0; i < n; ++i) w[i] = norm_weight ? 1.0f : zero ? 0.0f : normal(rng);
  }
  set_dropout_seed(seed ^ 0x9e3779b97f4a7c15ULL);
}

Value EncoderClassifier::dropout(Graph& g, Value x, bool trainable) {
  const float p = static_cast<float>(config_.hidden_dropout_prob);
  if (!trainable || p == 0.0f) return x;
  // A distinct seed per dropout site and call: splitmix64 of the counter.
  std::uint64_t z = dropout_seed_ + 0x9e3779b97f4a7c15ULL * ++dropout_calls_;
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return fn::dropout(g, x, p, z ^ (z >> 31));
}

Value EncoderClassifier::logits(Graph& g, const Tensor& ids, bool trainable) {
  if (ids.ndim() != 2 || ids.dtype() != kernels::DType::i32) {
    throw std::invalid_argument("input ids " + ids.str() + " should be int32 [batch, tokens]");
  }
  const std::int64_t b = ids.dim(0), t = ids.dim(1), h = config_.hidden_size, d = config_.head_dim();
  const std::int64_t heads = config_.num_attention_heads;
  if (b == 0 || t == 0) throw std::invalid_argument("input ids " + ids.str() + " hold no tokens");
  if (t > config_.max_position_embeddings) {
    throw std::invalid_argument(std::to_string(t) + " tokens exceed max_position_embeddings " +
                                std::to_string(config_.max_position_embeddings));
  }
  const std::int32_t* id = ids.data<std::int32_t>();
  for (std::int64_t i = 0; i < b * t; ++i) {
    if (id[i] < 0 || id[i] >= config_.vocab_size) {
      throw std::invalid_argument("token id " + std::to_string(id[i]) + " at [" + std::to_string(i / t) + ", " +
                                  std::to_string(i % t) + "] is outside the vocabulary of " +
                                  std::to_string(config_.vocab_size));
    }
  }
  // Positions 0..T-1 for every sequence (no padding offset, see the header).
  Tensor positions = Tensor::empty({b, t}, kernels::DType::i32);
  std::int32_t* pos = positions.data<std::int32_t>();
  for (std::int64_t i = 0; i < b * t; ++i) pos[i] = static_cast<std::int32_t>(i % t);

  const float eps = static_cast<float>(config_.layer_norm_eps);
  const float scale = 1.0f / std::sqrt(static_cast<float>(d));
  auto P = [&](Parameter* p) { return trainable ? g.param(*p) : g.constant(p->value); };

  Value x = fn::add(g, fn::embedding(g, P(word_), ids), fn::embedding(g, P(position_), positions));  // [B, T, H]
  x = dropout(g, fn::layernorm(g, x, P(embed_norm_), P(embed_norm_bias_), eps), trainable);
  for (const Block& blk : blocks_) {
    Value q = fn::view(g, fn::linear(g, x, P(blk.q), P(blk.q_bias)), {b, t, heads, d});
    Value k = fn::view(g, fn::linear(g, x, P(blk.k), P(blk.k_bias)), {b, t, heads, d});
    Value v = fn::view(g, fn::linear(g, x, P(blk.v), P(blk.v_bias)), {b, t, heads, d});
    Value a = fn::view(g, fn::attention(g, q, k, v, 0, scale, /*causal=*/false), {b, t, h});
    a = dropout(g, fn::linear(g, a, P(blk.attn_out), P(blk.attn_out_bias)), trainable);
    x = fn::layernorm(g, fn::add(g, a, x), P(blk.attn_norm), P(blk.attn_norm_bias), eps);
    Value m = fn::unary(g, fn::Unary::gelu, fn::linear(g, x, P(blk.inter), P(blk.inter_bias)));
    m = dropout(g, fn::linear(g, m, P(blk.out), P(blk.out_bias)), trainable);
    x = fn::layernorm(g, fn::add(g, m, x), P(blk.out_norm), P(blk.out_norm_bias), eps);
  }
  // RobertaClassificationHead on the first token.
  Value pooled = dropout(g, fn::first_token(g, x), trainable);  // [B, H]
  pooled = fn::unary(g, fn::Unary::tanh, fn::linear(g, pooled, P(head_dense_), P(head_dense_bias_)));
  pooled = dropout(g, pooled, trainable);
  return fn::linear(g, pooled, P(head_out_), P(head_out_bias_));
}

Value EncoderClassifier::loss(Graph& g, const Tensor& ids, const Tensor& labels) {
  if (labels.ndim() != 1 || labels.dtype() != kernels::DType::i32 || ids.ndim() != 2 || labels.dim(0) != ids.dim(0)) {
    throw std::invalid_argument("labels " + labels.str() + " should be int32 [batch] for the input ids " + ids.str());
  }
  const std::int32_t* l = labels.data<std::int32_t>();
  for (std::int64_t i = 0; i < labels.numel(); ++i) {
    if (l[i] < 0 || l[i] >= config_.num_labels) {
      throw std::invalid_argument("label " + std::to_string(l[i]) + " of sequence " + std::to_string(i) +
                                  " is outside [0, " + std::to_string(config_.num_labels) + ")");
    }
  }
  return fn::cross_entropy(g, logits(g, ids), labels);
}

std::vector<std::vector<float>> EncoderClassifier::predict_proba(
    const std::vector<std::vector<std::int32_t>>& sequences, std::int64_t batch_size) {
  if (batch_size <= 0) throw std::invalid_argument("predict_proba: batch_size must be positive");
  std::map<std::size_t, std::vector<std::size_t>> by_length;  // length → sequence indices, in order
  for (std::size_t i = 0; i < sequences.size(); ++i) {
    const std::size_t n = sequences[i].size();
    if (n == 0) throw std::invalid_argument("sequence " + std::to_string(i) + " has no tokens");
    if (static_cast<std::int64_t>(n) > config_.max_position_embeddings) {
      throw std::invalid_argument("sequence " + std::to_string(i) + " has " + std::to_string(n) +
                                  " tokens, more than max_position_embeddings " +
                                  std::to_string(config_.max_position_embeddings));
    }
    for (std::int32_t id : sequences[i]) {
      if (id < 0 || id >= config_.vocab_size) {
        throw std::invalid_argument("sequence " + std::to_string(i) + " holds token id " + std::to_string(id) +
                                    ", outside the vocabulary of " + std::to_string(config_.vocab_size));
      }
    }
    by_length[n].push_back(i);
  }
  const std::int64_t labels = config_.num_labels;
  std::vector<std::vector<float>> out(sequences.size());
  Graph g;
  for (const auto& [length, members] : by_length) {
    const auto t = static_cast<std::int64_t>(length);
    for (std::size_t start = 0; start < members.size(); start += static_cast<std::size_t>(batch_size)) {
      const std::size_t end = std::min(members.size(), start + static_cast<std::size_t>(batch_size));
      const auto b = static_cast<std::int64_t>(end - start);
      Tensor ids = Tensor::empty({b, t}, kernels::DType::i32);
      std::int32_t* dst = ids.data<std::int32_t>();
      for (std::size_t r = start; r < end; ++r) {
        std::copy(sequences[members[r]].begin(), sequences[members[r]].end(),
                  dst + static_cast<std::int64_t>(r - start) * t);
      }
      g.clear();
      const float* z = logits(g, ids, /*trainable=*/false).tensor().data<float>();
      for (std::int64_t r = 0; r < b; ++r) {
        const float* row = z + r * labels;
        const double top = *std::max_element(row, row + labels);
        double sum = 0;
        for (std::int64_t c = 0; c < labels; ++c) sum += std::exp(static_cast<double>(row[c]) - top);
        std::vector<float>& p = out[members[start + static_cast<std::size_t>(r)]];
        for (std::int64_t c = 0; c < labels; ++c) {
          p.push_back(static_cast<float>(std::exp(static_cast<double>(row[c]) - top) / sum));
        }
      }
    }
  }
  return out;
}

}  // namespace newsrl::models
