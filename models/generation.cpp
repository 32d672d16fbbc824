#include "models/generation.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "models/functional.h"

namespace newsrl::models {

namespace k = kernels;

namespace {

// The model run on new tokens of several sequences at once, with a KV cache.
// Dense ops (embeddings, norms, projections, MLP) take every new token of
// every sequence as one batch of rows; rotary embeddings and attention run per
// sequence, at that sequence's own positions.
class CachedDecoder {
 public:
  CachedDecoder(CausalLM& model, std::int64_t sequences, std::int64_t max_len, k::DType weights)
      : m_(model), c_(model.config()), length_(static_cast<std::size_t>(sequences), 0), max_len_(max_len) {
    const std::int64_t hkv = c_.num_key_value_heads, d = c_.head_dim();
    for (std::int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      kcache_.push_back(Tensor::empty({sequences, max_len, hkv, d}));
      vcache_.push_back(Tensor::empty({sequences, max_len, hkv, d}));
    }
    auto as = [&](const Parameter* p) {
      if (weights == k::DType::f32) return p->value;
      Tensor w = Tensor::empty(p->value.shape(), weights, p->value.device());
      k::copy(w, p->value);
      return w;
    };
    for (const CausalLM::Block& L : m_.blocks()) {
      mats_.push_back({as(L.q), as(L.k), as(L.v), as(L.o), as(L.gate), as(L.up), as(L.down)});
    }
    head_ = as(&m_.lm_head());
  }

