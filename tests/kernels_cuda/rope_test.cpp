// Rotary embedding of the CUDA op table against the CPU table, forward and
// backward: several head sizes, a decode step (one token at a far position)
// and positions near 30k, where float32 angles matter.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

struct Case {
  Shape shape;  // [batch, tokens, heads, head_dim]
  std::int64_t position0;
  float theta;
};

TEST(CudaRope, ForwardAndBackwardMatchCpu) {
  NEWSRL_REQUIRE_GPU();
  std::uint64_t seed = 400;
  for (const Case& c : {Case{Shape{2, 7, 3, 64}, 0, 10000.0f}, Case{Shape{1, 5, 2, 128}, 30000, 1000000.0f},
                        Case{Shape{3, 1, 14, 64}, 12345, 1000000.0f}, Case{Shape{2, 33, 1, 6}, 3, 10000.0f}}) {
    const std::string what = "rope " + c.shape.str() + " at " + std::to_string(c.position0);
    const Tensor x = random_tensor(c.shape, ++seed, -2, 2);
    Tensor out = Tensor::empty(c.shape), gout = Tensor::empty(c.shape, DType::f32, Device::cuda);
    rope_forward(out, x, c.position0, c.theta);
    rope_forward(gout, on_gpu(x), c.position0, c.theta);
    expect_close(gout, out, 1e-5f, 1e-5f, (what + " forward").c_str());

    const Tensor dout = random_tensor(c.shape, ++seed, -1, 1), dx0 = random_tensor(c.shape, ++seed, -1, 1);
    Tensor dx = dx0.clone(), gdx = on_gpu(dx0);
    rope_backward(dx, dout, c.position0, c.theta);
    rope_backward(gdx, on_gpu(dout), c.position0, c.theta);
    expect_close(gdx, dx, 1e-5f, 1e-5f, (what + " backward").c_str());
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
