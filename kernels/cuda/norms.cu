// The norms family of the CUDA op table (see register_norms in cuda_ops.h).
// Owned by the cuda-ops work: until its kernels land the entries stay null,
// and the checked entry points say "<op> has no cuda kernel".
#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

void register_norms(OpTable& /*t*/) {}

}  // namespace newsrl::kernels::cuda
