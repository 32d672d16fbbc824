#include "models/grpo.h"

#include <cmath>
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

std::vector<float> per_reward_advantages(const std::vector<std::vector<double>>& parts,
                                         const std::vector<double>& weights, int group_size) {
  if (parts.empty() || parts.size() != weights.size()) {
    throw std::invalid_argument("per-reward advantages need one weight per reward, and at least one reward");
  }
  const std::size_t n = parts.front().size(), g = static_cast<std::size_t>(group_size);
  if (group_size < 1 || n % g != 0) {
    throw std::invalid_argument(std::to_string(n) + " rewards do not make groups of " + std::to_string(group_size));
  }
  double weight_sum = 0;
  std::vector<double> adv(n, 0.0);
  for (std::size_t r = 0; r < parts.size(); ++r) {
    if (parts[r].size() != n) throw std::invalid_argument("per-reward advantages: the rewards have different counts");
    if (!(weights[r] > 0)) throw std::invalid_argument("per-reward advantages: each weight must be above 0");
    weight_sum += weights[r];
    std::vector<double> centred(n);
    double square = 0;
    for (std::size_t start = 0; start < n; start += g) {
      double mean = 0;
      for (std::size_t i = start; i < start + g; ++i) mean += parts[r][i];
      mean /= static_cast<double>(g);
      for (std::size_t i = start; i < start + g; ++i) {
        centred[i] = parts[r][i] - mean;
        square += centred[i] * centred[i];
      }
    }
    const double rms = n == 0 ? 0.0 : std::sqrt(square / static_cast<double>(n));
    if (rms == 0) continue;
    for (std::size_t i = 0; i < n; ++i) adv[i] += weights[r] * centred[i] / rms;
  }
  std::vector<float> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(adv[i] / weight_sum);
  return out;
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
