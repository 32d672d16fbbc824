// The stream every CUDA kernel, copy and library call of newsrl runs on.
#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

cudaStream_t stream() {
  // Created on the device current at first use; never destroyed, because
  // tensors released during static destruction may still enqueue frees.
  static cudaStream_t s = [] {
    cudaStream_t created = nullptr;
    NEWSRL_CUDA_CHECK(cudaStreamCreateWithFlags(&created, cudaStreamNonBlocking));
    return created;
  }();
  return s;
}

}  // namespace newsrl::kernels::cuda
