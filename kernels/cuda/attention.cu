// The attention family of the CUDA op table (see register_attention in cuda_ops.h).
#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

void register_attention(OpTable& /*t*/) {}

}  // namespace newsrl::kernels::cuda
