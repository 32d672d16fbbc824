// The Dr.GRPO loop on the actors (DESIGN.md, "The method", step 2): each
// step the driver hands a batch of prompts to the rollout-workers (G samples
// each, with log-probs), scores the samples, takes group advantages r - mean
// (no std), has the data-parallel learners take one step on their shards,
// and publishes the new weights to the rollout-workers (policy version + 1).
// Sampling streams are numbered over the whole batch, so the samples do not
// depend on how many rollout-workers share it.
#pragma once

#include <functional>
#include <vector>

#include "actors/policy_actors.h"

namespace newsrl::actors {

// Scores a batch of samples (one reward each). The reward-workers plug in here.
using RewardFn = std::function<std::vector<float>(const std::vector<Sample>&)>;

struct GrpoLoopOptions {
  int steps = 10;
  int group = 8;             // G: samples per prompt
  int prompts_per_step = 4;  // prompts in one batch
  SamplingParams sampling;
  std::uint64_t seed = 0;    // the order of prompts, and (with the step) the sampling streams
};

struct GrpoStepLog {
  std::int64_t step = 0, policy_version = 0;
  double reward_mean = 0, reward_std = 0, zero_spread = 0, mean_length = 0, seconds = 0;
  LearnerStats learner;
};

std::vector<GrpoStepLog> run_grpo(std::vector<runtime::ActorHandle<PolicyRollout>>& rollouts,
                                  std::vector<runtime::ActorHandle<PolicyLearner>>& learners,
                                  const std::vector<std::vector<std::int32_t>>& prompts, const RewardFn& reward,
                                  const GrpoLoopOptions& options,
                                  const std::function<void(const GrpoStepLog&)>& on_step = {});

}  // namespace newsrl::actors
