// AdamW on the GPU: one thread per parameter, the formula of
// kernels/cpu/optimizer.cpp (PyTorch's torch.optim.AdamW), with the bias
// corrections computed once on the host in double, as there.
#include <cmath>

#include "kernels/cuda/common.cuh"

namespace newsrl::kernels::cuda {

namespace {

struct AdamWFn {
  float *p, *m, *v;
  const float* g;
  float decay, b1, b2, eps, step_size, bias2_sqrt;
  __device__ void operator()(I i) const {
    const float gi = g[i];
    p[i] *= decay;
    m[i] = b1 * m[i] + (1.0f - b1) * gi;
    v[i] = b2 * v[i] + (1.0f - b2) * gi * gi;
    const float denom = sqrtf(v[i]) / bias2_sqrt + eps;
    p[i] -= step_size * m[i] / denom;
  }
};

void adamw_step(Tensor& param, const Tensor& grad, Tensor& m, Tensor& v, const AdamW& hp, std::int64_t step) {
  const double bias1 = 1.0 - std::pow(static_cast<double>(hp.beta1), static_cast<double>(step));
  const double bias2 = 1.0 - std::pow(static_cast<double>(hp.beta2), static_cast<double>(step));
  AdamWFn fn{};
  fn.p = param.data<float>();
  fn.m = m.data<float>();
  fn.v = v.data<float>();
  fn.g = grad.data<float>();
  fn.decay = 1.0f - hp.lr * hp.weight_decay;
  fn.b1 = hp.beta1;
  fn.b2 = hp.beta2;
  fn.eps = hp.eps;
  fn.step_size = static_cast<float>(hp.lr / bias1);
  fn.bias2_sqrt = static_cast<float>(std::sqrt(bias2));
  for_each_index(param.numel(), fn);
}

}  // namespace

void register_optimizer(OpTable& t) { t.adamw_step = adamw_step; }

}  // namespace newsrl::kernels::cuda
