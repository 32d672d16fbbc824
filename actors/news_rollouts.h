// The news side of the on-policy loops, shared by `train grpo` and
// `train distill`: the prompts of the world's users (rendered as `data sft`
// renders them) with the policy's stop tokens, and scoring a batch of
// samples on the reward-workers (composite and each enabled reward).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>
#include <utility>
#include <vector>

#include "actors/grpo_loop.h"
#include "actors/reward_worker.h"
#include "news/grammar.h"
#include "news/policy_users.h"
#include "news/prompt.h"
#include "news/reward_config.h"
#include "runtime/cluster.h"

namespace newsrl::actors {

struct NewsPrompts {
  news::PolicyUsers users;                          // those with cleaned signals, in file order
  std::vector<std::vector<std::int32_t>> prompts;   // one per user
  std::vector<std::int32_t> stop_tokens;            // the closing token, and <|endoftext|> when the tokenizer has it
};

// Loads the world's users and renders their prompts. Throws
// std::invalid_argument with one line when no user has a signal left, the
// tokenizer has no closing token, or the longest prompt and max_new_tokens
// exceed the model `init`'s context. Says what it found on `progress`,
// prefixed with `label`.
NewsPrompts load_news_prompts(const std::string& world, std::int64_t max_users, const std::string& tokenizer,
                              const news::PromptConfig& prompt, const news::ListLimits& limits,
                              const std::string& init, std::int64_t max_new_tokens, const std::string& label,
                              std::ostream& progress);

// The reward parts reported per step, by their metrics.jsonl name
// ("ret", "cov", "spec", "div", "struct"), each with its weight; a reward
// whose weight is 0 is absent.
std::vector<std::pair<std::string, double>> reported_parts(const news::RewardConfig& config);

// Scores samples in consecutive groups of `group` (one prompt's samples):
// each reward-worker a contiguous share of the groups, all called at once.
RewardFn news_reward_fn(std::vector<runtime::ActorHandle<RewardWorker>>& workers, const news::PolicyUsers& users,
                        int group, const news::RewardConfig& config);

}  // namespace newsrl::actors
