#include "models/grpo.h"

#include <stdexcept>
#include <string>

namespace newsrl::models {

namespace {
void check(const std::vector<float>& rewards, int group_size) {
  if (group_size < 1 || rewards.size() % static_cast<std::size_t>(group_size) != 0) {
    throw std::invalid_argument(std::to_string(rewards.size()) + " rewards do not make groups of " +
                                std::to_string(group_size));
  }
}
}  // namespace

std::vector<float> group_advantages(const std::vector<float>& rewards, int group_size) {
  check(rewards, group_size);
  std::vector<float> adv(rewards.size());
  const std::size_t g = static_cast<std::size_t>(group_size);
  for (std::size_t start = 0; start < rewards.size(); start += g) {
    double mean = 0;
    for (std::size_t i = start; i < start + g; ++i) mean += rewards[i];
    mean /= static_cast<double>(g);
    for (std::size_t i = start; i < start + g; ++i) adv[i] = static_cast<float>(rewards[i] - mean);
  }
  return adv;
}

double zero_spread_share(const std::vector<float>& rewards, int group_size) {
  check(rewards, group_size);
  if (rewards.empty()) return 0.0;
  const std::size_t g = static_cast<std::size_t>(group_size);
  std::size_t flat = 0;
  for (std::size_t start = 0; start < rewards.size(); start += g) {
    bool same = true;
    for (std::size_t i = start + 1; i < start + g; ++i) same = same && rewards[i] == rewards[start];
    flat += same;
  }
  return static_cast<double>(flat) / static_cast<double>(rewards.size() / g);
}

}  // namespace newsrl::models
