// Rotary embedding: values against a double-precision rotate-half reference, the
// backward by finite differences, and the rotation's invariants.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>

#include "gradcheck.h"

using namespace newsrl::kernels;
using namespace newsrl::kernels::testing;

namespace {

// Hugging Face Qwen2's apply_rotary_pos_emb, in double.
std::vector<double> reference_rope(const Tensor& x, std::int64_t position0, double theta) {
  const std::int64_t batch = x.dim(0), tokens = x.dim(1), heads = x.dim(2), dim = x.dim(3), half = dim / 2;
  const float* px = x.data<float>();
  std::vector<double> out(static_cast<std::size_t>(x.numel()));
  for (std::int64_t b = 0; b < batch; ++b) {
    for (std::int64_t t = 0; t < tokens; ++t) {
      for (std::int64_t h = 0; h < heads; ++h) {
        const std::int64_t at = ((b * tokens + t) * heads + h) * dim;
        for (std::int64_t i = 0; i < half; ++i) {
          // Hugging Face's angle: frequency and product rounded to float32.
          const float inv_freq = 1.0f / static_cast<float>(std::pow(theta, static_cast<double>(
                                                                      static_cast<float>(2 * i) / static_cast<float>(dim))));
          const double angle = static_cast<double>(static_cast<float>(position0 + t) * inv_freq);
          const double c = std::cos(angle), s = std::sin(angle);
          const double x1 = px[at + i], x2 = px[at + i + half];
          out[static_cast<std::size_t>(at + i)] = x1 * c - x2 * s;
          out[static_cast<std::size_t>(at + i + half)] = x2 * c + x1 * s;
        }
      }
    }
  }
  return out;
}

}  // namespace

TEST(Rope, ForwardMatchesReference) {
  for (std::int64_t position0 : {0, 5, 1000}) {
    for (float theta : {10000.0f, 1000000.0f}) {
      SCOPED_TRACE("position0 " + std::to_string(position0) + ", theta " + std::to_string(theta));
      const Tensor x = random_tensor({2, 5, 3, 8}, 41);
      Tensor out = Tensor::empty(x.shape());
      rope_forward(out, x, position0, theta);
      expect_close(out, reference_rope(x, position0, theta), 1e-5, 1e-6, "rope");
    }
  }
}

TEST(Rope, MatchesHuggingFaceAtLongPositions) {
  // PyTorch's float32 angles at positions up to 32k (tests/reference/rope_reference.py):
  // exact angles would be off by up to ~1e-3 rad there, far outside this tolerance.
#include "fixtures/rope_torch.inc"
  for (int p = 0; p < kRopePositions; ++p) {
    SCOPED_TRACE("position " + std::to_string(kRopeAt[p]));
    const Tensor x = Tensor::from(std::vector<float>(kRopeX + p * kRopeDim, kRopeX + (p + 1) * kRopeDim), {1, 1, 1, kRopeDim});
    Tensor out = Tensor::empty(x.shape());
    rope_forward(out, x, kRopeAt[p], kRopeTheta);
    const std::vector<double> want(kRopeOut + p * kRopeDim, kRopeOut + (p + 1) * kRopeDim);
    expect_close(out, want, 2e-6, 2e-6, "rope vs PyTorch");
  }
}

TEST(Rope, PositionZeroIsTheIdentity) {
  const Tensor x = random_tensor({1, 1, 2, 6}, 42);
  Tensor out = Tensor::empty(x.shape());
  rope_forward(out, x, 0, 10000.0f);
  EXPECT_EQ(out.to_vector<float>(), x.to_vector<float>());
}

TEST(Rope, PreservesTheNormOfEachPair) {
  const Tensor x = random_tensor({2, 7, 2, 16}, 43);
  Tensor out = Tensor::empty(x.shape());
  rope_forward(out, x, 3, 10000.0f);
  const auto xv = x.to_vector<float>(), ov = out.to_vector<float>();
  const std::size_t dim = 16, half = dim / 2;
  for (std::size_t row = 0; row < xv.size() / dim; ++row) {
    for (std::size_t i = 0; i < half; ++i) {
      const std::size_t a = row * dim + i, b = a + half;
      const double before = std::hypot(static_cast<double>(xv[a]), static_cast<double>(xv[b]));
      const double after = std::hypot(static_cast<double>(ov[a]), static_cast<double>(ov[b]));
      EXPECT_NEAR(after, before, 1e-5 * (1 + before)) << "row " << row << ", pair " << i;
    }
  }
}

TEST(Rope, BackwardMatchesFiniteDifferences) {
  for (std::int64_t position0 : {0, 9}) {
    SCOPED_TRACE("position0 " + std::to_string(position0));
    GradCheck g;
    g.inputs = {random_tensor({2, 4, 3, 8}, 44)};
    g.names = {"x"};
    g.forward = [position0](const std::vector<Tensor>& in) {
      Tensor out = Tensor::empty(in[0].shape());
      rope_forward(out, in[0], position0, 10000.0f);
      return out;
    };
    g.backward = [position0](const std::vector<Tensor>&, const Tensor& dy, std::vector<Tensor>& grads) {
      rope_backward(grads[0], dy, position0, 10000.0f);
    };
    g.run();
  }
}

// The backward is the inverse rotation, and it adds into dx.
TEST(Rope, BackwardUndoesForwardAndAccumulates) {
  const Tensor x = random_tensor({1, 6, 2, 10}, 45);
  Tensor out = Tensor::empty(x.shape());
  rope_forward(out, x, 17, 1000000.0f);
  const Tensor start = random_tensor(x.shape(), 46);
  Tensor dx = start.clone();
  rope_backward(dx, out, 17, 1000000.0f);
  const auto xv = x.to_vector<float>(), sv = start.to_vector<float>();
  std::vector<double> want(xv.size());
  for (std::size_t i = 0; i < xv.size(); ++i) want[i] = static_cast<double>(sv[i]) + xv[i];
  expect_close(dx, want, 1e-5, 1e-5, "start + R^T R x");
}

TEST(Rope, SameResultWithOneOrTwoThreads) {
  const Tensor x = random_tensor({2, 9, 3, 12}, 47);
  const int keep = omp_get_max_threads();
  std::vector<std::vector<float>> results;
  for (int threads : {1, 2}) {
    omp_set_num_threads(threads);
    Tensor out = Tensor::empty(x.shape());
    rope_forward(out, x, 4, 10000.0f);
    Tensor dx = Tensor::zeros(x.shape());
    rope_backward(dx, out, 4, 10000.0f);
    results.push_back(out.to_vector<float>());
    results.push_back(dx.to_vector<float>());
  }
  omp_set_num_threads(keep);
  EXPECT_EQ(results[0], results[2]);
  EXPECT_EQ(results[1], results[3]);
}
