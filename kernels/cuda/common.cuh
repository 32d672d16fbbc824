// Small pieces shared by the CUDA kernels of the element-wise, norm, embedding,
// softmax, rope, optimizer and policy-loss families: launch sizes, a
// grid-stride "for each index" kernel, block-wide reductions that give every
// thread the same bits, and scratch memory from the device's tensor cache.
// Included only from .cu files.
#pragma once

#include <cuda_runtime.h>

#include <algorithm>
#include <cstdint>

#include "kernels/cuda/cuda_ops.h"
#include "kernels/tensor.h"

namespace newsrl::kernels::cuda {

using I = std::int64_t;

// Threads per block for every kernel here (a multiple of the warp size).
inline constexpr int kThreads = 256;
// Grid-stride loops cover any size with at most this many blocks.
inline constexpr I kMaxBlocks = 8192;

inline unsigned grid_size(I n, int threads = kThreads) {
  const I blocks = (n + threads - 1) / threads;
  return static_cast<unsigned>(std::clamp<I>(blocks, 1, kMaxBlocks));
}

inline void check_launch() { NEWSRL_CUDA_CHECK(cudaGetLastError()); }

__device__ inline I global_thread() { return static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x; }
__device__ inline I grid_threads() { return static_cast<I>(gridDim.x) * blockDim.x; }

// fn(i) for every i in [0, n).
template <class Fn>
__global__ void for_each_index_kernel(I n, Fn fn) {
  for (I i = global_thread(); i < n; i += grid_threads()) fn(i);
}

template <class Fn>
void for_each_index(I n, Fn fn) {
  if (n <= 0) return;
  for_each_index_kernel<<<grid_size(n), kThreads, 0, stream()>>>(n, fn);
  check_launch();
}

// Butterfly (xor) reductions: a + b == b + a bit for bit, so every lane ends
// with the same value, and the order of additions depends only on blockDim.
__device__ inline double warp_sum(double v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}

__device__ inline float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// The sum over the block, returned to every thread. `shared` holds 32 values;
// the leading barrier lets a caller reuse it for consecutive reductions.
__device__ inline double block_sum(double v, double* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_sum(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  return warp_sum(lane < warps ? shared[lane] : 0.0);
}

// The maximum over the block (NaN ignored, as fmaxf does), returned to every thread.
__device__ inline float block_max(float v, float* shared) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, warps = (blockDim.x + 31) >> 5;
  v = warp_max(v);
  __syncthreads();
  if (lane == 0) shared[warp] = v;
  __syncthreads();
  return warp_max(lane < warps ? shared[lane] : -INFINITY);
}

// Device memory for intermediate results, from the tensor cache. Every kernel
// runs on the one stream, so a block handed back to the cache is only reused
// by work queued after the kernels that read it.
inline Tensor scratch(std::size_t bytes) {
  return Tensor::empty(Shape{static_cast<I>((bytes + 3) / 4)}, DType::f32, Device::cuda);
}

// Copies a value back from the device and waits for it (and everything before it on the stream).
template <class T>
T read_back(const T* device_value) {
  T host{};
  NEWSRL_CUDA_CHECK(cudaMemcpyAsync(&host, device_value, sizeof(T), cudaMemcpyDeviceToHost, stream()));
  NEWSRL_CUDA_CHECK(cudaStreamSynchronize(stream()));
  return host;
}

}  // namespace newsrl::kernels::cuda
