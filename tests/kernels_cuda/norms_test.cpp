// RMSNorm and LayerNorm of the CUDA op table against the CPU table, forward
// and backward, on odd row counts and widths; the weight and bias gradients
// must also come out bit-identical from one call to the next.
#include <gtest/gtest.h>

#include <cstring>
#include <vector>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

// {1, 8}: one short row; {37, 896}: Qwen2.5-0.5B's width; {2, 3, 1000}: 3-D;
// {5000, 17}: many narrow rows, summed in several chunks.
const std::vector<Shape> kShapes = {Shape{1, 8}, Shape{37, 896}, Shape{2, 3, 1000}, Shape{5000, 17}};

Tensor gpu_empty(const Shape& s) { return Tensor::empty(s, DType::f32, Device::cuda); }

bool same_bytes(const Tensor& a, const Tensor& b) {
  const Tensor x = on_cpu(a), y = on_cpu(b);
  return x.bytes() == y.bytes() && std::memcmp(x.raw(), y.raw(), x.bytes()) == 0;
}

TEST(CudaNorms, RmsnormForwardAndBackward) {
  NEWSRL_REQUIRE_GPU();
  std::uint64_t seed = 100;
  for (const Shape& s : kShapes) {
    const std::int64_t cols = s[-1], rows = s.rows();
    const Tensor x = random_tensor(s, ++seed, -2, 2), w = random_tensor(Shape{cols}, ++seed, 0.5f, 1.5f);
    const Tensor gx = on_gpu(x), gw = on_gpu(w);
    Tensor out = Tensor::empty(s), rstd = Tensor::empty(Shape{rows});
    Tensor gout = gpu_empty(s), grstd = gpu_empty(Shape{rows});
    rmsnorm_forward(out, rstd, x, w, 1e-6f);
    rmsnorm_forward(gout, grstd, gx, gw, 1e-6f);
    expect_close(gout, out, 1e-5f, 1e-5f, "rmsnorm out");
    expect_close(grstd, rstd, 0, 1e-6f, "rmsnorm rstd");

    const Tensor dout = random_tensor(s, ++seed, -1, 1), dx0 = random_tensor(s, ++seed, -1, 1);
    const Tensor dw0 = random_tensor(Shape{cols}, ++seed, -1, 1);
    Tensor dx = dx0.clone(), dw = dw0.clone();
    rmsnorm_backward(dx, dw, dout, x, w, rstd);
    Tensor gdx = on_gpu(dx0), gdw = on_gpu(dw0), gdx2 = on_gpu(dx0), gdw2 = on_gpu(dw0);
    rmsnorm_backward(gdx, gdw, on_gpu(dout), gx, gw, on_gpu(rstd));
    rmsnorm_backward(gdx2, gdw2, on_gpu(dout), gx, gw, on_gpu(rstd));
    expect_close(gdx, dx, 1e-5f, 1e-5f, "rmsnorm dx");
    expect_close(gdw, dw, 1e-4f, 1e-5f, "rmsnorm dw");
    EXPECT_TRUE(same_bytes(gdw, gdw2)) << "rmsnorm dw is not deterministic for " << s.str();
    EXPECT_TRUE(same_bytes(gdx, gdx2)) << "rmsnorm dx is not deterministic for " << s.str();
  }
}

TEST(CudaNorms, LayernormForwardAndBackward) {
  NEWSRL_REQUIRE_GPU();
  std::uint64_t seed = 200;
  for (const Shape& s : kShapes) {
    const std::int64_t cols = s[-1], rows = s.rows();
    // A mean far from zero: the two-pass variance must hold up.
    const Tensor x = random_tensor(s, ++seed, 3, 7), w = random_tensor(Shape{cols}, ++seed, 0.5f, 1.5f);
    const Tensor b = random_tensor(Shape{cols}, ++seed, -1, 1);
    const Tensor gx = on_gpu(x), gw = on_gpu(w), gb = on_gpu(b);
    Tensor out = Tensor::empty(s), mean = Tensor::empty(Shape{rows}), rstd = Tensor::empty(Shape{rows});
    Tensor gout = gpu_empty(s), gmean = gpu_empty(Shape{rows}), grstd = gpu_empty(Shape{rows});
    layernorm_forward(out, mean, rstd, x, w, b, 1e-5f);
    layernorm_forward(gout, gmean, grstd, gx, gw, gb, 1e-5f);
    expect_close(gout, out, 1e-5f, 1e-5f, "layernorm out");
    expect_close(gmean, mean, 0, 1e-6f, "layernorm mean");
    expect_close(grstd, rstd, 0, 1e-6f, "layernorm rstd");

    const Tensor dout = random_tensor(s, ++seed, -1, 1), dx0 = random_tensor(s, ++seed, -1, 1);
    const Tensor dw0 = random_tensor(Shape{cols}, ++seed, -1, 1), db0 = random_tensor(Shape{cols}, ++seed, -1, 1);
    Tensor dx = dx0.clone(), dw = dw0.clone(), db = db0.clone();
    layernorm_backward(dx, dw, db, dout, x, w, mean, rstd);
    Tensor gdx = on_gpu(dx0), gdw = on_gpu(dw0), gdb = on_gpu(db0);
    Tensor gdx2 = on_gpu(dx0), gdw2 = on_gpu(dw0), gdb2 = on_gpu(db0);
    layernorm_backward(gdx, gdw, gdb, on_gpu(dout), gx, gw, on_gpu(mean), on_gpu(rstd));
    layernorm_backward(gdx2, gdw2, gdb2, on_gpu(dout), gx, gw, on_gpu(mean), on_gpu(rstd));
    expect_close(gdx, dx, 1e-4f, 1e-4f, "layernorm dx");
    expect_close(gdw, dw, 1e-4f, 1e-5f, "layernorm dw");
    expect_close(gdb, db, 1e-4f, 1e-5f, "layernorm db");
    EXPECT_TRUE(same_bytes(gdw, gdw2) && same_bytes(gdb, gdb2))
        << "layernorm dw/db are not deterministic for " << s.str();
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
