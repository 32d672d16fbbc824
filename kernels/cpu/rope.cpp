// Rotary position embedding (Hugging Face Qwen2's rotate-half form), forward and backward.
#include <cmath>
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;

// cos and sin of every (token, pair) angle, [T, D/2] each. The angles are
// Hugging Face's: the inverse frequencies theta^(-2i/D) and the products
// position x frequency rounded to float32 as its Qwen2 rotary embedding
// computes them, so that imported models see the positions they were trained
// with (exact angles would differ from those by about 1e-3 rad at position
// 30k). cos and sin of each float32 angle are taken in double, then rounded.
struct Angles {
  std::vector<float> cos, sin;
};

// The tables are reused call after call (thread-local, grown only when a call
// needs more): a training step allocates nothing once warm.
const Angles& angles(I tokens, I head_dim, I position0, float theta) {
  const I half = head_dim / 2;
  thread_local std::vector<float> inv_freq;
  inv_freq.resize(static_cast<std::size_t>(half));
  for (I i = 0; i < half; ++i) {
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    const float power = static_cast<float>(std::pow(static_cast<double>(theta), static_cast<double>(exponent)));
    inv_freq[static_cast<std::size_t>(i)] = 1.0f / power;
  }
  thread_local Angles a;
  a.cos.resize(static_cast<std::size_t>(tokens * half));
  a.sin.resize(a.cos.size());
  for (I t = 0; t < tokens; ++t) {
    const float position = static_cast<float>(position0 + t);
    for (I i = 0; i < half; ++i) {
      const double angle = static_cast<double>(position * inv_freq[static_cast<std::size_t>(i)]);
      a.cos[static_cast<std::size_t>(t * half + i)] = static_cast<float>(std::cos(angle));
      a.sin[static_cast<std::size_t>(t * half + i)] = static_cast<float>(std::sin(angle));
    }
  }
  return a;
}

// Rotates every (i, i + half) pair of x by its angle — or, with kInverse, by
// the opposite angle, the transpose of the rotation — writing or adding into out.
template <bool kInverse, bool kAdd>
void rotate(float* out, const float* x, const Angles& a, I batch, I tokens, I heads, I dim) {
  const I half = dim / 2;
  const float sign = kInverse ? -1.0f : 1.0f;
#pragma omp parallel for collapse(2) schedule(static) if (batch * tokens * heads * dim >= kParallelWork)
  for (I b = 0; b < batch; ++b) {
    for (I t = 0; t < tokens; ++t) {
      const float* c = a.cos.data() + t * half;
      const float* s = a.sin.data() + t * half;
      for (I h = 0; h < heads; ++h) {
        const I at = ((b * tokens + t) * heads + h) * dim;
        const float* xr = x + at;
        float* o = out + at;
#pragma omp simd
        for (I i = 0; i < half; ++i) {
          const float lo = xr[i] * c[i] - sign * xr[i + half] * s[i];
          const float hi = xr[i + half] * c[i] + sign * xr[i] * s[i];
          o[i] = kAdd ? o[i] + lo : lo;
          o[i + half] = kAdd ? o[i + half] + hi : hi;
        }
      }
    }
  }
}

void rope_forward(Tensor& out, const Tensor& x, std::int64_t position0, float theta) {
  const I tokens = x.dim(1), dim = x.dim(3);
  rotate<false, false>(out.data<float>(), x.data<float>(), angles(tokens, dim, position0, theta), x.dim(0), tokens,
                       x.dim(2), dim);
}

void rope_backward(Tensor& dx, const Tensor& dout, std::int64_t position0, float theta) {
  const I tokens = dout.dim(1), dim = dout.dim(3);
  rotate<true, true>(dx.data<float>(), dout.data<float>(), angles(tokens, dim, position0, theta), dout.dim(0), tokens,
                     dout.dim(2), dim);
}

}  // namespace

void register_rope(OpTable& t) {
  t.rope_forward = rope_forward;
  t.rope_backward = rope_backward;
}

}  // namespace newsrl::kernels::cpu
