#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

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

}  // namespace newsrl::kernels::cpu
