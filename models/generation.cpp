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
// sequence, at that sequence's own positions. Everything lives on the model's
// device; greedy picks and draws are made there too (on the CPU, draws with a
// temperature read each step's logits row by row on the host).
class CachedDecoder {
 public:
  // lockstep: every step will run every sequence at one position (step_lockstep).
  CachedDecoder(CausalLM& model, std::int64_t sequences, std::int64_t max_len, k::DType weights, bool lockstep)
      : m_(model),
        c_(model.config()),
        dev_(model.device()),
        lockstep_(lockstep),
        length_(static_cast<std::size_t>(sequences), 0),
        max_len_(max_len) {
    const std::int64_t hkv = c_.num_key_value_heads, d = c_.head_dim();
    const Shape cache = lockstep ? Shape{max_len, sequences * hkv, d} : Shape{sequences, max_len, hkv, d};
    for (std::int64_t i = 0; i < c_.num_hidden_layers; ++i) {
      kcache_.push_back(Tensor::empty(cache, k::DType::f32, dev_));
      vcache_.push_back(Tensor::empty(cache, k::DType::f32, dev_));
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

  // Whether every step runs every sequence, all at one position (see step_lockstep).
  bool lockstep() const { return lockstep_; }

  // Appends tokens[i] to sequence seqs[i]; returns the logits after each sequence's last new token [n, vocab].
  Tensor step(const std::vector<std::int64_t>& seqs, const std::vector<std::vector<std::int32_t>>& tokens) {
    if (lockstep_) throw std::logic_error("step() of a lockstep decoder");
    const std::int64_t d = c_.head_dim(), hq = c_.num_attention_heads, hkv = c_.num_key_value_heads;
    const float theta = static_cast<float>(c_.rope_theta);
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
    const Tensor x = blocks(ids, [&](std::int64_t l, const Tensor& q, const Tensor& kk, const Tensor& v, Tensor& attn) {
      // Rotary embeddings and attention per sequence, the sequences side by
      // side on the threads (each one's kernels then run on one thread; the
      // result is the same either way). Everything they write is allocated
      // here, outside the parallel loop. On a GPU the kernels queue on its
      // one stream from this thread.
      Tensor qrot = Tensor::empty({n, hq, d}, k::DType::f32, dev_);
      Tensor lse_all = Tensor::empty({n * hq}, k::DType::f32, dev_);
      const std::int64_t nseq = static_cast<std::int64_t>(seqs.size());
      const bool threads = nseq > 1 && dev_ == k::Device::cpu;
#pragma omp parallel for schedule(dynamic) if (threads)
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
    });
    for (std::size_t i = 0; i < seqs.size(); ++i)
      length_[static_cast<std::size_t>(seqs[i])] += static_cast<std::int64_t>(tokens[i].size());
    // Only each sequence's last row goes on to the LM head.
    const std::int64_t ns = static_cast<std::int64_t>(seqs.size());
    Tensor last = Tensor::empty({ns, c_.hidden_size}, k::DType::f32, dev_);
    for (std::int64_t i = 0; i < ns; ++i) {
      const std::int64_t r = start[static_cast<std::size_t>(i)] +
                             static_cast<std::int64_t>(tokens[static_cast<std::size_t>(i)].size()) - 1;
      Tensor dst = last.slice(i, i + 1);
      k::copy(dst, x.slice(r, r + 1));
    }
    return head(last);
  }

  // The GPU's batched form of step(): every sequence appends the same number
  // of tokens at the same position. The rows go position-major (row t * S + s
  // is sequence s's token t) and the cache of a layer is [max_len, S * Hkv,
  // D], so that the S sequences side by side are one sequence of S * Hq query
  // heads over S * Hkv key/value heads (head j of sequence s uses its own
  // key/value head): rotary embeddings, the cache writes and attention are one
  // kernel each for the whole batch, however many sequences there are.
  // Returns the logits after each sequence's last new token [S, vocab].
  Tensor step_lockstep(const std::vector<std::vector<std::int32_t>>& tokens) {
    if (!lockstep_) throw std::logic_error("step_lockstep() of a per-sequence decoder");
    const std::int64_t d = c_.head_dim(), hq = c_.num_attention_heads, hkv = c_.num_key_value_heads;
    const float theta = static_cast<float>(c_.rope_theta);
    const float scale = 1.0f / std::sqrt(static_cast<float>(d));
    const std::int64_t ns = static_cast<std::int64_t>(tokens.size());
    const std::int64_t len = static_cast<std::int64_t>(tokens[0].size()), pos = length_[0];
    if (ns != static_cast<std::int64_t>(length_.size())) throw std::logic_error("lockstep: every sequence steps");
    if (pos + len > max_len_) throw std::logic_error("KV cache overflow");
    std::vector<std::int32_t> ids(static_cast<std::size_t>(ns * len));
    for (std::int64_t s = 0; s < ns; ++s) {
      const std::vector<std::int32_t>& t = tokens[static_cast<std::size_t>(s)];
      if (static_cast<std::int64_t>(t.size()) != len) throw std::logic_error("lockstep: tokens of unequal counts");
      for (std::int64_t j = 0; j < len; ++j) ids[static_cast<std::size_t>(j * ns + s)] = t[static_cast<std::size_t>(j)];
    }
    const Tensor x = blocks(ids, [&](std::int64_t l, const Tensor& q, const Tensor& kk, const Tensor& v, Tensor& attn) {
      Tensor qrot = Tensor::empty({1, len, ns * hq, d}, k::DType::f32, dev_);
      k::rope_forward(qrot, q.view({1, len, ns * hq, d}), pos, theta);
      Tensor& kc = kcache_[static_cast<std::size_t>(l)];
      Tensor& vc = vcache_[static_cast<std::size_t>(l)];
      Tensor knew = kc.slice(pos, pos + len).view({1, len, ns * hkv, d});
      k::rope_forward(knew, kk.view({1, len, ns * hkv, d}), pos, theta);
      Tensor vnew = vc.slice(pos, pos + len);
      k::copy(vnew, v);
      const Tensor keys = kc.slice(0, pos + len).view({1, pos + len, ns * hkv, d});
      const Tensor values = vc.slice(0, pos + len).view({1, pos + len, ns * hkv, d});
      Tensor out = attn.view({1, len, ns * hq, d});
      Tensor lse = Tensor::empty({1, ns * hq, len}, k::DType::f32, dev_);
      k::attention_forward(out, lse, qrot, keys, values, pos, scale);
    });
    for (std::int64_t& length : length_) length += len;
    return head(x.slice((len - 1) * ns, len * ns));  // the last position's rows, in sequence order
  }

 private:
  Tensor linear(const Tensor& x, const Tensor& w, std::int64_t out_features) const {
    Tensor y = Tensor::empty({x.dim(0), out_features}, k::DType::f32, dev_);
    k::matmul(y, x, w, false, true);
    return y;
  }

  // The blocks over rows of token ids → the hidden states [rows, hidden].
  // attend(layer, q, k, v, attn) fills attn [rows, hidden] from the
  // projections (biases added, no rotary embedding yet) and the cache.
  template <class Attend>
  Tensor blocks(const std::vector<std::int32_t>& ids, Attend&& attend) {
    const std::int64_t h = c_.hidden_size, kvd = c_.num_key_value_heads * c_.head_dim();
    const float eps = static_cast<float>(c_.rms_norm_eps);
    const std::int64_t n = static_cast<std::int64_t>(ids.size());
    const Tensor id_tensor = Tensor::from(ids, {n}).to(dev_);
    Tensor x = Tensor::empty({n, h}, k::DType::f32, dev_);
    k::embedding_forward(x, m_.embeddings().value, id_tensor);
    Tensor normed = Tensor::empty({n, h}, k::DType::f32, dev_), rstd = Tensor::empty({n}, k::DType::f32, dev_);
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
      Tensor attn = Tensor::empty({n, h}, k::DType::f32, dev_);
      attend(l, q, kk, v, attn);
      Tensor o = linear(attn, W.o, h);
      k::accumulate(x, o);
      k::rmsnorm_forward(normed, rstd, x, L.post_norm->value, eps);
      Tensor gate = linear(normed, W.gate, c_.intermediate_size);
      Tensor up = linear(normed, W.up, c_.intermediate_size);
      Tensor act = Tensor::empty(gate.shape(), k::DType::f32, dev_);
      k::swiglu_forward(act, gate, up);
      k::accumulate(x, linear(act, W.down, h));
    }
    return x;
  }

  // Final norm and LM head of some rows [S, hidden] → logits [S, vocab].
  Tensor head(const Tensor& last) {
    const std::int64_t ns = last.dim(0), h = c_.hidden_size;
    Tensor final_norm = Tensor::empty({ns, h}, k::DType::f32, dev_);
    Tensor final_rstd = Tensor::empty({ns}, k::DType::f32, dev_);
    k::rmsnorm_forward(final_norm, final_rstd, last, m_.final_norm().value, static_cast<float>(c_.rms_norm_eps));
    return linear(final_norm, head_, c_.vocab_size);
  }

  struct Matrices {  // one block's weight matrices, as decoding reads them
    Tensor q, k, v, o, gate, up, down;
  };
  CausalLM& m_;
  const Qwen2Config& c_;
  k::Device dev_;
  bool lockstep_;
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

// Draws one token from a row of logits at temperature o.temperature > 0 on the
// host (greedy picks go through kernels::argmax_rows, and draws on a GPU
// through kernels::sample_rows); returns it with its log-probability.
std::pair<std::int32_t, float> draw(const float* logits, std::int64_t vocab, const SamplingOptions& o,
                                    std::mt19937_64& rng) {
  const double t = o.temperature;
  double mx = -INFINITY;
  for (std::int64_t i = 0; i < vocab; ++i) mx = std::max(mx, logits[i] / t);
  double sum = 0;
  for (std::int64_t i = 0; i < vocab; ++i) sum += std::exp(logits[i] / t - mx);
  const double lse = mx + std::log(sum);
  auto logprob = [&](std::int64_t i) { return static_cast<float>(logits[i] / t - lse); };
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
  // On a GPU (or when asked), prompts of one length decode in lockstep: one
  // batched kernel per op for all sequences (a finished sequence keeps
  // stepping on its last token, its logits unread, so that positions stay
  // equal). The CPU decodes per sequence, side by side on its threads.
  bool lockstep = model.device() != k::Device::cpu || options.lockstep;
  for (const std::vector<std::int32_t>& p : prompts) lockstep = lockstep && p.size() == prompts[0].size();
  CachedDecoder decoder(model, static_cast<std::int64_t>(prompts.size()), max_len, options.weights, lockstep);
  std::vector<std::mt19937_64> rngs;
  for (std::size_t i = 0; i < prompts.size(); ++i) rngs.emplace_back(stream_seed(options.seed, options.first_stream + i));

  std::vector<std::int64_t> active(prompts.size());
  std::iota(active.begin(), active.end(), 0);
  std::vector<std::vector<std::int32_t>> feed = prompts;  // first the prompts (prefill), then one token each
  while (!active.empty()) {
    Tensor logits;
    std::vector<std::int64_t> row(active.size());  // the logits row of each active sequence
    if (decoder.lockstep()) {
      std::vector<std::vector<std::int32_t>> all(prompts.size());
      for (std::size_t s = 0; s < prompts.size(); ++s) {
        if (!out[s].tokens.empty()) all[s] = {out[s].tokens.back()};  // a finished one: ignored
      }
      for (std::size_t i = 0; i < active.size(); ++i) {
        all[static_cast<std::size_t>(active[i])] = feed[i];
        row[i] = active[i];
      }
      logits = decoder.step_lockstep(all);
    } else {
      logits = decoder.step(active, feed);
      std::iota(row.begin(), row.end(), 0);
    }
    const std::int64_t nactive = static_cast<std::int64_t>(active.size());
    std::vector<std::pair<std::int32_t, float>> drawn(active.size());
    if (options.temperature <= 0.0f || logits.device() != k::Device::cpu) {
      // Greedy picks, and draws on a GPU, are made where the logits are;
      // only an id and a log-prob per row come back. argmax_rows does the
      // host sampler's arithmetic; sample_rows draws from the same
      // distribution, from one uniform of the sequence's own stream per token.
      const std::int64_t rows = logits.shape().rows();
      Tensor ids = Tensor::empty({rows}, k::DType::i32, logits.device());
      Tensor logprobs = Tensor::empty({rows}, k::DType::f32, logits.device());
      if (options.temperature <= 0.0f) {
        k::argmax_rows(ids, logprobs, logits);
      } else {
        std::vector<float> u(static_cast<std::size_t>(rows), 0.0f);  // rows of finished sequences: unread
        for (std::size_t i = 0; i < active.size(); ++i) {
          std::mt19937_64& rng = rngs[static_cast<std::size_t>(active[i])];
          u[static_cast<std::size_t>(row[i])] = static_cast<float>(std::uniform_real_distribution<double>(0.0, 1.0)(rng));
        }
        const Tensor uniforms = Tensor::from(u, {rows}).to(logits.device());
        k::sample_rows(ids, logprobs, logits, uniforms, {options.temperature, options.top_k, options.top_p});
      }
      const std::vector<std::int32_t> id = ids.to_vector<std::int32_t>();
      const std::vector<float> lp = logprobs.to_vector<float>();
      for (std::size_t i = 0; i < active.size(); ++i) {
        const std::size_t r = static_cast<std::size_t>(row[i]);
        drawn[i] = {id[r], lp[r]};
      }
    } else {
      logits = logits.to(k::Device::cpu);  // sampling with a temperature runs on the host
      // Each sequence draws from its own stream: side by side on the threads.
#pragma omp parallel for schedule(static) if (nactive > 1)
      for (std::int64_t i = 0; i < nactive; ++i) {
        const std::size_t s = static_cast<std::size_t>(active[static_cast<std::size_t>(i)]);
        const float* r = logits.data<float>() + row[static_cast<std::size_t>(i)] * c.vocab_size;
        drawn[static_cast<std::size_t>(i)] = draw(r, c.vocab_size, options, rngs[s]);
      }
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
    // Positions p-1 .. t-2 predict the continuation's tokens: the LM head runs at those alone
    // (log-softmax on the model's device, read on the host).
    Scored s;
    s.rows = Tensor::empty({len, vocab}, k::DType::f32, model.device());
    if (len > 0) {
      std::vector<std::int32_t> at(static_cast<std::size_t>(len));
      for (std::int64_t j = 0; j < len; ++j) at[static_cast<std::size_t>(j)] = static_cast<std::int32_t>(p - 1 + j);
      Graph g;
      const Tensor logits = model.logits_at(g, Tensor::from(seq, {1, t}), Tensor::from(at, {len}), false).tensor();
      k::softmax_forward(s.rows, logits, true);
    }
    s.rows = s.rows.to(k::Device::cpu);
    const float* r = s.rows.data<float>();
    for (std::int64_t j = 0; j < len; ++j)
      s.logprobs.push_back(r[j * vocab + continuations[i][static_cast<std::size_t>(j)]]);
    if (!full_rows) s.rows = Tensor();
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace newsrl::models
