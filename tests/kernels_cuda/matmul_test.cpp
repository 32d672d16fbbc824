// matmul on cuBLASLt against the CPU table: every transpose, batching and
// alpha/beta form, views that start off alignment, an empty inner dimension,
// bfloat16 weights, and a linear layer's backward (which adds into gradients).
#include <gtest/gtest.h>

#include <string>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

// c = alpha op(a) op(b) + beta c on both tables, from the same c.
void compare(const Tensor& a, const Tensor& b, const Shape& c_shape, bool ta, bool tb, float alpha, float beta,
             float tol, const std::string& what) {
  Tensor c_cpu = random_tensor(c_shape, 99);
  Tensor c_gpu = on_gpu(c_cpu);
  matmul(c_cpu, a, b, ta, tb, alpha, beta);
  const Tensor a_gpu = on_gpu(a), b_gpu = on_gpu(b);
  matmul(c_gpu, a_gpu, b_gpu, ta, tb, alpha, beta);
  expect_close(c_gpu, c_cpu, tol, tol, what.c_str());
}

TEST(CudaMatmul, EveryTransposeBatchAndScaleMatchesTheCpu) {
  NEWSRL_REQUIRE_GPU();
  const std::int64_t M = 37, N = 45, K = 29;
  for (bool ta : {false, true}) {
    for (bool tb : {false, true}) {
      for (int b_batched = 0; b_batched < 2; ++b_batched) {
        for (float beta : {0.0f, 1.0f, -0.5f}) {
          const Tensor a = random_tensor(ta ? Shape{3, K, M} : Shape{3, M, K}, 1);
          const Tensor b = b_batched ? random_tensor(tb ? Shape{3, N, K} : Shape{3, K, N}, 2)
                                     : random_tensor(tb ? Shape{N, K} : Shape{K, N}, 2);
          compare(a, b, {3, M, N}, ta, tb, 0.75f, beta, 1e-5f,
                  "ta=" + std::to_string(ta) + " tb=" + std::to_string(tb) + " b_batched=" + std::to_string(b_batched) +
                      " beta=" + std::to_string(beta));
        }
      }
    }
  }
  // Plain 2-D, and a 4-D batch.
  compare(random_tensor({64, 96}, 3), random_tensor({96, 80}, 4), {64, 80}, false, false, 1.0f, 0.0f, 1e-5f, "2-D");
  compare(random_tensor({2, 3, 8, 16}, 5), random_tensor({2, 3, 8, 16}, 6), {2, 3, 8, 8}, false, true, 1.0f, 0.0f,
          1e-5f, "4-D");
}

TEST(CudaMatmul, AQwenProjectionShape) {
  NEWSRL_REQUIRE_GPU();
  // A slice of the 0.5B model's MLP up-projection, y = x Wᵀ.
  compare(random_tensor({128, 896}, 7), random_tensor({1024, 896}, 8, -0.05f, 0.05f), {128, 1024}, false, true, 1.0f,
          0.0f, 1e-4f, "128x896 @ (1024x896)ᵀ");
}

TEST(CudaMatmul, ViewsThatStartOffAlignment) {
  NEWSRL_REQUIRE_GPU();
  // Rows 1.. of a tensor start 4 * 13 bytes into its block.
  const Tensor a_all = random_tensor({9, 13}, 9), b_all = random_tensor({6, 13}, 10);
  Tensor c_all_cpu = random_tensor({9, 6}, 11);
  Tensor c_all_gpu = on_gpu(c_all_cpu);
  Tensor c_cpu = c_all_cpu.slice(1, 9), c_gpu = c_all_gpu.slice(1, 9);
  matmul(c_cpu, a_all.slice(1, 9), b_all, false, true, 1.0f, 1.0f);
  matmul(c_gpu, on_gpu(a_all).slice(1, 9), on_gpu(b_all), false, true, 1.0f, 1.0f);
  expect_close(c_all_gpu, c_all_cpu, 1e-5f, 1e-5f, "sliced rows");
}

TEST(CudaMatmul, AnEmptyInnerDimensionScalesC) {
  NEWSRL_REQUIRE_GPU();
  compare(Tensor::empty({4, 0}), Tensor::empty({0, 5}), {4, 5}, false, false, 1.0f, 0.5f, 0.0f, "K = 0, beta 0.5");
  compare(Tensor::empty({4, 0}), Tensor::empty({0, 5}), {4, 5}, false, false, 1.0f, 0.0f, 0.0f, "K = 0, beta 0");
}

