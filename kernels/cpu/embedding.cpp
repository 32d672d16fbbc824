#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

void register_embedding(OpTable&) {}

}  // namespace newsrl::kernels::cpu
