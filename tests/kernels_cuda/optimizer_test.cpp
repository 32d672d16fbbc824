// AdamW of the CUDA op table against the CPU table: several steps in a row
// (bias corrections change with the step), with weight decay, on sizes that
// are not a multiple of a block.
#include <gtest/gtest.h>

#include <string>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

TEST(CudaOptimizer, AdamWStepsMatchCpu) {
  NEWSRL_REQUIRE_GPU();
  AdamW hp;
  hp.lr = 3e-3f;
  hp.weight_decay = 0.1f;
  for (const Shape& s : {Shape{1}, Shape{1000}, Shape{33, 129}}) {
    Tensor param = random_tensor(s, 500, -1, 1), m = Tensor::zeros(s), v = Tensor::zeros(s);
    Tensor gparam = on_gpu(param), gm = on_gpu(m), gv = on_gpu(v);
    for (std::int64_t step = 1; step <= 5; ++step) {
      const Tensor grad = random_tensor(s, 500 + static_cast<std::uint64_t>(step), -0.1f, 0.1f);
      adamw_step(param, grad, m, v, hp, step);
      adamw_step(gparam, on_gpu(grad), gm, gv, hp, step);
      const std::string what = s.str() + " step " + std::to_string(step);
      expect_close(gparam, param, 1e-6f, 1e-5f, (what + " param").c_str());
      expect_close(gm, m, 1e-8f, 1e-5f, (what + " m").c_str());
      expect_close(gv, v, 1e-10f, 1e-5f, (what + " v").c_str());
    }
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
