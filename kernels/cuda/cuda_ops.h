// The CUDA backend: the op table of kernels/ops.h on the GPU. Each family of
// ops lives in its own .cu file and fills its entries of the table (the same
// families as kernels/cpu/cpu_ops.h). Every kernel, copy and library call is
// ordered on one stream, stream(), so a tensor freed to the cache and reused
// by the next op is never read and written at once.
#pragma once

#include <cuda_runtime.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "kernels/ops.h"

namespace newsrl::kernels::cuda {

const OpTable& table();

// The one stream of this process's current device (created on first use).
cudaStream_t stream();

// Throws std::runtime_error "file:line: expr: CUDA error text".
inline void check_cuda(cudaError_t rc, const char* expr, const char* file, int line) {
  if (rc == cudaSuccess) return;
  cudaGetLastError();  // clear a sticky launch error so that the next call reports its own
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + expr + ": " +
                           cudaGetErrorString(rc));
}
#define NEWSRL_CUDA_CHECK(expr) ::newsrl::kernels::cuda::check_cuda((expr), #expr, __FILE__, __LINE__)

// Blocks of `threads` that cover n items.
inline unsigned blocks_for(std::int64_t n, int threads) {
  return static_cast<unsigned>((n + threads - 1) / threads);
}

void register_matmul(OpTable& t);       // matmul.cu: cuBLASLt
void register_elementwise(OpTable& t);  // elementwise.cu: add, mul, accumulate, scale, fill, copy, sum_squares,
                                        //   bias, unary activations, swiglu, dropout
void register_norms(OpTable& t);        // norms.cu: rmsnorm, layernorm
void register_embedding(OpTable& t);    // embedding.cu
void register_softmax(OpTable& t);      // softmax.cu: softmax, log-softmax, cross-entropy
void register_rope(OpTable& t);         // rope.cu
void register_attention(OpTable& t);    // attention.cu
void register_optimizer(OpTable& t);    // optimizer.cu: AdamW
void register_sample(OpTable& t);       // sample.cu: sampling with a temperature, top-k and top-p
void register_policy_loss(OpTable& t);  // policy_loss.cu: the clipped PPO / Dr.GRPO objective

}  // namespace newsrl::kernels::cuda
