// The Dr.GRPO loop on the actors (DESIGN.md, "The method", step 2): each
// step the driver hands a batch of prompts to the rollout-workers (G samples
// each, with log-probs), scores the samples, takes group advantages r - mean
// (no std), has the data-parallel learners take their step(s) on their shards,
// and publishes the new weights to the rollout-workers (policy version + 1).
// Sampling streams are numbered over the whole batch, so the samples do not
// depend on how many rollout-workers share it. Prompts are handed out pass
// after pass, each pass in a new order drawn from the seed's generator; the
// order is a function of the seed and the number of prompts handed out, so a
// resumed run (resume_step, resume_prompts) continues exactly.
#pragma once

#include <algorithm>
#include <functional>
#include <numeric>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "actors/policy_actors.h"

namespace newsrl::actors {

// A batch's scores: one reward per sample (the advantages come from these),
// optionally further per-sample numbers reported each step as mean and std
// (e.g. each reward of a composite; NaN entries are left out), and a count
// of samples that failed (e.g. did not parse), reported as a share.
struct BatchScores {
  std::vector<float> rewards;
  std::vector<std::pair<std::string, std::vector<double>>> parts;
  std::vector<double> part_weights;  // each part's weight in the composite (per-reward advantages use them)
  std::int64_t failures = 0;
  BatchScores(std::vector<float> r = {}) : rewards(std::move(r)) {}  // NOLINT: a plain reward list converts
};

// Scores a batch of samples. The reward-workers plug in here.
using RewardFn = std::function<BatchScores(const std::vector<Sample>&)>;

// The prompts' order: pass after pass, each pass shuffled by one generator
// from the seed, so where it stands is just the number handed out (a resumed
// loop calls next() that many times).
class PromptOrder {
 public:
  PromptOrder(std::size_t n, std::uint64_t seed) : rng_(seed), order_(n) {
    std::iota(order_.begin(), order_.end(), 0);
    std::shuffle(order_.begin(), order_.end(), rng_);
  }
  std::size_t next() {
    if (cursor_ == order_.size()) {  // a new pass over the prompts, in a new order
      std::shuffle(order_.begin(), order_.end(), rng_);
      cursor_ = 0;
    }
    ++used_;
    return order_[cursor_++];
  }
  std::int64_t used() const { return used_; }

 private:
  std::mt19937_64 rng_;
  std::vector<std::size_t> order_;
  std::size_t cursor_ = 0;
  std::int64_t used_ = 0;
};

struct GrpoLoopOptions {
  int steps = 10;
  int group = 8;             // G: samples per prompt
  int prompts_per_step = 4;  // prompts in one batch
  SamplingParams sampling;
  std::uint64_t seed = 0;  // the order of prompts, and (with the step) the sampling streams
  // Advantages from the composite reward (false), or per reward, each scaled
  // by its spread in the batch (models::per_reward_advantages).
  bool per_reward = false;
  // A resumed run: the steps already taken and the prompts already handed out.
  std::int64_t resume_step = 0, resume_prompts = 0;
};

struct MeanStd {
  double mean = 0, std = 0;
};

// Of the values that are not NaN (both NaN when none is).
MeanStd mean_std(const std::vector<double>& values);

struct GrpoStepLog {
  std::int64_t step = 0, policy_version = 0;
  std::int64_t prompts_used = 0;  // handed out so far, this step's included (the resume cursor)
  double reward_mean = 0, reward_std = 0, zero_spread = 0, mean_length = 0, seconds = 0;
  std::vector<std::pair<std::string, MeanStd>> parts;  // BatchScores::parts
  double failure_share = 0;                            // BatchScores::failures / samples
  double entropy = 0;  // mean -log pi_old of the sampled tokens (an estimate of the policy's entropy)
  std::int64_t completion_tokens = 0;
  double rollout_seconds = 0, reward_seconds = 0, learn_seconds = 0;  // learn includes publishing
  LearnerStats learner;
};

std::vector<GrpoStepLog> run_grpo(std::vector<runtime::ActorHandle<PolicyRollout>>& rollouts,
                                  std::vector<runtime::ActorHandle<PolicyLearner>>& learners,
                                  const std::vector<std::vector<std::int32_t>>& prompts, const RewardFn& reward,
                                  const GrpoLoopOptions& options,
                                  const std::function<void(const GrpoStepLog&)>& on_step = {});

// Contiguous shares of n items over k workers, the first ones one larger:
// (first item, count) per worker.
std::vector<std::pair<std::size_t, std::size_t>> contiguous_shares(std::size_t n, std::size_t k);

// Samples `group` lists per prompt from the rollout-workers, each worker a
// contiguous share of the prompts, all called at once; streams numbered over
// the whole batch (prompt i's first stream is i x group), so the samples do
// not depend on how many workers share it. Sample j's prompt_index is
// prompt_index[j / group]. Used by GRPO and by on-policy and supervised distillation.
std::vector<Sample> sample_lists(std::vector<runtime::ActorHandle<PolicyRollout>>& rollouts,
                                 const std::vector<std::vector<std::int32_t>>& prompts,
                                 const std::vector<std::size_t>& prompt_index, int group, const SamplingParams& params);

}  // namespace newsrl::actors
