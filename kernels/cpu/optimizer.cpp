// AdamW with decoupled weight decay, written as PyTorch's torch.optim.AdamW
// computes it, so that a run here and a run there take the same steps.
#include <cmath>

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

void adamw_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamW& hp, std::int64_t step) {
  float* p = param.data<float>();
  float *pm = m.data<float>(), *pv = v.data<float>();
  const float* g = grad.data<float>();
  const std::int64_t n = param.numel();
  const double bias1 = 1.0 - std::pow(static_cast<double>(hp.beta1), static_cast<double>(step));
  const double bias2 = 1.0 - std::pow(static_cast<double>(hp.beta2), static_cast<double>(step));
  const float step_size = static_cast<float>(hp.lr / bias1);
  const float bias2_sqrt = static_cast<float>(std::sqrt(bias2));
  const float decay = 1.0f - hp.lr * hp.weight_decay;
  const float b1 = hp.beta1, b2 = hp.beta2, eps = hp.eps;
#pragma omp parallel for simd schedule(static) if (n >= kParallelWork)
  for (std::int64_t i = 0; i < n; ++i) {
    p[i] *= decay;
    pm[i] = b1 * pm[i] + (1.0f - b1) * g[i];
    pv[i] = b2 * pv[i] + (1.0f - b2) * g[i] * g[i];
    const float denom = std::sqrt(pv[i]) / bias2_sqrt + eps;
    p[i] -= step_size * pm[i] / denom;
  }
}

}  // namespace

void register_optimizer(OpTable& t) { t.adamw_step = adamw_step; }

}  // namespace newsrl::kernels::cpu
