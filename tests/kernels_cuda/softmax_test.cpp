// Softmax, log-softmax and the fused cross-entropy of the CUDA op table
// against the CPU table, forward and backward, up to Qwen's 151936-token
// vocabulary, with ignored targets, masked (-inf) logits and large logits.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "tests/kernels_cuda/cuda_compare.h"

namespace newsrl::kernels::cuda_test {
namespace {

Tensor gpu_empty(const Shape& s) { return Tensor::empty(s, DType::f32, Device::cuda); }

TEST(CudaSoftmax, SoftmaxAndLogSoftmaxForwardAndBackward) {
  NEWSRL_REQUIRE_GPU();
  std::uint64_t seed = 300;
  for (const Shape& s : {Shape{7, 13}, Shape{3, 1000}, Shape{2, 3, 4097}, Shape{1, 151936}}) {
    for (bool log : {false, true}) {
      const std::string what = std::string(log ? "log_softmax " : "softmax ") + s.str();
      const Tensor x = random_tensor(s, ++seed, -8, 8);
      Tensor out = Tensor::empty(s), gout = gpu_empty(s);
      softmax_forward(out, x, log);
      softmax_forward(gout, on_gpu(x), log);
      expect_close(gout, out, log ? 1e-5f : 1e-7f, 1e-5f, (what + " forward").c_str());

      const Tensor dout = random_tensor(s, ++seed, -1, 1), dx0 = random_tensor(s, ++seed, -1, 1);
      Tensor dx = dx0.clone(), gdx = on_gpu(dx0);
      softmax_backward(dx, dout, out, log);
      softmax_backward(gdx, on_gpu(dout), on_gpu(out), log);
      expect_close(gdx, dx, 1e-5f, 1e-5f, (what + " backward").c_str());
    }
  }
}

TEST(CudaSoftmax, SoftmaxInPlace) {
  NEWSRL_REQUIRE_GPU();
  const Tensor x = random_tensor(Shape{5, 300}, 7, -4, 4);
  Tensor out = Tensor::empty(x.shape());
  softmax_forward(out, x, false);
  Tensor g = on_gpu(x);
  softmax_forward(g, g, false);
  expect_close(g, out, 1e-7f, 1e-5f, "softmax in place");
}

// Logits [rows, vocab] with some rows made hard: one partly masked with -inf,
// one shifted by +1000; targets random with one ignored row.
struct CrossEntropyInputs {
  Tensor logits, targets;
};

CrossEntropyInputs cross_entropy_inputs(std::int64_t rows, std::int64_t vocab, std::uint64_t seed) {
  std::vector<float> x = random_tensor(Shape{rows, vocab}, seed, -8, 8).to_vector<float>();
  std::mt19937_64 rng(seed + 1);
  std::uniform_int_distribution<std::int32_t> pick(0, static_cast<std::int32_t>(vocab - 1));
  std::vector<std::int32_t> t(static_cast<std::size_t>(rows));
  for (auto& v : t) v = pick(rng);
  if (rows > 1) t[1] = kIgnoreIndex;
  if (rows > 2) {  // row 2: every other logit masked, the target kept visible
    for (std::int64_t v = 0; v < vocab; v += 2) x[static_cast<std::size_t>(2 * vocab + v)] = -INFINITY;
    t[2] = static_cast<std::int32_t>(vocab > 1 ? 1 : 0);
  }
  if (rows > 3) {  // row 3: large logits
    for (std::int64_t v = 0; v < vocab; ++v) x[static_cast<std::size_t>(3 * vocab + v)] += 1000.0f;
  }
  return {Tensor::from(x, Shape{rows, vocab}), Tensor::from(t, Shape{rows})};
}

TEST(CudaSoftmax, CrossEntropyForwardAndBackward) {
  NEWSRL_REQUIRE_GPU();
  for (const auto& [rows, vocab] : std::vector<std::pair<std::int64_t, std::int64_t>>{
           {1, 2}, {37, 1000}, {5, 4099}, {6, 151936}}) {
    const std::string what = "cross_entropy [" + std::to_string(rows) + ", " + std::to_string(vocab) + "]";
    const CrossEntropyInputs in = cross_entropy_inputs(rows, vocab, static_cast<std::uint64_t>(vocab));
    const Tensor glogits = on_gpu(in.logits), gtargets = on_gpu(in.targets);
    Tensor losses = Tensor::empty(Shape{rows}), lse = Tensor::empty(Shape{rows});
    Tensor glosses = gpu_empty(Shape{rows}), glse = gpu_empty(Shape{rows});
    cross_entropy_forward(losses, lse, in.logits, in.targets);
    cross_entropy_forward(glosses, glse, glogits, gtargets);
    expect_close(glosses, losses, 1e-5f, 1e-5f, (what + " losses").c_str());
    expect_close(glse, lse, 1e-5f, 1e-6f, (what + " lse").c_str());

    const Tensor dlosses = random_tensor(Shape{rows}, 9, 0.5f, 2.0f);
    const Tensor d0 = random_tensor(Shape{rows, vocab}, 10, -0.01f, 0.01f);
    Tensor dlogits = d0.clone(), gdlogits = on_gpu(d0);
    cross_entropy_backward(dlogits, dlosses, in.logits, lse, in.targets);
    cross_entropy_backward(gdlogits, on_gpu(dlosses), glogits, on_gpu(lse), gtargets);
    expect_close(gdlogits, dlogits, 1e-7f, 1e-5f, (what + " dlogits").c_str());
  }
}

TEST(CudaSoftmax, CrossEntropyBadTargetThrowsOneLine) {
  NEWSRL_REQUIRE_GPU();
  const Tensor logits = on_gpu(random_tensor(Shape{3, 10}, 11));
  const Tensor targets = on_gpu(Tensor::from(std::vector<std::int32_t>{2, kIgnoreIndex, 10}, Shape{3}));
  Tensor losses = gpu_empty(Shape{3}), lse = gpu_empty(Shape{3});
  try {
    cross_entropy_forward(losses, lse, logits, targets);
    FAIL() << "a target outside the vocabulary was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("target 10 in row 2"), std::string::npos) << e.what();
  }
  Tensor dlogits = gpu_empty(Shape{3, 10});
  EXPECT_THROW(cross_entropy_backward(dlogits, lse, logits, lse, targets), std::invalid_argument);
}

TEST(CudaSoftmax, ArgmaxRowsPicksTheFirstMaximumAndItsLogProb) {
  NEWSRL_REQUIRE_GPU();
  for (const std::int64_t cols : {1, 7, 1000, 151936}) {
    Tensor logits = random_tensor(Shape{5, cols}, static_cast<std::uint64_t>(cols), -8, 8);
    float* x = logits.data<float>();
    if (cols >= 1000) {
      // Row 1: a tie between a late and an early column; row 2: masked columns.
      x[cols + cols - 3] = 20.0f;
      x[cols + 500] = 20.0f;
      for (std::int64_t i = 0; i < cols; i += 2) x[2 * cols + i] = -std::numeric_limits<float>::infinity();
    }
    Tensor ids = Tensor::empty({5}, DType::i32), lp = Tensor::empty({5});
    argmax_rows(ids, lp, logits);
    Tensor gids = Tensor::empty({5}, DType::i32, Device::cuda), glp = gpu_empty(Shape{5});
    argmax_rows(gids, glp, on_gpu(logits));
    expect_close(gids, ids, 0, 0, ("ids, " + std::to_string(cols) + " columns").c_str());
    expect_close(glp, lp, 1e-6f, 1e-6f, ("log-probs, " + std::to_string(cols) + " columns").c_str());
    if (cols >= 1000) {
      EXPECT_EQ(on_cpu(gids).data<std::int32_t>()[1], 500);
    }
  }
}

}  // namespace
}  // namespace newsrl::kernels::cuda_test
