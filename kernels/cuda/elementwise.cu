// Element-wise kernels on the GPU: arithmetic, float32 <-> bfloat16 casts, the
// sum of squares (in double, deterministic), bias and its gradient,
// activations, SwiGLU and dropout (the CPU backend's mask, bit for bit).
#include <cstring>

#include "kernels/cuda/column_sums.cuh"
#include "kernels/cuda/common.cuh"

namespace newsrl::kernels::cuda {

namespace {

// ---- arithmetic ----------------------------------------------------------------

struct AddFn {
  float* out;
  const float *a, *b;
  __device__ void operator()(I i) const { out[i] = a[i] + b[i]; }
};

struct MulFn {
  float* out;
  const float *a, *b;
  __device__ void operator()(I i) const { out[i] = a[i] * b[i]; }
};

struct AccumulateFn {
  float* y;
  const float* x;
  float alpha;
  __device__ void operator()(I i) const { y[i] += alpha * x[i]; }
};

struct ScaleFn {
  float* x;
  float s;
  __device__ void operator()(I i) const { x[i] *= s; }
};

struct FillFn {
  float* x;
  float value;
  __device__ void operator()(I i) const { x[i] = value; }
};

void add(Tensor& out, const Tensor& a, const Tensor& b) {
  for_each_index(out.numel(), AddFn{out.data<float>(), a.data<float>(), b.data<float>()});
}

void mul(Tensor& out, const Tensor& a, const Tensor& b) {
  for_each_index(out.numel(), MulFn{out.data<float>(), a.data<float>(), b.data<float>()});
}

void accumulate(Tensor& y, const Tensor& x, float alpha) {
  for_each_index(y.numel(), AccumulateFn{y.data<float>(), x.data<float>(), alpha});
}

void scale(Tensor& x, float s) { for_each_index(x.numel(), ScaleFn{x.data<float>(), s}); }

void fill(Tensor& x, float value) { for_each_index(x.numel(), FillFn{x.data<float>(), value}); }

// ---- casts ---------------------------------------------------------------------

// bf16::from_float of kernels/dtype.h: round to nearest even, NaN kept a NaN.
__device__ std::uint16_t bf16_bits(float f) {
  std::uint32_t u = __float_as_uint(f);
  if ((u & 0x7f800000u) == 0x7f800000u && (u & 0x007fffffu) != 0) {
    return static_cast<std::uint16_t>((u >> 16) | 0x0040u);
  }
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<std::uint16_t>(u >> 16);
}

struct ToBf16Fn {
  std::uint16_t* out;
  const float* in;
  __device__ void operator()(I i) const { out[i] = bf16_bits(in[i]); }
};

struct FromBf16Fn {
  float* out;
  const std::uint16_t* in;
  __device__ void operator()(I i) const { out[i] = __uint_as_float(static_cast<std::uint32_t>(in[i]) << 16); }
};

void copy(Tensor& dst, const Tensor& src) {
  const I n = dst.numel();
  if (n == 0) return;
  if (dst.dtype() == src.dtype()) {
    NEWSRL_CUDA_CHECK(cudaMemcpyAsync(dst.raw(), src.raw(), dst.bytes(), cudaMemcpyDeviceToDevice, stream()));
  } else if (dst.dtype() == DType::bf16) {
    for_each_index(n, ToBf16Fn{static_cast<std::uint16_t*>(dst.raw()), src.data<float>()});
  } else {
    for_each_index(n, FromBf16Fn{dst.data<float>(), static_cast<const std::uint16_t*>(src.raw())});
  }
}

// ---- sum of squares --------------------------------------------------------------

// Partial sums per block (the block count depends on n only), then one block
// adds them in a fixed order: the same double whatever the GPU.
constexpr I kSumBlocks = 1024;

__global__ void sum_squares_partial_kernel(double* partial, const float* x, I n) {
  __shared__ double shared[32];
  double acc = 0;
  for (I i = global_thread(); i < n; i += grid_threads()) acc += static_cast<double>(x[i]) * x[i];
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) partial[blockIdx.x] = acc;
}

__global__ void sum_partials_kernel(double* total, const double* partial, I count) {
  __shared__ double shared[32];
  double acc = 0;
  for (I i = threadIdx.x; i < count; i += blockDim.x) acc += partial[i];
  acc = block_sum(acc, shared);
  if (threadIdx.x == 0) *total = acc;
}

double sum_squares(const Tensor& x) {
  const I n = x.numel();
  if (n == 0) return 0.0;
  const I blocks = std::min<I>((n + kThreads - 1) / kThreads, kSumBlocks);
  Tensor buffer = scratch(static_cast<std::size_t>(blocks + 1) * sizeof(double));
  double* partial = static_cast<double*>(buffer.raw());
  double* total = partial + blocks;
  sum_squares_partial_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(partial, x.data<float>(), n);
  check_launch();
  sum_partials_kernel<<<1, kThreads, 0, stream()>>>(total, partial, blocks);
  check_launch();
  return read_back(total);
}

// Each tensor's total into its own slot (the same partial and final kernels as
// above), then one block adds the slots: one wait for the whole list.
double sum_squares_list(const std::vector<const Tensor*>& xs) {
  const I count = static_cast<I>(xs.size());
  Tensor buffer = scratch(static_cast<std::size_t>(kSumBlocks + count + 1) * sizeof(double));
  double* partial = static_cast<double*>(buffer.raw());
  double* totals = partial + kSumBlocks;
  double* total = totals + count;
  for (I t = 0; t < count; ++t) {
    const Tensor& x = *xs[static_cast<std::size_t>(t)];
    const I n = x.numel();
    const I blocks = n == 0 ? 0 : std::min<I>((n + kThreads - 1) / kThreads, kSumBlocks);
    if (blocks > 0) {
      // The stream orders this tensor's partials after the previous tensor's final sum read them.
      sum_squares_partial_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(partial,
                                                                                           x.data<float>(), n);
      check_launch();
    }
    sum_partials_kernel<<<1, kThreads, 0, stream()>>>(totals + t, partial, blocks);
    check_launch();
  }
  sum_partials_kernel<<<1, kThreads, 0, stream()>>>(total, totals, count);
  check_launch();
  return read_back(total);
}

// ---- bias ------------------------------------------------------------------------

struct AddBiasFn {
  float* y;
  const float* bias;
  I cols;
  __device__ void operator()(I i) const { y[i] += bias[i % cols]; }
};

void add_bias(Tensor& y, const Tensor& bias) {
  const I cols = y.dim(-1);
  if (cols == 0) return;
  for_each_index(y.numel(), AddBiasFn{y.data<float>(), bias.data<float>(), cols});
}

struct RowValue {
  const float* dy;
  I cols;
  __device__ double operator()(I r, I j) const { return dy[r * cols + j]; }
};

void bias_backward(Tensor& dbias, const Tensor& dy) {
  const I cols = dy.dim(-1), rows = dy.shape().rows();
  add_column_sums(dbias.data<float>(), rows, cols, RowValue{dy.data<float>(), cols});
}

// ---- activations -------------------------------------------------------------------

__device__ float sigmoid(float x) { return 1.0f / (1.0f + expf(-x)); }

__device__ float unary_value(Unary op, float x) {
  switch (op) {
    case Unary::silu:
      return x * sigmoid(x);
    case Unary::gelu:
      return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case Unary::relu:
      return x > 0.0f ? x : 0.0f;
    case Unary::tanh:
      return tanhf(x);
    case Unary::sigmoid:
      return sigmoid(x);
  }
  return 0.0f;
}

// d op(x) / dx
__device__ float unary_slope(Unary op, float x) {
  switch (op) {
    case Unary::silu: {
      const float s = sigmoid(x);
      return s * (1.0f + x * (1.0f - s));
    }
    case Unary::gelu: {
      const float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
      const float pdf = 0.39894228040143268f * expf(-0.5f * x * x);
      return cdf + x * pdf;
    }
    case Unary::relu:
      return x > 0.0f ? 1.0f : 0.0f;
    case Unary::tanh: {
      const float t = tanhf(x);
      return 1.0f - t * t;
    }
    case Unary::sigmoid: {
      const float s = sigmoid(x);
      return s * (1.0f - s);
    }
  }
  return 0.0f;
}

struct UnaryForwardFn {
  Unary op;
  float* out;
  const float* x;
  __device__ void operator()(I i) const { out[i] = unary_value(op, x[i]); }
};

struct UnaryBackwardFn {
  Unary op;
  float* dx;
  const float *dout, *x;
  __device__ void operator()(I i) const { dx[i] += dout[i] * unary_slope(op, x[i]); }
};

void unary_forward(Unary op, Tensor& out, const Tensor& x) {
  for_each_index(x.numel(), UnaryForwardFn{op, out.data<float>(), x.data<float>()});
}

void unary_backward(Unary op, Tensor& dx, const Tensor& dout, const Tensor& x) {
  for_each_index(x.numel(), UnaryBackwardFn{op, dx.data<float>(), dout.data<float>(), x.data<float>()});
}

// ---- SwiGLU ------------------------------------------------------------------------

struct SwigluForwardFn {
  float* out;
  const float *gate, *up;
  __device__ void operator()(I i) const {
    const float g = gate[i];
    out[i] = g * sigmoid(g) * up[i];
  }
};

struct SwigluBackwardFn {
  float *dgate, *dup;
  const float *dout, *gate, *up;
  __device__ void operator()(I i) const {
    const float g = gate[i], d = dout[i], s = sigmoid(g);
    dup[i] += d * g * s;
    dgate[i] += d * up[i] * s * (1.0f + g * (1.0f - s));
  }
};

void swiglu_forward(Tensor& out, const Tensor& gate, const Tensor& up) {
  for_each_index(out.numel(), SwigluForwardFn{out.data<float>(), gate.data<float>(), up.data<float>()});
}

void swiglu_backward(Tensor& dgate, Tensor& dup, const Tensor& dout, const Tensor& gate, const Tensor& up) {
  for_each_index(gate.numel(), SwigluBackwardFn{dgate.data<float>(), dup.data<float>(), dout.data<float>(),
                                                gate.data<float>(), up.data<float>()});
}

// ---- dropout -----------------------------------------------------------------------

// The CPU backend's counter-based draw (kernels/cpu/elementwise.cpp): splitmix64
// of the seed and the element index, so both backends drop the same elements.
__device__ float uniform01(std::uint64_t seed, std::uint64_t i) {
  std::uint64_t z = seed + 0x9e3779b97f4a7c15ull * (i + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  z ^= z >> 31;
  return static_cast<float>(z >> 40) * (1.0f / 16777216.0f);
}

struct DropoutForwardFn {
  float *out, *mask;
  const float* x;
  float p, keep;
  std::uint64_t seed;
  __device__ void operator()(I i) const {
    const float m = uniform01(seed, static_cast<std::uint64_t>(i)) < p ? 0.0f : keep;
    mask[i] = m;
    out[i] = x[i] * m;
  }
};

struct DropoutBackwardFn {
  float* dx;
  const float *dout, *mask;
  __device__ void operator()(I i) const { dx[i] += dout[i] * mask[i]; }
};

void dropout_forward(Tensor& out, Tensor& mask, const Tensor& x, float p, std::uint64_t seed) {
  const float keep = 1.0f / (1.0f - p);
  for_each_index(x.numel(), DropoutForwardFn{out.data<float>(), mask.data<float>(), x.data<float>(), p, keep, seed});
}

void dropout_backward(Tensor& dx, const Tensor& dout, const Tensor& mask) {
  for_each_index(dout.numel(), DropoutBackwardFn{dx.data<float>(), dout.data<float>(), mask.data<float>()});
}

}  // namespace

void register_elementwise(OpTable& t) {
  t.add = add;
  t.mul = mul;
  t.accumulate = accumulate;
  t.scale = scale;
  t.fill = fill;
  t.copy = copy;
  t.sum_squares = sum_squares;
  t.sum_squares_list = sum_squares_list;
  t.add_bias = add_bias;
  t.bias_backward = bias_backward;
  t.unary_forward = unary_forward;
  t.unary_backward = unary_backward;
  t.swiglu_forward = swiglu_forward;
  t.swiglu_backward = swiglu_backward;
  t.dropout_forward = dropout_forward;
  t.dropout_backward = dropout_backward;
}

}  // namespace newsrl::kernels::cuda
