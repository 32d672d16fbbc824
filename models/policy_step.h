// One policy-gradient step's loss for a batch of sampled completions: the
// Dr.GRPO / PPO clipped objective (fn::policy_loss) over every completion
// token, from one forward of the policy over the right-padded sequences
// (padding after a sequence cannot change its causal logits). Used by the
// learners of GRPO and of on-policy distillation.
#pragma once

#include <cstdint>
#include <vector>

#include "models/causal_lm.h"

namespace newsrl::models {

struct PolicySample {
  std::vector<std::int32_t> prompt, completion;
  std::vector<float> old_logprobs;  // per completion token, under the sampling policy (at its temperature)
  float advantage = 0.0f;
};

struct PolicyStepOptions {
  kernels::PolicyClip clip;
  float temperature = 1.0f;   // the sampling temperature: log-probs are of softmax(logits / temperature)
  float normaliser = 1.0f;    // Dr.GRPO: sequences x max_new_tokens (dr_grpo_normaliser)
};

struct PolicyStepStats {
  double loss = 0;
  double clip_fraction = 0;  // completion tokens whose ratio left [1 - low, 1 + high]
  double mean_ratio = 0;
  double mean_log_ratio = 0;  // mean of log pi - log pi_old per completion token; its negative estimates KL(old || new)
  double kl = 0;             // mean k3 KL to the reference per completion token (when there is one)
  std::int64_t tokens = 0;   // completion tokens
};

// Records the loss on g (call g.backward(loss) next). `reference` (for the
// KL term, clip.beta > 0) is run without gradients.
Value policy_step_loss(Graph& g, CausalLM& policy, const std::vector<PolicySample>& batch,
                       const PolicyStepOptions& options, PolicyStepStats* stats = nullptr,
                       CausalLM* reference = nullptr);

// The same loss over `batch` in micro-batches of at most `micro_batch`
// sequences (0: all at once), each one forward and, with `backward`, one
// backward that adds its gradient into the parameters' grads; the loss is a
// sum over tokens divided by a constant, so the micro-batches' gradients add
// up to the whole batch's. Peak memory is one micro-batch's activations.
// Returns the whole batch's statistics (the loss summed, the rest weighted
// by tokens).
PolicyStepStats policy_step_backward(CausalLM& policy, const std::vector<PolicySample>& batch,
                                     const PolicyStepOptions& options, int micro_batch, bool backward = true,
                                     CausalLM* reference = nullptr);

}  // namespace newsrl::models
