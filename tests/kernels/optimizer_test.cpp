// AdamW against PyTorch's torch.optim.AdamW (fixture from
// tests/reference/adamw_reference.py) and against the update written out.
#include <gtest/gtest.h>

#include <cmath>

#include "gradcheck.h"

using namespace newsrl::kernels;
using namespace newsrl::kernels::testing;

namespace {
#include "fixtures/adamw_torch.inc"
}  // namespace

TEST(AdamW, TakesTheStepsPyTorchTakes) {
  Tensor p = Tensor::from(std::vector<float>(kAdamStart, kAdamStart + kAdamSize), {kAdamSize});
  Tensor m = Tensor::zeros({kAdamSize}), v = Tensor::zeros({kAdamSize});
  AdamW hp{kAdamLr, kAdamBeta1, kAdamBeta2, kAdamEps, kAdamDecay};
  for (int s = 0; s < kAdamSteps; ++s) {
    const Tensor g = Tensor::from(std::vector<float>(kAdamGrads[s], kAdamGrads[s] + kAdamSize), {kAdamSize});
    adamw_step(p, g, m, v, hp, s + 1);
    std::vector<double> want(kAdamAfter[s], kAdamAfter[s] + kAdamSize);
    expect_close(p, want, 1e-6, 1e-7, "step " + std::to_string(s + 1));
  }
}

TEST(AdamW, FirstStepMovesEachWeightByAboutTheLearningRate) {
  // With zero moments the first bias-corrected step is lr * g / |g| (plus decay).
  Tensor p = Tensor::from(std::vector<float>{1.0f, -1.0f}, {2});
  Tensor g = Tensor::from(std::vector<float>{0.3f, -2.0f}, {2});
  Tensor m = Tensor::zeros({2}), v = Tensor::zeros({2});
  adamw_step(p, g, m, v, AdamW{0.1f, 0.9f, 0.999f, 1e-8f, 0.0f}, 1);
  EXPECT_NEAR(p.to_vector<float>()[0], 0.9f, 1e-6);
  EXPECT_NEAR(p.to_vector<float>()[1], -0.9f, 1e-6);
  EXPECT_THROW(adamw_step(p, g, m, v, AdamW{}, 0), std::invalid_argument);
}