  // Appends tokens[i] to sequence seqs[i]; returns the logits after each sequence's last new token [n, vocab].
  Tensor step(const std::vector<std::int64_t>& seqs, const std::vector<std::vector<std::int32_t>>& tokens) {
    const std::int64_t h = c_.hidden_size, d = c_.head_dim(), hq = c_.num_attention_heads;
    const std::int64_t hkv = c_.num_key_value_heads, kvd = hkv * d;
    const float theta = static_cast<float>(c_.rope_theta), eps = static_cast<float>(c_.rms_norm_eps);
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    std::vector<std::int64_t> start;  // first row of each sequence in the batch of rows
    std::vector<std::int32_t> ids;
    for (std::size_t i = 0; i < seqs.size(); ++i) {
      start.push_back(static_cast<std::int64_t>(ids.size()));
      if (length_[static_cast<std::size_t>(seqs[i])] + static_cast<std::int64_t>(tokens[i].size()) > max_len_) {
        throw std::logic_error("KV cache overflow");
      }
      ids.insert(ids.end(), tokens[i].begin(), tokens[i].end());
    }
    const std::int64_t n = static_cast<std::int64_t>(ids.size());
    const Tensor id_tensor = Tensor::from(ids, {n});
    auto linear = [&](const Tensor& x, const Tensor& w, std::int64_t out_features) {
      Tensor y = Tensor::empty({x.dim(0), out_features});
      k::matmul(y, x, w, false, true);
      return y;
    };

    Tensor x = Tensor::empty({n, h});
    k::embedding_forward(x, m_.embeddings().value, id_tensor);
    Tensor normed = Tensor::empty({n, h}), rstd = Tensor::empty({n});
    for (std::int64_t l = 0; l < c_.num_hidden_layers; ++l) {
      const CausalLM::Block& L = m_.blocks()[static_cast<std::size_t>(l)];
      const Matrices& W = mats_[static_cast<std::size_t>(l)];
      k::rmsnorm_forward(normed, rstd, x, L.input_norm->value, eps);
      Tensor q = linear(normed, W.q, h);
      Tensor kk = linear(normed, W.k, kvd);
      Tensor v = linear(normed, W.v, kvd);
      k::add_bias(q, L.q_bias->value);
      k::add_bias(kk, L.k_bias->value);
      k::add_bias(v, L.v_bias->value);
      Tensor attn = Tensor::empty({n, h});
      // Rotary embeddings and attention per sequence, the sequences side by
      // side on the threads (each one's kernels then run on one thread; the
      // result is the same either way). Everything they write is allocated
      // here, outside the parallel loop.
      Tensor qrot = Tensor::empty({n, hq, d}), lse_all = Tensor::empty({n * hq});
      const std::int64_t nseq = static_cast<std::int64_t>(seqs.size());
#pragma omp parallel for schedule(dynamic) if (nseq > 1)
      for (std::int64_t i = 0; i < nseq; ++i) {
        const std::size_t u = static_cast<std::size_t>(i);
        const std::int64_t s = seqs[u], r0 = start[u], len = static_cast<std::int64_t>(tokens[u].size());
        const std::int64_t pos = length_[static_cast<std::size_t>(s)];
        Tensor qi = qrot.slice(r0, r0 + len).view({1, len, hq, d});
        k::rope_forward(qi, q.slice(r0, r0 + len).view({1, len, hq, d}), pos, theta);
        // Keys and values of the new tokens go straight into the cache.
        Tensor kc = kcache_[static_cast<std::size_t>(l)].slice(s, s + 1).view({max_len_, hkv, d});
        Tensor vc = vcache_[static_cast<std::size_t>(l)].slice(s, s + 1).view({max_len_, hkv, d});
        Tensor knew = kc.slice(pos, pos + len).view({1, len, hkv, d});
        k::rope_forward(knew, kk.slice(r0, r0 + len).view({1, len, hkv, d}), pos, theta);
        Tensor vnew = vc.slice(pos, pos + len);
        k::copy(vnew, v.slice(r0, r0 + len));
        const Tensor keys = kc.slice(0, pos + len).view({1, pos + len, hkv, d});
        const Tensor values = vc.slice(0, pos + len).view({1, pos + len, hkv, d});
        Tensor out = attn.slice(r0, r0 + len).view({1, len, hq, d});
        Tensor lse = lse_all.slice(hq * r0, hq * (r0 + len)).view({1, hq, len});
        k::attention_forward(out, lse, qi, keys, values, pos, scale);
      }
      Tensor o = linear(attn, W.o, h);
      k::accumulate(x, o);
      k::rmsnorm_forward(normed, rstd, x, L.post_norm->value, eps);
      Tensor gate = linear(normed, W.gate, c_.intermediate_size);
      Tensor up = linear(normed, W.up, c_.intermediate_size);
      Tensor act = Tensor::empty(gate.shape());
      k::swiglu_forward(act, gate, up);
      k::accumulate(x, linear(act, W.down, h));
    }
    for (std::size_t i = 0; i < seqs.size(); ++i)
      length_[static_cast<std::size_t>(seqs[i])] += static_cast<std::int64_t>(tokens[i].size());
    // Only each sequence's last row goes on to the LM head.
    const std::int64_t ns = static_cast<std::int64_t>(seqs.size());
    Tensor last = Tensor::empty({ns, h});
    for (std::int64_t i = 0; i < ns; ++i) {
      const std::int64_t r = start[static_cast<std::size_t>(i)] +
                             static_cast<std::int64_t>(tokens[static_cast<std::size_t>(i)].size()) - 1;
      Tensor dst = last.slice(i, i + 1);
      k::copy(dst, x.slice(r, r + 1));
    }
    Tensor final_norm = Tensor::empty({ns, h}), final_rstd = Tensor::empty({ns});
    k::rmsnorm_forward(final_norm, final_rstd, last, m_.final_norm().value, eps);
    return linear(final_norm, head_, c_.vocab_size);
  }

