// Rotary position embedding (Hugging Face Qwen2's rotate-half form), forward and backward.
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;

// cos and sin of every (token, pair) angle, [T, D/2] each. The angles are
// taken in double so that large positions keep their precision in float.
struct Angles {
  std::vector<float> cos, sin;
};

// The tables are reused call after call (thread-local, grown only when a call
// needs more): a training step allocates nothing once warm.
const Angles& angles(I tokens, I head_dim, I position0, float theta) {
  const I half = head_dim / 2;
  thread_local std::vector<double> inv_freq;
  inv_freq.resize(static_cast<std::size_t>(half));
  for (I i = 0; i < half; ++i) {
    inv_freq[static_cast<std::size_t>(i)] =
        1.0 / std::pow(static_cast<double>(theta), static_cast<double>(2 * i) / static_cast<double>(head_dim));
  }
  thread_local Angles a;
  a.cos.resize(static_cast<std::size_t>(tokens * half));
  a.sin.resize(a.cos.size());
  for (I t = 0; t < tokens; ++t) {
    const double position = static_cast<double>(position0 + t);
    for (I i = 0; i < half; ++i) {
      const double angle = position * inv_freq[static_cast<std::size_t>(i)];
      a.cos[static_cast<std::size_t>(t * half + i)] = static_cast<float>(std::cos(angle));
      a.sin[static_cast<std::size_t>(t * half + i)] = static_cast<float>(std::sin(angle));
    }
  }
  return a;
}

void rope_forward(Tensor& out, const Tensor& x, std::int64_t position0, float theta) {
  const I batch = x.dim(0), tokens = x.dim(1), heads = x.dim(2), dim = x.dim(3), half = dim / 2;
  const Angles& a = angles(tokens, dim, position0, theta);
  const float* px = x.data<float>();
  float* po = out.data<float>();
#pragma omp parallel for collapse(2) schedule(static) if (batch * tokens * heads * dim >= kParallelWork)
  for (I b = 0; b < batch; ++b) {
    for (I t = 0; t < tokens; ++t) {
      const float* c = a.cos.data() + t * half;
      const float* s = a.sin.data() + t * half;
      for (I h = 0; h < heads; ++h) {
        const I at = ((b * tokens + t) * heads + h) * dim;
        const float* xr = px + at;
        float* o = po + at;
#pragma omp simd
        for (I i = 0; i < half; ++i) {
          o[i] = xr[i] * c[i] - xr[i + half] * s[i];
          o[i + half] = xr[i + half] * c[i] + xr[i] * s[i];
        }
      }
    }
  }
}

// The transpose of a rotation is the rotation by the opposite angle.
void rope_backward(Tensor& dx, const Tensor& dout, std::int64_t position0, float theta) {
  const I batch = dout.dim(0), tokens = dout.dim(1), heads = dout.dim(2), dim = dout.dim(3), half = dim / 2;
  const Angles& a = angles(tokens, dim, position0, theta);
  const float* pg = dout.data<float>();
  float* pd = dx.data<float>();
#pragma omp parallel for collapse(2) schedule(static) if (batch * tokens * heads * dim >= kParallelWork)
  for (I b = 0; b < batch; ++b) {
    for (I t = 0; t < tokens; ++t) {
      const float* c = a.cos.data() + t * half;
      const float* s = a.sin.data() + t * half;
      for (I h = 0; h < heads; ++h) {
        const I at = ((b * tokens + t) * heads + h) * dim;
        const float* g = pg + at;
        float* d = pd + at;
#pragma omp simd
        for (I i = 0; i < half; ++i) {
          d[i] += g[i] * c[i] + g[i + half] * s[i];
          d[i + half] += g[i + half] * c[i] - g[i] * s[i];
        }
      }
    }
  }
}

}  // namespace

void register_rope(OpTable& t) {
  t.rope_forward = rope_forward;
  t.rope_backward = rope_backward;
}

}  // namespace newsrl::kernels::cpu
