// Rotary position embedding (rotate-half, Hugging Face Qwen2's form) on the
// GPU, forward and backward. The cos/sin table is built on the device with
// the CPU backend's arithmetic (kernels/cpu/rope.cpp): inverse frequencies
// 1 / float(theta^(2i/D)), the angle position x frequency rounded to float32,
// its cos and sin taken in double and rounded — so both backends rotate by
// the same float32 angles.
#include "kernels/cuda/common.cuh"

namespace newsrl::kernels::cuda {

namespace {

// cs[t * half + i] = cos, cs[tokens * half + t * half + i] = sin.
__global__ void rope_angles_kernel(float* cs, I tokens, I head_dim, I position0, float theta) {
  const I half = head_dim / 2, n = tokens * half;
  for (I k = global_thread(); k < n; k += grid_threads()) {
    const I t = k / half, i = k - t * half;
    const float exponent = static_cast<float>(2 * i) / static_cast<float>(head_dim);
    const float power = static_cast<float>(pow(static_cast<double>(theta), static_cast<double>(exponent)));
    const float inv_freq = __fdiv_rn(1.0f, power);
    const float position = static_cast<float>(position0 + t);
    const double angle = static_cast<double>(__fmul_rn(position, inv_freq));
    cs[k] = static_cast<float>(cos(angle));
    cs[n + k] = static_cast<float>(sin(angle));
  }
}

// Rotates each (i, i + half) pair of x [B, T, H, D] by its angle, or with
// `inverse` by the opposite angle (the transpose), writing or adding into out.
struct RotateFn {
  float* out;
  const float* x;
  const float* cs;  // cos [T, half], then sin [T, half]
  I tokens, heads, half;
  bool inverse, add;
  __device__ void operator()(I k) const {
    // k runs over (b, t, h, i) with i < half.
    const I i = k % half, bth = k / half;
    const I t = (bth / heads) % tokens;
    const I at = bth * 2 * half;
    const float c = cs[t * half + i], s = cs[tokens * half + t * half + i];
    const float sign = inverse ? -1.0f : 1.0f;
    const float xlo = x[at + i], xhi = x[at + i + half];
    const float lo = xlo * c - sign * xhi * s;
    const float hi = xhi * c + sign * xlo * s;
    out[at + i] = add ? out[at + i] + lo : lo;
    out[at + i + half] = add ? out[at + i + half] + hi : hi;
  }
};

void rotate(float* out, const float* x, const Tensor& shape_of, std::int64_t position0, float theta, bool inverse,
            bool add) {
  const I batch = shape_of.dim(0), tokens = shape_of.dim(1), heads = shape_of.dim(2), dim = shape_of.dim(3);
  const I half = dim / 2;
  if (batch * tokens * heads * half == 0) return;
  Tensor table = scratch(static_cast<std::size_t>(2 * tokens * half) * sizeof(float));
  float* cs = table.data<float>();
  rope_angles_kernel<<<grid_size(tokens * half), kThreads, 0, stream()>>>(cs, tokens, dim, position0, theta);
  check_launch();
  for_each_index(batch * tokens * heads * half, RotateFn{out, x, cs, tokens, heads, half, inverse, add});
}

void rope_forward(Tensor& out, const Tensor& x, std::int64_t position0, float theta) {
  rotate(out.data<float>(), x.data<float>(), x, position0, theta, false, false);
}

void rope_backward(Tensor& dx, const Tensor& dout, std::int64_t position0, float theta) {
  rotate(dx.data<float>(), dout.data<float>(), dout, position0, theta, true, true);
}

}  // namespace

void register_rope(OpTable& t) {
  t.rope_forward = rope_forward;
  t.rope_backward = rope_backward;
}

}  // namespace newsrl::kernels::cuda
