// The matmul family of the CUDA op table (see register_matmul in cuda_ops.h).
#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

void register_matmul(OpTable& /*t*/) {}

}  // namespace newsrl::kernels::cuda
