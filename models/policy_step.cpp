#include "models/policy_step.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "models/functional.h"

namespace newsrl::models {

namespace k = kernels;

Value policy_step_loss(Graph& g, CausalLM& policy, const std::vector<PolicySample>& batch,
                       const PolicyStepOptions& o, PolicyStepStats* stats, CausalLM* reference) {
  if (batch.empty()) throw std::invalid_argument("policy step: an empty batch");
  if (!(o.temperature > 0)) throw std::invalid_argument("policy step: temperature must be positive");
  if (o.clip.beta > 0 && reference == nullptr) throw std::invalid_argument("policy step: KL weight without a reference");
  const std::int64_t vocab = policy.config().vocab_size;
  std::int64_t t = 0;
  for (std::size_t i = 0; i < batch.size(); ++i) {
    const PolicySample& s = batch[i];
    if (s.prompt.empty()) throw std::invalid_argument("policy step: sample " + std::to_string(i) + " has no prompt");
    if (s.old_logprobs.size() != s.completion.size()) {
      throw std::invalid_argument("policy step: sample " + std::to_string(i) + " has " +
                                  std::to_string(s.old_logprobs.size()) + " old log-probs for " +
                                  std::to_string(s.completion.size()) + " tokens");
    }
    t = std::max<std::int64_t>(t, static_cast<std::int64_t>(s.prompt.size() + s.completion.size()));
  }
  const std::int64_t b = static_cast<std::int64_t>(batch.size());
  // Right-padded ids; position (i, p - 1) predicts completion token j at p = |prompt| + j. Only those
  // positions are scored, one row each, in order: the LM head skips the prompts.
  Tensor ids = Tensor::zeros({b, t}, k::DType::i32);
  std::int32_t* pid = ids.data<std::int32_t>();
  std::vector<std::int32_t> positions, target_ids;
  std::vector<float> old_lp, advantages;
  for (std::int64_t i = 0; i < b; ++i) {
    const PolicySample& s = batch[static_cast<std::size_t>(i)];
    std::int64_t p = 0;
    for (std::int32_t id : s.prompt) pid[i * t + p++] = id;
    for (std::size_t j = 0; j < s.completion.size(); ++j, ++p) {
      const std::int32_t id = s.completion[j];
      if (id < 0 || id >= vocab) throw std::invalid_argument("policy step: token id " + std::to_string(id) + " out of range");
      pid[i * t + p] = id;
      positions.push_back(static_cast<std::int32_t>(i * t + p - 1));
      target_ids.push_back(id);
      old_lp.push_back(s.old_logprobs[j]);
      advantages.push_back(s.advantage);
    }
  }
  const std::int64_t tokens = static_cast<std::int64_t>(positions.size());
  if (tokens == 0) throw std::invalid_argument("policy step: no sample has a completion token");
  const Tensor targets = Tensor::from(target_ids, {tokens});
  const Tensor old = Tensor::from(old_lp, {tokens}), adv = Tensor::from(advantages, {tokens});
  auto logprobs = [&](CausalLM& model, bool trainable) {
    Value logits = model.logits_at(g, ids, Tensor::from(positions, {tokens}), trainable);
    if (o.temperature != 1.0f) logits = fn::scale(g, logits, 1.0f / o.temperature);
    return fn::token_logprobs(g, logits, targets);
  };
  Tensor ref;
  if (o.clip.beta > 0) ref = logprobs(*reference, false).tensor();
  const Value lp = logprobs(policy, true);
  const Value loss = fn::policy_loss(g, lp, old, adv, ref, o.clip, o.normaliser);
  if (stats != nullptr) {
    // Read on the host (a copy back only when the model is on a GPU).
    const Tensor lp_host = lp.tensor().to(k::Device::cpu);
    const Tensor ref_host = o.clip.beta > 0 ? ref.to(k::Device::cpu) : ref;
    const float* l = lp_host.data<float>();
    double ratio_sum = 0, log_ratio_sum = 0, kl_sum = 0;
    std::int64_t clipped = 0;
    const float* po = old_lp.data();
    for (std::int64_t r = 0; r < tokens; ++r) {
      const double ratio = std::exp(static_cast<double>(l[r]) - po[r]);
      ratio_sum += ratio;
      log_ratio_sum += static_cast<double>(l[r]) - po[r];
      clipped += ratio < 1.0 - o.clip.low || ratio > 1.0 + o.clip.high;
      if (o.clip.beta > 0) {
        const double d = static_cast<double>(ref_host.data<float>()[r]) - l[r];
        kl_sum += std::exp(d) - d - 1.0;
      }
    }
    stats->loss = loss.tensor().to(k::Device::cpu).data<float>()[0];
    stats->tokens = tokens;
    stats->mean_ratio = tokens ? ratio_sum / static_cast<double>(tokens) : 0.0;
    stats->mean_log_ratio = tokens ? log_ratio_sum / static_cast<double>(tokens) : 0.0;
    stats->clip_fraction = tokens ? static_cast<double>(clipped) / static_cast<double>(tokens) : 0.0;
    stats->kl = tokens ? kl_sum / static_cast<double>(tokens) : 0.0;
  }
  return loss;
}

PolicyStepStats policy_step_backward(CausalLM& policy, const std::vector<PolicySample>& batch,
                                     const PolicyStepOptions& o, int micro_batch, bool backward,
                                     CausalLM* reference) {
  if (micro_batch < 0) throw std::invalid_argument("policy step: micro_batch must be at least 0");
  const std::size_t step = micro_batch == 0 ? batch.size() : static_cast<std::size_t>(micro_batch);
  PolicyStepStats total;
  double ratio = 0, log_ratio = 0, clipped = 0, kl = 0;
  for (std::size_t from = 0; from < batch.size(); from += step) {
    const std::vector<PolicySample> part(batch.begin() + static_cast<long>(from),
                                         batch.begin() + static_cast<long>(std::min(batch.size(), from + step)));
    PolicyStepStats s;
    Graph g;
    const Value loss = policy_step_loss(g, policy, part, o, &s, reference);
    if (backward) g.backward(loss);
    const auto tokens = static_cast<double>(s.tokens);
    total.loss += s.loss;
    total.tokens += s.tokens;
    ratio += s.mean_ratio * tokens;
    log_ratio += s.mean_log_ratio * tokens;
    clipped += s.clip_fraction * tokens;
    kl += s.kl * tokens;
  }
  if (total.tokens > 0) {
    const auto tokens = static_cast<double>(total.tokens);
    total.mean_ratio = ratio / tokens;
    total.mean_log_ratio = log_ratio / tokens;
    total.clip_fraction = clipped / tokens;
    total.kl = kl / tokens;
  }
  return total;
}

}  // namespace newsrl::models
