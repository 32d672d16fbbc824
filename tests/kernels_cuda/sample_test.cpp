// Sampling with a temperature, top-k and top-p on the GPU (radix selection)
// against the CPU's sorting version: the same token from the same uniform on
// every row, and the same log-probability, up to Qwen's 151936-token
// vocabulary, with ties, masked (-inf) columns and peaked rows.
#include <gtest/gtest.h>

#include <limits>
#include <string>
#include <vector>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

TEST(CudaSample, DrawsWhatTheCpuDraws) {
  NEWSRL_REQUIRE_GPU();
  const float inf = std::numeric_limits<float>::infinity();
  const std::int64_t rows = 24;
  for (const std::int64_t cols : {1, 3, 1000, 4099, 151936}) {
    Tensor logits = random_tensor(Shape{rows, cols}, static_cast<std::uint64_t>(cols) + 17, -6, 6);
    float* x = logits.data<float>();
    // Row 1: coarse values, so many tokens tie; row 2: half the columns
    // masked; row 3: peaked, so the nucleus is a few tokens.
    for (std::int64_t i = 0; i < cols; ++i) x[cols + i] = static_cast<float>(static_cast<int>(x[cols + i]));
    if (cols > 1) {
      for (std::int64_t i = 0; i < cols; i += 2) x[2 * cols + i] = -inf;
    }
    x[3 * cols + cols / 2] = 30.0f;
    const Tensor uniforms = random_tensor(Shape{rows}, static_cast<std::uint64_t>(cols), 0, 1);
    for (const SampleParams p : {SampleParams{1.0f, 0, 1.0f}, SampleParams{0.7f, 0, 1.0f}, SampleParams{1.0f, 1, 1.0f},
                                 SampleParams{1.0f, 50, 1.0f}, SampleParams{1.0f, 0, 0.9f},
                                 SampleParams{0.6f, 40, 0.95f}, SampleParams{1.3f, 0, 0.3f}}) {
      const std::string what = std::to_string(cols) + " columns, T " + std::to_string(p.temperature) + " top_k " +
                               std::to_string(p.top_k) + " top_p " + std::to_string(p.top_p);
      Tensor ids = Tensor::empty({rows}, DType::i32), lp = Tensor::empty({rows});
      sample_rows(ids, lp, logits, uniforms, p);
      Tensor gids = Tensor::empty({rows}, DType::i32, Device::cuda), glp = Tensor::empty({rows}, DType::f32, Device::cuda);
      sample_rows(gids, glp, on_gpu(logits), on_gpu(uniforms), p);
      expect_close(gids, ids, 0, 0, ("ids, " + what).c_str());
      expect_close(glp, lp, 1e-6f, 1e-6f, ("log-probs, " + what).c_str());
    }
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
