// The clipped policy-gradient objective (PPO, Dr.GRPO) per token, and its
// gradient with respect to the policy's log-probabilities.
#include <algorithm>
#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;

// One token's loss and d loss / d logp.
struct Term {
  float loss, grad;
};

Term term(float logp, float old_logp, float adv, float ref, const PolicyClip& c) {
  const float ratio = std::exp(logp - old_logp);
  const float clipped = std::clamp(ratio, 1.0f - c.low, 1.0f + c.high);
  const float plain = ratio * adv, capped = clipped * adv;
  // -min(plain, capped): the gradient flows through ratio only where the
  // unclipped term is the smaller one (there d ratio / d logp = ratio).
  Term t{-std::min(plain, capped), plain <= capped ? -plain : 0.0f};
  if (c.beta > 0) {
    const float d = ref - logp;  // k3 = e^d - d - 1, d k3 / d logp = 1 - e^d
    t.loss += c.beta * (std::exp(d) - d - 1.0f);
    t.grad += c.beta * (1.0f - std::exp(d));
  }
  return t;
}

void policy_loss_forward(Tensor& losses, const Tensor& logp, const Tensor& old_logp, const Tensor& adv,
                         const Tensor& ref_logp, const PolicyClip& clip) {
  const I n = logp.numel();
  const float *lp = logp.data<float>(), *old = old_logp.data<float>(), *a = adv.data<float>();
  const float* ref = clip.beta > 0 ? ref_logp.data<float>() : nullptr;
  float* out = losses.data<float>();
  for (I i = 0; i < n; ++i) out[i] = term(lp[i], old[i], a[i], ref ? ref[i] : 0.0f, clip).loss;
}

void policy_loss_backward(Tensor& dlogp, const Tensor& dlosses, const Tensor& logp, const Tensor& old_logp,
                          const Tensor& adv, const Tensor& ref_logp, const PolicyClip& clip) {
  const I n = logp.numel();
  const float *lp = logp.data<float>(), *old = old_logp.data<float>(), *a = adv.data<float>(),
              *dy = dlosses.data<float>();
  const float* ref = clip.beta > 0 ? ref_logp.data<float>() : nullptr;
  float* dx = dlogp.data<float>();
  for (I i = 0; i < n; ++i) dx[i] += dy[i] * term(lp[i], old[i], a[i], ref ? ref[i] : 0.0f, clip).grad;
}

}  // namespace

void register_policy_loss(OpTable& t) {
  t.policy_loss_forward = policy_loss_forward;
  t.policy_loss_backward = policy_loss_backward;
}

}  // namespace newsrl::kernels::cpu
