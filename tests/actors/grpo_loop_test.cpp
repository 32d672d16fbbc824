// The Dr.GRPO loop on the actors under mpirun -np 1/2/4: rollout-workers and
// data-parallel learners teach a tiny policy a toy reward (the share of
// completion tokens equal to 9), and the same seed and rank count give the
// same run, reward for reward.
#include <gtest/gtest.h>
#include <mpi.h>

#include "actors/grpo_loop.h"

using namespace newsrl;
using namespace newsrl::actors;
using namespace newsrl::runtime;

namespace {

int world_size() {
  int n = 1;
  MPI_Comm_size(MPI_COMM_WORLD, &n);
  return n;
}

PolicySource tiny_policy() {
  models::Qwen2Config c = models::Qwen2Config::preset("nano");
  c.vocab_size = 23;
  c.num_hidden_layers = 2;
  return PolicySource{"", c.to_json().dump(), 4};
}

std::vector<float> toy_reward(const std::vector<Sample>& samples) {
  std::vector<float> r;
  for (const Sample& s : samples) {
    float hits = 0;
    for (std::int32_t id : s.completion) hits += id == 9 ? 1.0f : 0.0f;
    r.push_back(hits / 6.0f);
  }
  return r;
}

// One whole run on fresh actors; the reward of every step.
std::vector<double> run(std::vector<ActorHandle<PolicyRollout>>& rollouts,
                        std::vector<ActorHandle<PolicyLearner>>& learners) {
  GrpoLoopOptions o;
  o.steps = 12;
  o.group = 8;
  o.prompts_per_step = 4;
  o.sampling.max_new_tokens = 6;
  o.seed = 11;
  const std::vector<std::vector<std::int32_t>> prompts = {{1, 2}, {3}, {4, 5, 6}, {7}, {8, 10}, {11}};
  std::vector<double> rewards;
  for (const GrpoStepLog& log : run_grpo(rollouts, learners, prompts, toy_reward, o)) {
    rewards.push_back(log.reward_mean);
    EXPECT_EQ(log.policy_version, log.step);
    EXPECT_GT(log.learner.tokens, 0);
  }
  return rewards;
}

}  // namespace

TEST(GrpoLoop, LearnsTheToyRewardAndRepeatsItself) {
  const int n = world_size();
  PlacementSpec spec;
  spec.add("rollout", std::max(1, n / 2)).add("learner", std::max(1, n - n / 2));
  Cluster cluster(MPI_COMM_WORLD, spec);
  LearnerOptions lo;
  lo.lr = 3e-3f;
  lo.min_lr = 3e-3f;
  lo.total_steps = 100;
  // Two sets of actors, spawned up front on every rank: one per run.
  auto rollouts_a = cluster.spawn<PolicyRollout>("rollout", tiny_policy());
  auto learners_a = cluster.spawn<PolicyLearner>("learner", tiny_policy(), lo);
  auto rollouts_b = cluster.spawn<PolicyRollout>("rollout", tiny_policy());
  auto learners_b = cluster.spawn<PolicyLearner>("learner", tiny_policy(), lo);
  if (!cluster.is_driver()) {
    cluster.serve();
    return;
  }
  const std::vector<double> first = run(rollouts_a, learners_a);
  const std::vector<double> second = run(rollouts_b, learners_b);
  ASSERT_EQ(first.size(), 12u);
  EXPECT_LT(first.front(), 0.15);
  EXPECT_GT(first.back(), 0.3) << "reward " << first.front() << " -> " << first.back();
  EXPECT_EQ(first, second);  // same seed, same ranks: the same run
}
