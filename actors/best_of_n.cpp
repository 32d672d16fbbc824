#include "actors/best_of_n.h"

#include <stdexcept>
#include <utility>

#include "models/grpo.h"

namespace newsrl::actors {

bool known_best_of_n_rule(const std::string& rule) { return rule == "composite" || rule == "per-reward"; }

namespace {

// The enabled rewards of every list, one vector per reward, and their weights.
std::pair<std::vector<std::vector<double>>, std::vector<double>> enabled_parts(
    const std::vector<std::vector<news::Rewards>>& users, const news::RewardConfig& c) {
  using Field = double news::Rewards::*;
  const std::pair<double, Field> rewards[] = {{c.ret.weight, &news::Rewards::ret},
                                              {c.cov.weight, &news::Rewards::cov},
                                              {c.spec.weight, &news::Rewards::spec},
                                              {c.div.weight, &news::Rewards::div},
                                              {c.structure.weight, &news::Rewards::structure}};
  std::vector<std::vector<double>> parts;
  std::vector<double> weights;
  for (const auto& [weight, field] : rewards) {
    if (!(weight > 0)) continue;
    std::vector<double> values;
    for (const auto& lists : users)
      for (const news::Rewards& r : lists) values.push_back(r.*field);
    parts.push_back(std::move(values));
    weights.push_back(weight);
  }
  return {std::move(parts), std::move(weights)};
}

}  // namespace

std::vector<std::size_t> choose_best_of_n(const std::vector<std::vector<news::Rewards>>& users,
                                          const news::RewardConfig& config, const std::string& rule) {
  if (!known_best_of_n_rule(rule)) {
    throw std::invalid_argument("best-of-N: unknown rule \"" + rule + "\" (known: " + kBestOfNRules + ")");
  }
  std::vector<std::size_t> chosen(users.size(), 0);
  if (users.empty()) return chosen;
  const std::size_t n = users.front().size();
  for (const auto& lists : users) {
    if (lists.empty() || lists.size() != n)
      throw std::invalid_argument("best-of-N: every user needs the same N ≥ 1 lists");
  }
  if (rule == "composite") {
    for (std::size_t u = 0; u < users.size(); ++u) chosen[u] = news::best_of_n(users[u]);
    return chosen;
  }
  const auto [parts, weights] = enabled_parts(users, config);
  if (parts.empty()) throw std::invalid_argument("best-of-N: every reward's weight is 0");
  const std::vector<float> score = models::per_reward_advantages(parts, weights, static_cast<int>(n));
  for (std::size_t u = 0; u < users.size(); ++u) {
    for (std::size_t j = 1; j < n; ++j)
      if (score[u * n + j] > score[u * n + chosen[u]]) chosen[u] = j;
  }
  return chosen;
}

}  // namespace newsrl::actors