TEST(CudaMatmul, BFloat16WeightsAccumulateInFloat32) {
  NEWSRL_REQUIRE_GPU();
  const Tensor a = random_tensor({2, 17, 96}, 12);
  std::vector<bf16> w;
  for (float x : random_tensor({40, 96}, 13).to_vector<float>()) w.push_back(bf16::from_float(x));
  const Tensor b = Tensor::from(w, {40, 96});
  // The GPU rounds a to bfloat16 once; from that same a the CPU agrees to float32 precision...
  std::vector<float> a_rounded;
  for (float x : a.to_vector<float>()) a_rounded.push_back(bf16::from_float(x).to_float());
  Tensor c_gpu = Tensor::empty({2, 17, 40}, DType::f32, Device::cuda);
  matmul(c_gpu, on_gpu(a), on_gpu(b), false, true, 1.0f, 0.0f);
  Tensor c_rounded = Tensor::empty({2, 17, 40});
  matmul(c_rounded, Tensor::from(a_rounded, a.shape()), b, false, true, 1.0f, 0.0f);
  expect_close(c_gpu, c_rounded, 1e-5f, 1e-5f, "bf16 weights, a rounded alike");
  // ...and from the float32 a to bfloat16 precision.
  compare(a, b, {2, 17, 40}, false, true, 1.0f, 0.0f, 3e-2f, "bf16 weights");
}

// Puts the process's matmul precision back however the test ends.
struct PrecisionGuard {
  explicit PrecisionGuard(MatmulPrecision p) { set_matmul_precision(p); }
  ~PrecisionGuard() { set_matmul_precision(MatmulPrecision::f32); }
};

TEST(CudaMatmul, TensorCorePrecisionsStayWithinTheirRounding) {
  NEWSRL_REQUIRE_GPU();
  // Large enough for cuBLASLt's tensor-core kernels; every transpose form the engine uses.
  const Tensor a = random_tensor({4, 64, 256}, 31), w = random_tensor({192, 256}, 32);
  const Tensor g = random_tensor({4, 64, 192}, 33);
  for (const MatmulPrecision p : {MatmulPrecision::tf32, MatmulPrecision::bf16}) {
    PrecisionGuard guard(p);
    // Relative error of one product is about 2^-8 (bf16) or 2^-11 (tf32); over
    // 256 random terms the sum's error stays within a few per cent of its scale.
    const float tol = p == MatmulPrecision::bf16 ? 6e-2f : 1e-2f;
    const std::string name(matmul_precision_name(p));
    compare(a, w, {4, 64, 192}, false, true, 1.0f, 0.0f, tol, name + ": x wT");
    compare(g, w, {4, 64, 256}, false, false, 1.0f, 0.0f, tol, name + ": dy w");
    compare(g.view({256, 192}), a.view({256, 256}), {192, 256}, true, false, 1.0f, 1.0f, tol, name + ": dyT x");
  }
  EXPECT_EQ(matmul_precision(), MatmulPrecision::f32);
}

TEST(CudaMatmul, ALinearLayersBackwardAddsIntoGradients) {
  NEWSRL_REQUIRE_GPU();
  // y = x Wᵀ: dx += dy W, dW += dyᵀ x, both from non-zero gradients.
  const Tensor x = random_tensor({2, 11, 24}, 14), w = random_tensor({19, 24}, 15), dy = random_tensor({2, 11, 19}, 16);
  Tensor dx_cpu = random_tensor(x.shape(), 17), dw_cpu = random_tensor(w.shape(), 18);
  Tensor dx_gpu = on_gpu(dx_cpu), dw_gpu = on_gpu(dw_cpu);
  matmul(dx_cpu, dy, w, false, false, 1.0f, 1.0f);
  matmul(dw_cpu, dy.view({22, 19}), x.view({22, 24}), true, false, 1.0f, 1.0f);
  const Tensor x_gpu = on_gpu(x), w_gpu = on_gpu(w), dy_gpu = on_gpu(dy);
  matmul(dx_gpu, dy_gpu, w_gpu, false, false, 1.0f, 1.0f);
  matmul(dw_gpu, dy_gpu.view({22, 19}), x_gpu.view({22, 24}), true, false, 1.0f, 1.0f);
  expect_close(dx_gpu, dx_cpu, 1e-5f, 1e-5f, "dx");
  expect_close(dw_gpu, dw_cpu, 1e-5f, 1e-5f, "dW");
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
