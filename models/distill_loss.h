// The on-policy distillation loss (DESIGN.md, "The method", step 4): the
// per-token reverse KL, KL(pi_student || pi_teacher), on the student's own
// sampled prefixes, with two estimators:
//   full    — the exact sum over the vocabulary, sum_v p_s(v) (log p_s(v) -
//             log p_t(v)), with its gradient through the student's softmax;
//   sampled — k = log pi_s(y) - log pi_t(y) at the sampled token y, used
//             (detached) as a NEGATIVE per-token advantage in the clipped,
//             importance-weighted policy-gradient step of Dr.GRPO (ratio
//             pi_s / pi_s_old); it needs one teacher log-prob per token, so it
//             scales to any vocabulary.
// Both sum over completion tokens and divide by a constant normaliser, as
// Dr.GRPO does (sequences x max_new_tokens). The student's distribution is
// softmax(logits / temperature), the one it samples from; the teacher's
// log-probs are given (at temperature 1).
#pragma once

#include <cstdint>
#include <vector>

#include "models/causal_lm.h"

namespace newsrl::models {

// The full estimator. student_logits [N, V] (with gradient), teacher_logprobs
// [N, V] (log-softmax rows, constant, host or device), targets [N] int32:
// rows whose target is kernels::kIgnoreIndex are left out (prompt, padding).
// → one element: sum over kept rows of KL(p_s || p_t) / normaliser.
Value reverse_kl_full(Graph& g, Value student_logits, const Tensor& teacher_logprobs, const Tensor& targets,
                      float temperature, float normaliser);

// The sampled estimator's advantages: -(old_logp - teacher_logp) per token.
std::vector<float> sampled_kl_advantages(const std::vector<float>& old_logp, const std::vector<float>& teacher_logp);

// The sampled estimator. logp [N]: the student's log-prob of each sampled
// token (with gradient); old_logp and teacher_logp [N] constants (0 rows are
// padding: give them logp 0, old 0, teacher 0 — their advantage is 0).
// → fn::policy_loss with advantages sampled_kl_advantages(old, teacher).
Value reverse_kl_sampled(Graph& g, Value logp, const std::vector<float>& old_logp,
                         const std::vector<float>& teacher_logp, const kernels::PolicyClip& clip, float normaliser);

// One student sequence and what the teacher said about it.
struct DistillSequence {
  std::vector<std::int32_t> prompt, completion;
  std::vector<float> old_logprobs;      // the student's, when it sampled (at its temperature)
  std::vector<float> teacher_logprobs;  // the teacher's log-prob of each completion token
  std::vector<float> teacher_rows;      // full only: [|completion|, V] log-softmax rows of the teacher
};

enum class KlEstimator { full, sampled };

struct DistillStepOptions {
  KlEstimator kl = KlEstimator::full;
  kernels::PolicyClip clip;  // sampled only (beta is not used)
  float temperature = 1.0f;
  float normaliser = 1.0f;   // Dr.GRPO: sequences x max_new_tokens
};

struct DistillStepStats {
  double loss = 0;
  // Mean reverse KL per completion token: exact (full) or the mean of
  // old_logp - teacher_logp (sampled).
  double kl = 0;
  double clip_fraction = 0;  // sampled only
  std::int64_t tokens = 0;
};

// The batch's loss, from one forward of the student over the right-padded
// sequences (call g.backward(loss) next). Bad shapes throw std::invalid_argument.
Value distill_step_loss(Graph& g, CausalLM& student, const std::vector<DistillSequence>& batch,
                        const DistillStepOptions& options, DistillStepStats* stats = nullptr);

}  // namespace newsrl::models