 private:
  struct Matrices {  // one block's weight matrices, as decoding reads them
    Tensor q, k, v, o, gate, up, down;
  };
  CausalLM& m_;
  const Qwen2Config& c_;
  std::vector<Matrices> mats_;
  Tensor head_;
  std::vector<Tensor> kcache_, vcache_;
  std::vector<std::int64_t> length_;
  std::int64_t max_len_;
};

std::uint64_t stream_seed(std::uint64_t seed, std::uint64_t sequence) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (sequence + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

// Draws one token from a row of logits; returns it with its log-probability.
std::pair<std::int32_t, float> draw(const float* logits, std::int64_t vocab, const SamplingOptions& o,
                                    std::mt19937_64& rng) {
  const bool greedy = o.temperature <= 0.0f;
  const double t = greedy ? 1.0 : o.temperature;
  double mx = -INFINITY;
  for (std::int64_t i = 0; i < vocab; ++i) mx = std::max(mx, logits[i] / t);
  double sum = 0;
  for (std::int64_t i = 0; i < vocab; ++i) sum += std::exp(logits[i] / t - mx);
  const double lse = mx + std::log(sum);
  auto logprob = [&](std::int64_t i) { return static_cast<float>(logits[i] / t - lse); };
  if (greedy) {
    const std::int64_t best = std::max_element(logits, logits + vocab) - logits;
    return {static_cast<std::int32_t>(best), logprob(best)};
  }
  std::vector<std::int32_t> order(static_cast<std::size_t>(vocab));
  std::iota(order.begin(), order.end(), 0);
  std::size_t keep = order.size();
  if (o.top_k > 0 && static_cast<std::size_t>(o.top_k) < keep) keep = static_cast<std::size_t>(o.top_k);
  // Highest first; ties to the lower id so that the order is the same everywhere.
  auto higher = [&](std::int32_t a, std::int32_t b) {
    return logits[a] > logits[b] || (logits[a] == logits[b] && a < b);
  };
  std::partial_sort(order.begin(), order.begin() + static_cast<long>(keep), order.end(), higher);
  std::vector<double> p(keep);
  double total = 0;
  for (std::size_t i = 0; i < keep; ++i) {
    p[i] = std::exp(logprob(order[i]));
    total += p[i];
  }
  if (o.top_p < 1.0f) {
    double cum = 0;
    std::size_t cut = keep;
    for (std::size_t i = 0; i < keep; ++i) {
      cum += p[i] / total;
      if (cum >= o.top_p) {
        cut = i + 1;
        break;
      }
    }
    keep = cut;
    total = std::accumulate(p.begin(), p.begin() + static_cast<long>(keep), 0.0);
  }
  double u = std::uniform_real_distribution<double>(0.0, total)(rng);
  std::size_t chosen = keep - 1;
  for (std::size_t i = 0; i < keep; ++i) {
    if ((u -= p[i]) < 0) {
      chosen = i;
      break;
    }
  }
  return {order[chosen], logprob(order[chosen])};
}

}  // namespace

std::vector<Generated> generate(CausalLM& model, const std::vector<std::vector<std::int32_t>>& prompts,
                                const SamplingOptions& options) {
  const Qwen2Config& c = model.config();
  if (options.max_new_tokens < 0) throw std::invalid_argument("max_new_tokens must not be negative");
  if (options.top_p <= 0.0f || options.top_p > 1.0f) throw std::invalid_argument("top_p must be in (0, 1]");
  if (options.weights == k::DType::i32) throw std::invalid_argument("weights must be float32 or bfloat16");
  std::int64_t longest = 0;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    if (prompts[i].empty()) throw std::invalid_argument("prompt " + std::to_string(i) + " is empty");
    for (std::int32_t id : prompts[i]) {
      if (id < 0 || id >= c.vocab_size) {
        throw std::invalid_argument("prompt " + std::to_string(i) + ": token id " + std::to_string(id) +
                                    " is outside the vocabulary of " + std::to_string(c.vocab_size));
      }
    }
    longest = std::max<std::int64_t>(longest, static_cast<std::int64_t>(prompts[i].size()));
  }
  const std::int64_t max_len = longest + options.max_new_tokens;
  if (max_len > c.max_position_embeddings) {
    throw std::invalid_argument(std::to_string(max_len) + " positions exceed max_position_embeddings " +
                                std::to_string(c.max_position_embeddings));
  }
  std::vector<Generated> out(prompts.size());
  if (prompts.empty() || options.max_new_tokens == 0) return out;
  CachedDecoder decoder(model, static_cast<std::int64_t>(prompts.size()), max_len, options.weights);
  std::vector<std::mt19937_64> rngs;
  for (std::size_t i = 0; i < prompts.size(); ++i) rngs.emplace_back(stream_seed(options.seed, options.first_stream + i));

