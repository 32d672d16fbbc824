// The two actors of on-policy training: rollout-workers sample completions
// with their log-probs from a replica of the policy, learners update the
// policy from scored samples. Data-parallel learners each take a shard of a
// batch, sum their gradients over the learner group (so every replica takes
// the same step) and stay identical; the first learner's weights are
// published to the rollout-workers as one float32 buffer per policy version.
#pragma once

#include <boost/serialization/vector.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "models/causal_lm.h"
#include "models/optimizer.h"
#include "models/policy_step.h"
#include "models/training_checkpoint.h"
#include "runtime/cluster.h"

// A training state travels from the driver to the learner that saves it.
namespace boost::serialization {
template <class A>
void serialize(A& ar, newsrl::models::TrainingState& s, unsigned) {
  ar& s.global_step& s.tokens_seen& s.policy_version& s.data_cursor& s.rng_states;
}
}  // namespace boost::serialization

namespace newsrl::actors {

// One sampled completion, as it travels between actors.
struct Sample {
  std::vector<std::int32_t> prompt, completion;
  std::vector<float> logprobs;  // per completion token, under the sampling policy
  float advantage = 0.0f;
  bool stopped = false;
  std::int64_t prompt_index = -1;  // which of the loop's prompts (set by the driver)
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& prompt& completion& logprobs& advantage& stopped& prompt_index;
  }
};

// A student's sample with what the teacher said of it (on-policy
// distillation): the teacher's log-prob of each completion token and, for the
// exact KL, its log-softmax rows [tokens x vocab].
struct DistillSample {
  Sample sample;
  std::vector<float> teacher_logprobs, teacher_rows;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& sample& teacher_logprobs& teacher_rows;
  }
};

struct SamplingParams {
  int max_new_tokens = 32;
  float temperature = 1.0f;
  int top_k = 0;
  float top_p = 1.0f;
  std::vector<std::int32_t> stop_tokens;
  std::uint64_t seed = 0;
  std::uint64_t first_stream = 0;  // this worker's first sequence in the whole batch
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& max_new_tokens& temperature& top_k& top_p& stop_tokens& seed& first_stream;
  }
};

// One train() call's numbers over the learner group: loss, clip fraction,
// mean ratio and gradient norm are means over the inner epochs; lr is the
// last epoch's. kl: with beta > 0 the mean k3 estimate of KL(pi || pi_ref)
// per token in the last epoch, else the mean of log pi_old - log pi per token
// after the last update (an estimate of KL(pi_old || pi)).
struct LearnerStats {
  double loss = 0, clip_fraction = 0, mean_ratio = 0, grad_norm = 0, kl = 0, lr = 0;
  std::int64_t tokens = 0, step = 0;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& loss& clip_fraction& mean_ratio& grad_norm& kl& lr& tokens& step;
  }
};

// Where a policy starts: a checkpoint, or a preset/config with a seed.
struct PolicySource {
  std::string checkpoint;  // a model file; else:
  std::string config_json;  // a Qwen2Config as JSON
  std::uint64_t seed = 0;
  models::CausalLM build() const;
};

class PolicyRollout {
 public:
  PolicyRollout(runtime::ActorContext& ctx, const PolicySource& source);
  // `group` samples of each prompt, in prompt order.
  std::vector<Sample> sample(const std::vector<std::vector<std::int32_t>>& prompts, int group,
                             const SamplingParams& params);
  // The learner's weights (every parameter, float32, in the model's order).
  void load_weights(const runtime::Bulk& weights, std::int64_t version);
  std::int64_t version() const { return version_; }
  static void expose(runtime::Methods<PolicyRollout>& m);

 private:
  models::CausalLM model_;
  std::int64_t version_ = 0;
};

// Steps count train() calls (GRPO steps): the learning rate warms up
// linearly over `warmup` of them, then follows half a cosine from lr down to
// min_lr at total_steps. Each call takes `epochs` optimizer steps (mu) over
// the same samples with their rollout log-probs. beta > 0 adds the k3 KL to a
// frozen reference: the policy as the source built it.
struct LearnerOptions {
  float lr = 1e-5f, min_lr = 0.0f, weight_decay = 0.0f, clip_norm = 1.0f;
  std::int64_t warmup = 0, total_steps = 1;
  float clip_low = 0.2f, clip_high = 0.2f, temperature = 1.0f, beta = 0.0f;
  int epochs = 1;
  int micro_batch = 0;  // sequences per forward/backward in a GRPO step (0: the whole shard)
  bool recompute = false;  // recompute each block's activations in the backward (CausalLM::set_recompute)
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& lr& min_lr& weight_decay& clip_norm& warmup& total_steps& clip_low& clip_high& temperature& beta& epochs&
        micro_batch& recompute;
  }
};

// The learner's settings from a training's options (GRPO's or
// distillation's, which name these fields alike: lr, min_lr, weight_decay,
// clip_norm, warmup, steps, clip_low, clip_high, temperature); beta and
// epochs keep their defaults.
template <class Options>
LearnerOptions learner_options(const Options& o) {
  LearnerOptions lo;
  lo.lr = static_cast<float>(o.lr);
  lo.min_lr = static_cast<float>(o.min_lr);
  lo.weight_decay = static_cast<float>(o.weight_decay);
  lo.clip_norm = static_cast<float>(o.clip_norm);
  lo.warmup = o.warmup;
  lo.total_steps = o.steps;
  lo.clip_low = static_cast<float>(o.clip_low);
  lo.clip_high = static_cast<float>(o.clip_high);
  lo.temperature = static_cast<float>(o.temperature);
  return lo;
}

class PolicyLearner {
 public:
  PolicyLearner(runtime::ActorContext& ctx, const PolicySource& source, const LearnerOptions& options);
  // One optimizer step from this learner's shard; `normaliser` is the whole
  // batch's (Dr.GRPO: sequences x max_new_tokens). Every learner of the group
  // must be called for the same step.
  LearnerStats train(const std::vector<Sample>& shard, float normaliser);
  // One optimizer step of on-policy distillation (models/distill_loss.h) from
  // this learner's shard: `full`, the exact reverse KL over the vocabulary
  // (teacher rows needed), else the sampled-token estimate in the clipped
  // policy-gradient step. Stats: kl is the mean reverse KL per token to the
  // teacher over the group's batch before the step (exact or sampled).
  LearnerStats distill(const std::vector<DistillSample>& shard, float normaliser, bool full);
  runtime::Bulk weights() const;
  // A training checkpoint (model, AdamW, `state`) at `path`; call on one learner.
  void save_checkpoint(const std::string& path, const models::TrainingState& state, const std::string& config_toml,
                       const std::string& version);
  // Restores model and optimizer from a checkpoint; every learner of the group.
  models::TrainingState restore(const std::string& path);
  // The policy alone, as a model file (models::save_model).
  void save_policy(const std::string& path) const;
  static void expose(runtime::Methods<PolicyLearner>& m);

 private:
  // Sums the gradients over the learner group and takes the optimizer step;
  // the gradient norm.
  double reduce_and_step();
  runtime::Group& group_;
  models::CausalLM model_;
  std::unique_ptr<models::CausalLM> reference_;  // beta > 0 only
  models::Optimizer optimizer_;
  LearnerOptions options_;
};

}  // namespace newsrl::actors
