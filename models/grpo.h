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

// Per-reward advantages for a composite of several rewards: each reward is
// centred on its group's mean (as above), then divided by the root mean
// square of those centred values over the whole batch, and the scaled parts
// are averaged with the rewards' weights. Each reward thus moves the policy
// in proportion to its weight, whatever its spread: a 0/1 reward no longer
// drowns one whose values differ by a few hundredths within a group. The
// scale is the batch's, not each group's, so a group with little spread
// still gets small advantages (Dr.GRPO's point). A reward with no spread in
// the batch adds 0. parts[i] holds reward i for every sample; weights[i] > 0.
std::vector<float> per_reward_advantages(const std::vector<std::vector<double>>& parts,
                                         const std::vector<double>& weights, int group_size);

// The share of groups whose rewards are all equal (no learning signal).
double zero_spread_share(const std::vector<float>& rewards, int group_size);

// Dr.GRPO's constant: a batch of `sequences` samples of at most
// max_new_tokens each sums its token losses and divides by this.
inline float dr_grpo_normaliser(std::int64_t sequences, std::int64_t max_new_tokens) {
  return static_cast<float>(sequences * max_new_tokens);
}

}  // namespace newsrl::models
