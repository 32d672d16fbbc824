// The CUDA op table, filled once by every family's register function. An
// entry a family leaves null makes the checked entry point (kernels/ops.cpp)
// say "<op> has no cuda kernel".
#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

const OpTable& table() {
  static const OpTable filled = [] {
    OpTable t{};
    register_matmul(t);
    register_elementwise(t);
    register_norms(t);
    register_embedding(t);
    register_softmax(t);
    register_sample(t);
    register_rope(t);
    register_attention(t);
    register_optimizer(t);
    register_policy_loss(t);
    return t;
  }();
  return filled;
}

}  // namespace newsrl::kernels::cuda
