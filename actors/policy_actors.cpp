#include "actors/policy_actors.h"

#include <algorithm>
#include <cstring>
#include <span>
#include <stdexcept>

#include "models/distill_loss.h"
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
      reference_(o.beta > 0 ? std::make_unique<models::CausalLM>(source.build()) : nullptr),
      optimizer_(model_.parameters(), kernels::AdamW{o.lr, 0.9f, 0.999f, 1e-8f, o.weight_decay},
                 models::Schedule{o.lr, o.min_lr, o.warmup * o.epochs, o.total_steps * o.epochs}, o.clip_norm),
      options_(o) {
  if (o.epochs < 1) throw std::invalid_argument("learner: epochs must be at least 1");
  model_.set_recompute(o.recompute);
}

LearnerStats PolicyLearner::train(const std::vector<Sample>& shard, float normaliser) {
  std::vector<models::PolicySample> batch;
  batch.reserve(shard.size());
  for (const Sample& s : shard) batch.push_back({s.prompt, s.completion, s.logprobs, s.advantage});
  models::PolicyStepOptions po;
  po.clip = {options_.clip_low, options_.clip_high, options_.beta};
  po.temperature = options_.temperature;
  po.normaliser = normaliser;
  // Token-weighted sums over the group: loss, clip fraction, ratio, kl (each x tokens but the loss), tokens.
  double totals[4] = {0, 0, 0, 0}, grad_norms = 0;
  float sums[5] = {0, 0, 0, 0, 0};
  LearnerStats out;
  for (int epoch = 0; epoch < options_.epochs; ++epoch) {
    model_.zero_grad();
    models::PolicyStepStats st;
    if (!batch.empty()) st = models::policy_step_backward(model_, batch, po, options_.micro_batch, true, reference_.get());
    grad_norms += reduce_and_step();
    const auto tokens = static_cast<double>(st.tokens);
    float part[5] = {static_cast<float>(st.loss), static_cast<float>(st.clip_fraction * tokens),
                     static_cast<float>(st.mean_ratio * tokens), static_cast<float>(st.kl * tokens),
                     static_cast<float>(st.tokens)};
    group_.host().all_reduce(std::span<float>(part, 5), runtime::ReduceOp::sum);
    std::copy(part, part + 5, sums);
    totals[0] += sums[0];
    totals[1] += sums[4] > 0 ? sums[1] / sums[4] : 0.0;
    totals[2] += sums[4] > 0 ? sums[2] / sums[4] : 0.0;
    totals[3] = sums[4] > 0 ? sums[3] / sums[4] : 0.0;  // the last epoch's
  }
  const double epochs = options_.epochs;
  out.loss = totals[0] / epochs;
  out.clip_fraction = totals[1] / epochs;
  out.mean_ratio = totals[2] / epochs;
  out.grad_norm = grad_norms / epochs;
  out.tokens = static_cast<std::int64_t>(sums[4]);
  out.step = optimizer_.steps_taken();
  out.lr = optimizer_.last_lr();
  if (options_.beta > 0) {
    out.kl = totals[3];
  } else {
    // KL(pi_old || pi) after the update: one more forward, no gradient kept.
    models::PolicyStepStats st;
    if (!batch.empty()) st = models::policy_step_backward(model_, batch, po, options_.micro_batch, false);
    float part[2] = {static_cast<float>(-st.mean_log_ratio * static_cast<double>(st.tokens)),
                     static_cast<float>(st.tokens)};
    group_.host().all_reduce(std::span<float>(part, 2), runtime::ReduceOp::sum);
    out.kl = part[1] > 0 ? part[0] / part[1] : 0.0;
  }
  return out;
}

double PolicyLearner::reduce_and_step() {
  // The whole batch's gradient on every learner: each loss was already
  // divided by the whole batch's normaliser, so the shards' gradients sum.
  for (models::Parameter* p : model_.parameters()) {
    group_.host().all_reduce(std::span<float>(p->grad.data<float>(), static_cast<std::size_t>(p->grad.numel())),
                             runtime::ReduceOp::sum);
  }
  return optimizer_.step();
}

LearnerStats PolicyLearner::distill(const std::vector<DistillSample>& shard, float normaliser, bool full) {
  std::vector<models::DistillSequence> batch;
  batch.reserve(shard.size());
  for (const DistillSample& d : shard) {
    batch.push_back({d.sample.prompt, d.sample.completion, d.sample.logprobs, d.teacher_logprobs, d.teacher_rows});
  }
  models::DistillStepOptions o;
  o.kl = full ? models::KlEstimator::full : models::KlEstimator::sampled;
  o.clip = {options_.clip_low, options_.clip_high, 0.0f};
  o.temperature = options_.temperature;
  o.normaliser = normaliser;
  model_.zero_grad();
  models::DistillStepStats st;
  if (!batch.empty()) {
    models::Graph g;
    g.backward(models::distill_step_loss(g, model_, batch, o, &st));
  }
  LearnerStats out;
  out.grad_norm = reduce_and_step();
  const auto tokens = static_cast<double>(st.tokens);
  // Loss, then token-weighted KL and clip fraction, then tokens, summed over the group.
  float part[4] = {static_cast<float>(st.loss), static_cast<float>(st.kl * tokens),
                   static_cast<float>(st.clip_fraction * tokens), static_cast<float>(tokens)};
  group_.host().all_reduce(std::span<float>(part, 4), runtime::ReduceOp::sum);
  out.loss = part[0];
  out.kl = part[3] > 0 ? part[1] / part[3] : 0.0;
  out.clip_fraction = part[3] > 0 ? part[2] / part[3] : 0.0;
  out.mean_ratio = 1.0;
  out.tokens = static_cast<std::int64_t>(part[3]);
  out.step = optimizer_.steps_taken();
  out.lr = optimizer_.last_lr();
  return out;
}

void PolicyLearner::save_checkpoint(const std::string& path, const models::TrainingState& state,
                                    const std::string& config_toml, const std::string& version) {
  models::save_training(path, model_, optimizer_, state, {config_toml, version});
}

models::TrainingState PolicyLearner::restore(const std::string& path) {
  return models::load_training(path, model_, optimizer_);
}

void PolicyLearner::save_policy(const std::string& path) const { models::save_model(model_, path); }

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
  m.def("train", &PolicyLearner::train)
      .def("distill", &PolicyLearner::distill)
      .def("weights", &PolicyLearner::weights)
      .def("save_checkpoint", &PolicyLearner::save_checkpoint)
      .def("restore", &PolicyLearner::restore)
      .def("save_policy", &PolicyLearner::save_policy);
}

}  // namespace newsrl::actors
