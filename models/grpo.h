// Dr.GRPO's pieces that are pure math (Liu et al., 2025, "Understanding
// R1-Zero-like training: a critical perspective"): group-relative advantages
// without the division by the group's standard deviation, and the per-token
// loss normaliser that is a constant, not each sequence's length. The
// clipped objective itself is fn::policy_loss (kernels::PolicyClip).
#pragma once

#include <cstdint>
#include <vector>

namespace newsrl::models {

// rewards holds consecutive groups of group_size samples of the same prompt;
// each sample's advantage is its reward minus its group's mean.
std::vector<float> group_advantages(const std::vector<float>& rewards, int group_size);

// The share of groups whose rewards are all equal (no learning signal).
double zero_spread_share(const std::vector<float>& rewards, int group_size);

// Dr.GRPO's constant: a batch of `sequences` samples of at most
// max_new_tokens each sums its token losses and divides by this.
inline float dr_grpo_normaliser(std::int64_t sequences, std::int64_t max_new_tokens) {
  return static_cast<float>(sequences * max_new_tokens);
}

}  // namespace newsrl::models
