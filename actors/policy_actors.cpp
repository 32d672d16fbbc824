#include "actors/policy_actors.h"

#include <cstring>
#include <span>
#include <stdexcept>

#include "models/generation.h"
#include "models/model_file.h"

namespace newsrl::actors {

models::CausalLM PolicySource::build() const {
  if (!checkpoint.empty()) return models::load_model(checkpoint);
  models::CausalLM m(models::Qwen2Config::from_json(nlohmann::json::parse(config_json), "policy config"));
  m.init(seed);
  return m;
}

// ---- rollout-workers -----------------------------------------------------------

PolicyRollout::PolicyRollout(runtime::ActorContext&, const PolicySource& source) : model_(source.build()) {}

std::vector<Sample> PolicyRollout::sample(const std::vector<std::vector<std::int32_t>>& prompts, int group,
                                          const SamplingParams& p) {
  if (group < 1) throw std::invalid_argument("group size must be at least 1");
  std::vector<std::vector<std::int32_t>> many;
  many.reserve(prompts.size() * static_cast<std::size_t>(group));
  for (const auto& prompt : prompts) {
    for (int i = 0; i < group; ++i) many.push_back(prompt);
  }
  models::SamplingOptions o;
  o.max_new_tokens = p.max_new_tokens;
  o.temperature = p.temperature;
  o.top_k = p.top_k;
  o.top_p = p.top_p;
  o.stop_tokens = p.stop_tokens;
  o.seed = p.seed;
  o.first_stream = p.first_stream;
  const std::vector<models::Generated> out = models::generate(model_, many, o);
  std::vector<Sample> samples(many.size());
  for (std::size_t i = 0; i < many.size(); ++i) {
    samples[i].prompt = std::move(many[i]);
    samples[i].completion = out[i].tokens;
    samples[i].logprobs = out[i].logprobs;
    samples[i].stopped = out[i].stopped;
  }
  return samples;
}

void PolicyRollout::load_weights(const runtime::Bulk& weights, std::int64_t version) {
  std::size_t total = 0;
  for (const models::Parameter* p : model_.parameters()) total += static_cast<std::size_t>(p->value.numel());
  if (weights.dtype() != runtime::DType::f32 || weights.size() != total) {
    throw std::invalid_argument("weights: " + std::to_string(weights.size()) + " values, the policy has " +
                                std::to_string(total) + " float32 parameters");
  }
  const float* src = static_cast<const float*>(weights.data());
  for (models::Parameter* p : model_.parameters()) {
    std::memcpy(p->value.raw(), src, p->value.bytes());
    src += p->value.numel();
  }
  version_ = version;
}

void PolicyRollout::expose(runtime::Methods<PolicyRollout>& m) {
  m.def("sample", &PolicyRollout::sample)
      .def("load_weights", &PolicyRollout::load_weights)
      .def("version", &PolicyRollout::version);
}

// ---- learners ---------------------------------------------------------------------

PolicyLearner::PolicyLearner(runtime::ActorContext& ctx, const PolicySource& source, const LearnerOptions& o)
    : group_(ctx.group),
      model_(source.build()),
      optimizer_(model_.parameters(), kernels::AdamW{o.lr, 0.9f, 0.999f, 1e-8f, o.weight_decay},
                 models::Schedule{o.lr, o.lr, o.warmup, o.total_steps}, o.clip_norm),
      options_(o) {}

LearnerStats PolicyLearner::train(const std::vector<Sample>& shard, float normaliser) {
  model_.zero_grad();
  models::PolicyStepStats st;
  if (!shard.empty()) {
    std::vector<models::PolicySample> batch;
    batch.reserve(shard.size());
    for (const Sample& s : shard) batch.push_back({s.prompt, s.completion, s.logprobs, s.advantage});
    models::PolicyStepOptions po;
    po.clip = {options_.clip_low, options_.clip_high, 0.0f};
    po.temperature = options_.temperature;
    po.normaliser = normaliser;
    models::Graph g;
    g.backward(models::policy_step_loss(g, model_, batch, po, &st));
  }
  // The whole batch's gradient on every learner: each loss was already
  // divided by the whole batch's normaliser, so the shards' gradients sum.
  for (models::Parameter* p : model_.parameters()) {
    group_.host().all_reduce(std::span<float>(p->grad.data<float>(), static_cast<std::size_t>(p->grad.numel())),
                             runtime::ReduceOp::sum);
  }
  LearnerStats out;
  out.grad_norm = optimizer_.step();
  out.step = optimizer_.steps_taken();
  // Token-weighted statistics over the group.
  float sums[4] = {static_cast<float>(st.loss), static_cast<float>(st.clip_fraction * static_cast<double>(st.tokens)),
                   static_cast<float>(st.mean_ratio * static_cast<double>(st.tokens)), static_cast<float>(st.tokens)};
  group_.host().all_reduce(std::span<float>(sums, 4), runtime::ReduceOp::sum);
  out.loss = sums[0];
  out.tokens = static_cast<std::int64_t>(sums[3]);
  out.clip_fraction = sums[3] > 0 ? sums[1] / sums[3] : 0.0;
  out.mean_ratio = sums[3] > 0 ? sums[2] / sums[3] : 0.0;
  return out;
}

runtime::Bulk PolicyLearner::weights() const {
  std::size_t total = 0;
  for (const models::Parameter* p : model_.parameters()) total += static_cast<std::size_t>(p->value.numel());
  runtime::Bulk b = runtime::Bulk::allocate(runtime::DType::f32, total);
  float* dst = static_cast<float*>(b.data());
  for (const models::Parameter* p : model_.parameters()) {
    std::memcpy(dst, p->value.raw(), p->value.bytes());
    dst += p->value.numel();
  }
  return b;
}

void PolicyLearner::expose(runtime::Methods<PolicyLearner>& m) {
  m.def("train", &PolicyLearner::train).def("weights", &PolicyLearner::weights);
}

}  // namespace newsrl::actors
