// The [rewards] tables of a run config (docs/rewards.md) read into a
// news::RewardConfig, for every command that scores query lists (train grpo,
// generate, eval policy, run). Unknown tables or keys, wrong types and
// impossible values are one line naming the file, table and key.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "news/reward_config.h"

namespace newsrl::launch {

// Reads root's [rewards.*] (absent tables keep their defaults) and validates
// the result. When `resolved` is given, it receives the [rewards] table with
// every value in effect, for the run's config.toml.
news::RewardConfig read_reward_config(const toml::table& root, const std::string& where,
                                      toml::table* resolved = nullptr);

}  // namespace newsrl::launch
