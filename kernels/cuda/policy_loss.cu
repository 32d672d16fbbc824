// The clipped policy-gradient objective (PPO, Dr.GRPO) per token on the GPU,
// and its gradient with respect to the policy's log-probabilities: the
// per-token arithmetic of kernels/cpu/policy_loss.cpp, one thread a token.
#include "kernels/cuda/common.cuh"

namespace newsrl::kernels::cuda {

namespace {

struct Term {
  float loss, grad;
};

// One token's loss and d loss / d logp; the comparisons are written as
// std::clamp and std::min write them, so ties and NaNs go the same way.
__device__ Term term(float logp, float old_logp, float adv, float ref, const PolicyClip& c) {
  const float ratio = expf(logp - old_logp);
  const float lo = 1.0f - c.low, hi = 1.0f + c.high;
  const float clipped = ratio < lo ? lo : (hi < ratio ? hi : ratio);
  const float plain = ratio * adv, capped = clipped * adv;
  // -min(plain, capped): the gradient flows through ratio only where the
  // unclipped term is the smaller one (there d ratio / d logp = ratio).
  Term t{-(capped < plain ? capped : plain), plain <= capped ? -plain : 0.0f};
  if (c.beta > 0) {
    const float d = ref - logp;  // k3 = e^d - d - 1, d k3 / d logp = 1 - e^d
    t.loss += c.beta * (expf(d) - d - 1.0f);
    t.grad += c.beta * (1.0f - expf(d));
  }
  return t;
}

struct ForwardFn {
  float* losses;
  const float *logp, *old_logp, *adv, *ref;  // ref: null when beta is 0
  PolicyClip clip;
  __device__ void operator()(I i) const {
    losses[i] = term(logp[i], old_logp[i], adv[i], ref ? ref[i] : 0.0f, clip).loss;
  }
};

struct BackwardFn {
  float* dlogp;
  const float *dlosses, *logp, *old_logp, *adv, *ref;
  PolicyClip clip;
  __device__ void operator()(I i) const {
    dlogp[i] += dlosses[i] * term(logp[i], old_logp[i], adv[i], ref ? ref[i] : 0.0f, clip).grad;
  }
};

void policy_loss_forward(Tensor& losses, const Tensor& logp, const Tensor& old_logp, const Tensor& adv,
                         const Tensor& ref_logp, const PolicyClip& clip) {
  const float* ref = clip.beta > 0 ? ref_logp.data<float>() : nullptr;
  for_each_index(logp.numel(), ForwardFn{losses.data<float>(), logp.data<float>(), old_logp.data<float>(),
                                         adv.data<float>(), ref, clip});
}

void policy_loss_backward(Tensor& dlogp, const Tensor& dlosses, const Tensor& logp, const Tensor& old_logp,
                          const Tensor& adv, const Tensor& ref_logp, const PolicyClip& clip) {
  const float* ref = clip.beta > 0 ? ref_logp.data<float>() : nullptr;
  for_each_index(logp.numel(), BackwardFn{dlogp.data<float>(), dlosses.data<float>(), logp.data<float>(),
                                          old_logp.data<float>(), adv.data<float>(), ref, clip});
}

}  // namespace

void register_policy_loss(OpTable& t) {
  t.policy_loss_forward = policy_loss_forward;
  t.policy_loss_backward = policy_loss_backward;
}

}  // namespace newsrl::kernels::cuda
