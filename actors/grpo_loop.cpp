#include "actors/grpo_loop.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>
#include <random>
#include <stdexcept>

#include "models/grpo.h"

namespace newsrl::actors {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

}  // namespace

MeanStd mean_std(const std::vector<double>& values) {
  double sum = 0, sq = 0, n = 0;
  for (double v : values) {
    if (std::isnan(v)) continue;
    sum += v;
    sq += v * v;
    ++n;
  }
  if (n == 0) return {std::nan(""), std::nan("")};
  const double mean = sum / n;
  return {mean, std::sqrt(std::max(0.0, sq / n - mean * mean))};
}

std::vector<std::pair<std::size_t, std::size_t>> contiguous_shares(std::size_t n, std::size_t k) {
  std::vector<std::pair<std::size_t, std::size_t>> out;
  std::size_t at = 0;
  for (std::size_t w = 0; w < k; ++w) {
    const std::size_t size = n / k + (w < n % k ? 1 : 0);
    out.emplace_back(at, size);
    at += size;
  }
  return out;
}

std::vector<Sample> sample_lists(std::vector<runtime::ActorHandle<PolicyRollout>>& rollouts,
                                 const std::vector<std::vector<std::int32_t>>& prompts,
                                 const std::vector<std::size_t>& prompt_index, int group,
                                 const SamplingParams& params) {
  std::vector<runtime::Future<std::vector<Sample>>> pending;
  const auto shares = contiguous_shares(prompts.size(), rollouts.size());
  for (std::size_t w = 0; w < rollouts.size(); ++w) {
    const auto [from, count] = shares[w];
    if (count == 0) continue;
    SamplingParams p = params;
    p.first_stream = from * static_cast<std::uint64_t>(group);
    std::vector<std::vector<std::int32_t>> mine(prompts.begin() + static_cast<long>(from),
                                                prompts.begin() + static_cast<long>(from + count));
    pending.push_back(rollouts[w].call(&PolicyRollout::sample, mine, group, p));
  }
  std::vector<Sample> samples;
  for (auto& f : pending) {
    for (Sample& s : f.get()) {
      s.prompt_index = static_cast<std::int64_t>(prompt_index[samples.size() / static_cast<std::size_t>(group)]);
      samples.push_back(std::move(s));
    }
  }
  return samples;
}

std::vector<GrpoStepLog> run_grpo(std::vector<runtime::ActorHandle<PolicyRollout>>& rollouts,
                                  std::vector<runtime::ActorHandle<PolicyLearner>>& learners,
                                  const std::vector<std::vector<std::int32_t>>& prompts, const RewardFn& reward,
                                  const GrpoLoopOptions& o, const std::function<void(const GrpoStepLog&)>& on_step) {
  if (prompts.empty()) throw std::invalid_argument("GRPO needs prompts");
  if (rollouts.empty() || learners.empty()) throw std::invalid_argument("GRPO needs rollout-workers and learners");
  if (o.group < 2) throw std::invalid_argument("GRPO needs groups of at least 2 samples");
  if (o.prompts_per_step < 1) throw std::invalid_argument("prompts_per_step must be at least 1");
  PromptOrder order(prompts.size(), o.seed);
  while (order.used() < o.resume_prompts) order.next();  // where the interrupted run stood
  std::vector<GrpoStepLog> history;
  for (std::int64_t step = o.resume_step + 1; step <= o.steps; ++step) {
    const auto t0 = Clock::now();
    std::vector<std::vector<std::int32_t>> batch;
    std::vector<std::size_t> batch_index;
    for (int i = 0; i < o.prompts_per_step; ++i) {
      batch_index.push_back(order.next());
      batch.push_back(prompts[batch_index.back()]);
    }
    SamplingParams params = o.sampling;
    params.seed = o.seed + 1000003ull * static_cast<std::uint64_t>(step);
    std::vector<Sample> samples = sample_lists(rollouts, batch, batch_index, o.group, params);
    GrpoStepLog log;
    log.step = step;
    log.prompts_used = order.used();
    log.rollout_seconds = seconds_since(t0);
    // Rewards and Dr.GRPO advantages.
    const auto t1 = Clock::now();
    const BatchScores scores = reward(samples);
    log.reward_seconds = seconds_since(t1);
    const std::vector<float>& rewards = scores.rewards;
    if (rewards.size() != samples.size()) throw std::logic_error("the reward function returned the wrong count");
    std::vector<float> adv;
    if (o.per_reward) {  // per_reward_advantages refuses parts without one weight each
      std::vector<std::vector<double>> parts;
      for (const auto& part : scores.parts) parts.push_back(part.second);
      adv = models::per_reward_advantages(parts, scores.part_weights, o.group);
    } else {
      adv = models::group_advantages(rewards, o.group);
    }
    double sum = 0, sq = 0, neg_logprob = 0;
    for (std::size_t i = 0; i < samples.size(); ++i) {
      samples[i].advantage = adv[i];
      sum += rewards[i];
      sq += static_cast<double>(rewards[i]) * rewards[i];
      log.completion_tokens += static_cast<std::int64_t>(samples[i].completion.size());
      for (float lp : samples[i].logprobs) neg_logprob -= lp;
    }
    const double n = static_cast<double>(samples.size());
    log.reward_mean = sum / n;
    log.reward_std = std::sqrt(std::max(0.0, sq / n - log.reward_mean * log.reward_mean));
    log.zero_spread = models::zero_spread_share(rewards, o.group);
    log.mean_length = static_cast<double>(log.completion_tokens) / n;
    log.entropy = log.completion_tokens > 0 ? neg_logprob / static_cast<double>(log.completion_tokens) : 0.0;
    log.failure_share = static_cast<double>(scores.failures) / n;
    for (const auto& [name, values] : scores.parts) log.parts.emplace_back(name, mean_std(values));
    // The learners' step(s), each on its share of the samples.
    const auto t2 = Clock::now();
    const float normaliser =
        models::dr_grpo_normaliser(static_cast<std::int64_t>(samples.size()), o.sampling.max_new_tokens);
    std::vector<runtime::Future<LearnerStats>> steps;
    const auto sample_shares = contiguous_shares(samples.size(), learners.size());
    for (std::size_t l = 0; l < learners.size(); ++l) {
      const auto [from, count] = sample_shares[l];
      std::vector<Sample> shard(samples.begin() + static_cast<long>(from),
                                samples.begin() + static_cast<long>(from + count));
      steps.push_back(learners[l].call(&PolicyLearner::train, shard, normaliser));
    }
    for (std::size_t l = 0; l < steps.size(); ++l) {
      LearnerStats st = steps[l].get();
      if (l == 0) log.learner = st;
    }
    // Publish: the first learner's weights to every rollout-worker.
    const runtime::Bulk weights = learners[0].call(&PolicyLearner::weights).get();
    std::vector<runtime::Future<void>> loads;
    for (auto& r : rollouts) loads.push_back(r.call(&PolicyRollout::load_weights, weights, std::int64_t{step}));
    for (auto& f : loads) f.get();
    log.learn_seconds = seconds_since(t2);
    log.policy_version = step;
    log.seconds = seconds_since(t0);
    history.push_back(log);
    if (on_step) on_step(log);
  }
  return history;
}

}  // namespace newsrl::actors
