// Softmax, log-softmax and cross-entropy fused with the logits on the GPU, one
// block per row. Cross-entropy keeps a running (max, sum of exponentials) per
// thread — one read of a 152k-wide row, no softmax stored — and merges them
// across the block; sums are in double, as on the CPU.
#include <cmath>

#include "kernels/cuda/common.cuh"
#include "kernels/cuda/index_check.cuh"

namespace newsrl::kernels::cuda {

namespace {

__global__ void softmax_forward_kernel(float* out, const float* x, I cols, bool log) {
  __shared__ float shared_max[32];
  __shared__ double shared_sum[32];
  const I r = blockIdx.x;
  const float* xr = x + r * cols;
  float* yr = out + r * cols;
  float m = -INFINITY;
  for (I i = threadIdx.x; i < cols; i += blockDim.x) m = fmaxf(m, xr[i]);
  m = block_max(m, shared_max);
  double s = 0;
  for (I i = threadIdx.x; i < cols; i += blockDim.x) s += expf(xr[i] - m);
  s = block_sum(s, shared_sum);
  // Every read of the row is done (block_sum waits for all threads), so out may be x.
  if (log) {
    const float log_sum = static_cast<float>(::log(s));
    for (I i = threadIdx.x; i < cols; i += blockDim.x) yr[i] = (xr[i] - m) - log_sum;
  } else {
    const float inv = static_cast<float>(1.0 / s);
    for (I i = threadIdx.x; i < cols; i += blockDim.x) yr[i] = expf(xr[i] - m) * inv;
  }
}

__global__ void softmax_backward_kernel(float* dx, const float* dout, const float* out, I cols, bool log) {
  __shared__ double shared[32];
  const I r = blockIdx.x;
  float* dr = dx + r * cols;
  const float *gr = dout + r * cols, *yr = out + r * cols;
  double s = 0;
  if (log) {
    // d/dx of log-softmax: dout - softmax * sum(dout), with softmax = e^y.
    for (I i = threadIdx.x; i < cols; i += blockDim.x) s += gr[i];
    const float sf = static_cast<float>(block_sum(s, shared));
    for (I i = threadIdx.x; i < cols; i += blockDim.x) dr[i] += gr[i] - expf(yr[i]) * sf;
  } else {
    for (I i = threadIdx.x; i < cols; i += blockDim.x) s += static_cast<double>(gr[i]) * yr[i];
    const float sf = static_cast<float>(block_sum(s, shared));
    for (I i = threadIdx.x; i < cols; i += blockDim.x) dr[i] += yr[i] * (gr[i] - sf);
  }
}

void softmax_forward(Tensor& out, const Tensor& x, bool log) {
  const I cols = x.ndim() == 0 ? 1 : x.dim(-1), rows = x.shape().rows();
  if (rows == 0 || cols == 0) return;
  softmax_forward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream()>>>(out.data<float>(), x.data<float>(),
                                                                                  cols, log);
  check_launch();
}

void softmax_backward(Tensor& dx, const Tensor& dout, const Tensor& out, bool log) {
  const I cols = out.ndim() == 0 ? 1 : out.dim(-1), rows = out.shape().rows();
  if (rows == 0 || cols == 0) return;
  softmax_backward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream()>>>(
      dx.data<float>(), dout.data<float>(), out.data<float>(), cols, log);
  check_launch();
}

// ---- cross-entropy -------------------------------------------------------------------

// A running maximum m and sum s of e^(x - m). A part that has seen no finite
// value holds m = -inf, s = 0.
struct MaxSum {
  float m;
  double s;
};

__device__ MaxSum merge(MaxSum a, MaxSum b) {
  const float m = fmaxf(a.m, b.m);
  if (m == -INFINITY) return {m, 0.0};
  // Symmetric in a and b (the sum's two terms commute), so a butterfly leaves every lane the same bits.
  const double sa = a.m == -INFINITY ? 0.0 : a.s * exp(static_cast<double>(a.m) - m);
  const double sb = b.m == -INFINITY ? 0.0 : b.s * exp(static_cast<double>(b.m) - m);
  return {m, sa + sb};
}

__device__ MaxSum warp_merge(MaxSum v) {
  for (int o = 16; o > 0; o >>= 1) {
    const MaxSum other{__shfl_xor_sync(0xffffffffu, v.m, o), __shfl_xor_sync(0xffffffffu, v.s, o)};
    v = merge(v, other);
  }
  return v;
}

__global__ void cross_entropy_forward_kernel(float* losses, float* lse, const float* logits,
                                             const std::int32_t* targets, I vocab) {
  __shared__ float shared_m[32];
  __shared__ double shared_s[32];
  const I r = blockIdx.x;
  const float* xr = logits + r * vocab;
  MaxSum part{-INFINITY, 0.0};
  for (I v = threadIdx.x; v < vocab; v += blockDim.x) {
    const float x = xr[v];
    if (x == -INFINITY) continue;  // e^-inf adds nothing (and -inf - -inf would be NaN); a NaN still poisons
    if (x > part.m) {
      part.s = part.m == -INFINITY ? 0.0 : part.s * exp(static_cast<double>(part.m) - x);
      part.m = x;
    }
    part.s += expf(x - part.m);
  }
  part = warp_merge(part);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  if (lane == 0) {
    shared_m[warp] = part.m;
    shared_s[warp] = part.s;
  }
  __syncthreads();
  if (warp != 0) return;
  part = lane < warps ? MaxSum{shared_m[lane], shared_s[lane]} : MaxSum{-INFINITY, 0.0};
  part = warp_merge(part);
  if (lane != 0) return;
  const double log_sum = ::log(part.s);
  lse[r] = static_cast<float>(part.m + log_sum);
  const std::int32_t t = targets[r];
  // From log_sum and x - m in double, as on the CPU: large logits keep their precision.
  losses[r] = t == kIgnoreIndex ? 0.0f : static_cast<float>(log_sum - (static_cast<double>(xr[t]) - part.m));
}

// Grid: x over rows, y over slices of the row; each element is written by one thread.
constexpr I kBackwardColumnsPerBlock = kThreads * 16;

__global__ void cross_entropy_backward_kernel(float* dlogits, const float* dlosses, const float* logits,
                                              const float* lse, const std::int32_t* targets, I vocab) {
  const I r = blockIdx.x;
  const std::int32_t t = targets[r];
  if (t == kIgnoreIndex) return;
  const float g = dlosses[r], l = lse[r];
  const float* xr = logits + r * vocab;
  float* dr = dlogits + r * vocab;
  const I v0 = static_cast<I>(blockIdx.y) * kBackwardColumnsPerBlock;
  const I v1 = min(vocab, v0 + kBackwardColumnsPerBlock);
  for (I v = v0 + threadIdx.x; v < v1; v += blockDim.x) {
    const float p = expf(xr[v] - l);
    // The target's entry in one rounding of g (p - 1), as on the CPU.
    dr[v] += v == t ? g * (p - 1.0f) : g * p;
  }
}

void cross_entropy_forward(Tensor& losses, Tensor& lse, const Tensor& logits, const Tensor& targets) {
  const I rows = logits.dim(0), vocab = logits.dim(1);
  check_targets("cross_entropy_forward", targets.data<std::int32_t>(), rows, vocab);
  if (rows == 0) return;
  cross_entropy_forward_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream()>>>(
      losses.data<float>(), lse.data<float>(), logits.data<float>(), targets.data<std::int32_t>(), vocab);
  check_launch();
}

void cross_entropy_backward(Tensor& dlogits, const Tensor& dlosses, const Tensor& logits, const Tensor& lse,
                            const Tensor& targets) {
  const I rows = logits.dim(0), vocab = logits.dim(1);
  check_targets("cross_entropy_backward", targets.data<std::int32_t>(), rows, vocab);
  if (rows == 0 || vocab == 0) return;
  const I slices = (vocab + kBackwardColumnsPerBlock - 1) / kBackwardColumnsPerBlock;
  cross_entropy_backward_kernel<<<dim3(static_cast<unsigned>(rows), static_cast<unsigned>(slices)), kThreads, 0,
                                  stream()>>>(dlogits.data<float>(), dlosses.data<float>(), logits.data<float>(),
                                              lse.data<float>(), targets.data<std::int32_t>(), vocab);
  check_launch();
}

// ---- greedy pick ----------------------------------------------------------------

// The warp's (value, index) pair with the larger value, the lower index on
// ties, in every lane.
__device__ void warp_argmax(float& best, I& at) {
  for (int o = 16; o > 0; o >>= 1) {
    const float v = __shfl_xor_sync(0xffffffffu, best, o);
    const I j = __shfl_xor_sync(0xffffffffu, at, o);
    if (v > best || (v == best && j < at)) {
      best = v;
      at = j;
    }
  }
}

// One block per row: each thread keeps its first maximum, the block merges
// them (larger value, then lower index), then sums exp(x - max) in double.
__global__ void argmax_rows_kernel(std::int32_t* ids, float* logprobs, const float* x, I cols) {
  __shared__ float shared_value[32];
  __shared__ I shared_index[32];
  __shared__ double shared_sum[32];
  const I r = blockIdx.x;
  const float* xr = x + r * cols;
  float best = -INFINITY;
  I at = cols;  // none yet
  for (I i = threadIdx.x; i < cols; i += blockDim.x) {
    if (at == cols || xr[i] > best) {  // strictly greater: a thread keeps its first maximum
      best = xr[i];
      at = i;
    }
  }
  // Warp, then block.
  warp_argmax(best, at);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  if (lane == 0) {
    shared_value[warp] = best;
    shared_index[warp] = at;
  }
  __syncthreads();
  best = lane < warps ? shared_value[lane] : -INFINITY;
  at = lane < warps ? shared_index[lane] : cols;
  warp_argmax(best, at);
  double s = 0;
  for (I i = threadIdx.x; i < cols; i += blockDim.x) s += ::exp(static_cast<double>(xr[i]) - best);
  s = block_sum(s, shared_sum);
  if (threadIdx.x == 0) {
    ids[r] = static_cast<std::int32_t>(at);
    logprobs[r] = static_cast<float>(-::log(s));  // logits[at] - (max + log s), and logits[at] is the max
  }
}

void argmax_rows(Tensor& ids, Tensor& logprobs, const Tensor& logits) {
  const I cols = logits.dim(-1), rows = logits.shape().rows();
  if (rows == 0) return;
  argmax_rows_kernel<<<static_cast<unsigned>(rows), kThreads, 0, stream()>>>(
      ids.data<std::int32_t>(), logprobs.data<float>(), logits.data<float>(), cols);
  check_launch();
}

}  // namespace

void register_softmax(OpTable& t) {
  t.softmax_forward = softmax_forward;
  t.softmax_backward = softmax_backward;
  t.cross_entropy_forward = cross_entropy_forward;
  t.cross_entropy_backward = cross_entropy_backward;
  t.argmax_rows = argmax_rows;
}

}  // namespace newsrl::kernels::cuda
