// `newsrl train grpo`: the Dr.GRPO teacher on the news data (docs/grpo.md).
// Every user with cleaned signals is a prompt (rendered as `data sft`
// renders it); rollout-workers sample G query lists per prompt from the
// policy, reward-workers score them with the five news rewards, the
// data-parallel learners update the policy, which starts from [model] init
// (the warm start) — also the frozen reference of the optional KL term.
// Writes a run folder: config.toml, metrics.jsonl, checkpoints/, policy.h5;
// a resumed run continues exactly.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "news/grammar.h"
#include "news/prompt.h"
#include "news/reward_config.h"
#include "runtime/cluster.h"

namespace newsrl::actors {

// Every key with its default is in docs/grpo.md.
struct GrpoTrainingOptions {
  std::string init;  // [model] init: the policy's first weights (a model file or training checkpoint)
  bool recompute = false;  // [model] recompute: the learners recompute each block's activations in the backward
  // [data]
  std::string world, index, tokenizer;
  std::int64_t max_users = 0;  // 0: every user
  // [prompt]
  news::PromptConfig prompt;
  news::ListLimits limits;
  // [rewards.*]
  news::RewardConfig rewards;
  // [grpo]
  std::int64_t steps = 100;
  int group = 8, prompts_per_step = 4, max_new_tokens = 96;
  double temperature = 1.0;
  int top_k = 0;
  double top_p = 1.0;
  double lr = 1e-5, min_lr = 1e-6;
  std::int64_t warmup = 0;
  double weight_decay = 0.0, clip_norm = 1.0, clip_low = 0.2, clip_high = 0.2, beta = 0.0;
  int epochs = 1;
  std::string advantage = "composite";  // or "per-reward" (models::per_reward_advantages)
  int micro_batch = 0;  // sequences per learner forward/backward (0: the learner's whole share at once)
  std::int64_t checkpoint_every = 50;
  int keep_last = 3;
  std::int64_t log_every = 1;
  std::uint64_t seed = 0;
};

// "" when the [grpo] values make sense, else the first problem as
// "[grpo] key: what is wrong".
std::string check_grpo_options(const GrpoTrainingOptions& options);

// Runs on every rank of `cluster` (roles rollout, reward and learner must be
// placed): spawns the actors; the other ranks serve, the driver trains into
// `run_dir` and shuts the cluster down. With `resume`, continues from the
// run's latest checkpoint. `progress` gets the live line. Returns the exit
// status. Bad options throw std::invalid_argument with one line.
int train_grpo(runtime::Cluster& cluster, const GrpoTrainingOptions& options, const std::string& run_dir, bool resume,
               const std::string& config_toml, const std::string& version, std::ostream& progress);

}  // namespace newsrl::actors
