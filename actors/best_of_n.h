// Best-of-N: which of each user's N scored lists to keep.
//   "composite"   the highest composite reward (ties: the first).
//   "per-reward"  each enabled reward centred on the user's N lists and
//                 divided by its root mean square over the batch's lists,
//                 then averaged with the rewards' weights: the advantage
//                 `[grpo] advantage = "per-reward"` trains on
//                 (models::per_reward_advantages), so each reward counts by
//                 its weight rather than by its spread. The highest
//                 (ties: the first).
// A batch is the users scored together (`[generate] batch` of them); the
// scale is the batch's, so the choice is the same whatever the rank count.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "news/reward_config.h"
#include "news/rewards.h"

namespace newsrl::actors {

// The known rules, for messages: "composite, per-reward".
inline constexpr const char* kBestOfNRules = "composite, per-reward";
bool known_best_of_n_rule(const std::string& rule);

// users[u] holds user u's lists' rewards, the same count N ≥ 1 for every
// user; the result holds the kept list's index per user. Throws
// std::invalid_argument on an unknown rule or uneven groups.
std::vector<std::size_t> choose_best_of_n(const std::vector<std::vector<news::Rewards>>& users,
                                          const news::RewardConfig& config, const std::string& rule);

}  // namespace newsrl::actors