  std::vector<std::int64_t> active(prompts.size());
  std::iota(active.begin(), active.end(), 0);
  std::vector<std::vector<std::int32_t>> feed = prompts;  // first the prompts (prefill), then one token each
  while (!active.empty()) {
    const Tensor logits = decoder.step(active, feed);
    // Each sequence draws from its own stream: side by side on the threads.
    const std::int64_t nactive = static_cast<std::int64_t>(active.size());
    std::vector<std::pair<std::int32_t, float>> drawn(active.size());
#pragma omp parallel for schedule(static) if (nactive > 1)
    for (std::int64_t i = 0; i < nactive; ++i) {
      const std::size_t s = static_cast<std::size_t>(active[static_cast<std::size_t>(i)]);
      drawn[static_cast<std::size_t>(i)] = draw(logits.data<float>() + i * c.vocab_size, c.vocab_size, options, rngs[s]);
    }
    std::vector<std::int64_t> still;
    std::vector<std::vector<std::int32_t>> next;
    for (std::size_t i = 0; i < active.size(); ++i) {
      const std::size_t s = static_cast<std::size_t>(active[i]);
      const auto [token, lp] = drawn[i];
      out[s].tokens.push_back(token);
      out[s].logprobs.push_back(lp);
      const bool stop =
          std::find(options.stop_tokens.begin(), options.stop_tokens.end(), token) != options.stop_tokens.end();
      out[s].stopped = stop;
      if (!stop && static_cast<int>(out[s].tokens.size()) < options.max_new_tokens) {
        still.push_back(active[i]);
        next.push_back({token});
      }
    }
    active = std::move(still);
    feed = std::move(next);
  }
  return out;
}

std::vector<Scored> score(CausalLM& model, const std::vector<std::vector<std::int32_t>>& prompts,
                          const std::vector<std::vector<std::int32_t>>& continuations, bool full_rows) {
  if (prompts.size() != continuations.size()) throw std::invalid_argument("score: one continuation per prompt");
  const std::int64_t vocab = model.config().vocab_size;
  std::vector<Scored> out;
  for (std::size_t i = 0; i < prompts.size(); ++i) {
    std::vector<std::int32_t> seq = prompts[i];
    seq.insert(seq.end(), continuations[i].begin(), continuations[i].end());
    const std::int64_t t = static_cast<std::int64_t>(seq.size()), p = static_cast<std::int64_t>(prompts[i].size());
    const std::int64_t len = static_cast<std::int64_t>(continuations[i].size());
    if (p == 0) throw std::invalid_argument("score: prompt " + std::to_string(i) + " is empty");
    Graph g;
    const Tensor logits = model.logits(g, Tensor::from(seq, {1, t}), false).tensor().view({t, vocab});
    // Rows p-1 .. t-2 predict the continuation's tokens.
    Scored s;
    s.rows = Tensor::empty({len, vocab});
    if (len > 0) k::softmax_forward(s.rows, logits.slice(p - 1, t - 1), true);
    const float* r = s.rows.data<float>();
    for (std::int64_t j = 0; j < len; ++j)
      s.logprobs.push_back(r[j * vocab + continuations[i][static_cast<std::size_t>(j)]]);
    if (!full_rows) s.rows = Tensor();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace newsrl::models
