// Softmax, log-softmax and cross-entropy: values against double-precision loops, gradients by finite
// differences, bad targets, and the same bits whatever the number of OpenMP threads.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include "gradcheck.h"

using namespace newsrl::kernels;
using namespace newsrl::kernels::testing;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// Softmax (or log-softmax) of each row of cols values, in double.
std::vector<double> reference_softmax(const std::vector<float>& x, std::int64_t cols, bool log) {
  std::vector<double> out(x.size());
  for (std::size_t r = 0; r < x.size() / static_cast<std::size_t>(cols); ++r) {
    const float* row = x.data() + r * static_cast<std::size_t>(cols);
    double m = -kInf, s = 0;
    for (std::int64_t i = 0; i < cols; ++i) m = std::max(m, static_cast<double>(row[i]));
    for (std::int64_t i = 0; i < cols; ++i) s += std::exp(row[i] - m);
    for (std::int64_t i = 0; i < cols; ++i) {
      out[r * static_cast<std::size_t>(cols) + static_cast<std::size_t>(i)] =
          log ? row[i] - m - std::log(s) : std::exp(row[i] - m) / s;
    }
  }
  return out;
}

struct CrossEntropyReference {
  std::vector<double> losses, lse;
  std::vector<double> probs;  // softmax of each row
};

CrossEntropyReference reference_cross_entropy(const Tensor& logits, const std::vector<std::int32_t>& targets) {
  const std::int64_t vocab = logits.dim(1);
  CrossEntropyReference ref;
  ref.probs = reference_softmax(logits.to_vector<float>(), vocab, false);
  const std::vector<double> logp = reference_softmax(logits.to_vector<float>(), vocab, true);
  const float* x = logits.data<float>();
  for (std::size_t r = 0; r < targets.size(); ++r) {
    const std::size_t row = r * static_cast<std::size_t>(vocab);
    ref.lse.push_back(x[row] - logp[row]);  // log p = x - lse for every entry
    ref.losses.push_back(targets[r] == kIgnoreIndex ? 0.0 : -logp[row + static_cast<std::size_t>(targets[r])]);
  }
  return ref;
}

Tensor softmax_of(const Tensor& x, bool log) {
  Tensor out = Tensor::empty(x.shape());
  softmax_forward(out, x, log);
  return out;
}

// Sets the OpenMP thread count for a scope and puts the previous one back.
class Threads {
 public:
  explicit Threads(int n) : saved_(omp_get_max_threads()) { omp_set_num_threads(n); }
  ~Threads() { omp_set_num_threads(saved_); }
  Threads(const Threads&) = delete;
  Threads& operator=(const Threads&) = delete;

 private:
  int saved_;
};

}  // namespace

TEST(Softmax, ForwardMatchesDoubleReference) {
  // Rows of large, very negative, equal and widely spread values: a forward that does not subtract the row
  // max overflows on the first and underflows to 0 / 0 on the second.
  const Tensor extreme = Tensor::from(std::vector<float>{1000,  1001,  1002,  999,   1000.5f,  //
                                                         -1000, -1001, -999,  -1000, -1002,    //
                                                         0,     0,     0,     0,     0,        //
                                                         1e4f,  0,     -1e4f, 20,    -20},
                                      {4, 5});
  for (bool log : {false, true}) {
    SCOPED_TRACE(log ? "log-softmax" : "softmax");
    const Tensor x = random_tensor({2, 3, 17}, 41, 3.0f);
    expect_close(softmax_of(x, log), reference_softmax(x.to_vector<float>(), 17, log), 1e-5, 1e-7, "random");
    expect_close(softmax_of(extreme, log), reference_softmax(extreme.to_vector<float>(), 5, log), 1e-5, 1e-7,
                 "extreme");
  }
}

TEST(Softmax, MaskedEntriesGetZeroProbability) {
  const float inf = std::numeric_limits<float>::infinity();
  const Tensor x = Tensor::from(std::vector<float>{-inf, 1, 2, -inf}, {1, 4});
  const std::vector<float> p = softmax_of(x, false).to_vector<float>();
  EXPECT_EQ(p[0], 0.0f);
  EXPECT_EQ(p[3], 0.0f);
  EXPECT_NEAR(p[1] + p[2], 1.0f, 1e-6f);
  const std::vector<float> logp = softmax_of(x, true).to_vector<float>();
  EXPECT_EQ(logp[0], -inf);
  EXPECT_EQ(logp[3], -inf);
  EXPECT_NEAR(logp[2], -std::log1p(std::exp(-1.0)), 1e-6);
}

TEST(Softmax, BackwardMatchesFiniteDifferences) {
  for (bool log : {false, true}) {
    SCOPED_TRACE(log ? "log-softmax" : "softmax");
    GradCheck g;
    g.inputs = {random_tensor({3, 4, 11}, 51, 2.0f)};
    g.names = {"x"};
    g.forward = [log](const std::vector<Tensor>& in) { return softmax_of(in[0], log); };
    g.backward = [log](const std::vector<Tensor>& in, const Tensor& dy, std::vector<Tensor>& grads) {
      softmax_backward(grads[0], dy, softmax_of(in[0], log), log);
    };
    g.run();
  }
}

TEST(Softmax, BackwardAccumulates) {
  for (bool log : {false, true}) {
    SCOPED_TRACE(log ? "log-softmax" : "softmax");
    const Tensor y = softmax_of(random_tensor({5, 9}, 61), log), dout = random_tensor({5, 9}, 62);
    Tensor fresh = Tensor::zeros(y.shape());
    softmax_backward(fresh, dout, y, log);
    const Tensor start = random_tensor(y.shape(), 63);
    Tensor dx = start.clone();
    softmax_backward(dx, dout, y, log);
    std::vector<double> want;
    for (std::int64_t i = 0; i < y.numel(); ++i) want.push_back(start.data<float>()[i] + fresh.data<float>()[i]);
    expect_close(dx, want, 1e-6, 1e-7, "dx");
  }
}

TEST(Softmax, SameBitsWithOneOrTwoThreads) {
  const Tensor x = random_tensor({37, 300}, 71, 3.0f), dout = random_tensor({37, 300}, 72);
  std::vector<std::vector<float>> runs[2];
  for (int threads : {1, 2}) {
    Threads scope(threads);
    for (bool log : {false, true}) {
      const Tensor y = softmax_of(x, log);
      Tensor dx = Tensor::zeros(x.shape());
      softmax_backward(dx, dout, y, log);
      runs[threads - 1].push_back(y.to_vector<float>());
      runs[threads - 1].push_back(dx.to_vector<float>());
    }
  }
  ASSERT_EQ(runs[0].size(), 4u);
  for (std::size_t i = 0; i < runs[0].size(); ++i) EXPECT_TRUE(runs[0][i] == runs[1][i]) << "output " << i;
}

TEST(CrossEntropy, ForwardMatchesDoubleReference) {
  Tensor logits = random_tensor({6, 37}, 81, 3.0f);
  for (std::int64_t v = 0; v < 37; ++v) logits.data<float>()[2 * 37 + v] += 1000.0f;  // stability
  const std::vector<std::int32_t> targets{3, kIgnoreIndex, 36, 0, kIgnoreIndex, 17};
  Tensor losses = Tensor::empty({6}), lse = Tensor::empty({6});
  cross_entropy_forward(losses, lse, logits, Tensor::from(targets, {6}));
  const CrossEntropyReference ref = reference_cross_entropy(logits, targets);
  expect_close(lse, ref.lse, 1e-6, 1e-6, "lse");
  expect_close(losses, ref.losses, 1e-5, 1e-6, "losses");
  EXPECT_EQ(losses.data<float>()[1], 0.0f);
  EXPECT_EQ(losses.data<float>()[4], 0.0f);
}

TEST(CrossEntropy, BackwardMatchesFiniteDifferences) {
  // L = sum_n dlosses[n] * losses[n], with GradCheck's random weights as dlosses.
  const Tensor targets = Tensor::from(std::vector<std::int32_t>{4, kIgnoreIndex, 12, 0, kIgnoreIndex}, {5});
  auto forward = [targets](const Tensor& logits, Tensor& lse) {
    Tensor losses = Tensor::empty({logits.dim(0)});
    lse = Tensor::empty({logits.dim(0)});
    cross_entropy_forward(losses, lse, logits, targets);
    return losses;
  };
  GradCheck g;
  g.inputs = {random_tensor({5, 13}, 91, 2.0f)};
  g.names = {"logits"};
  g.forward = [forward](const std::vector<Tensor>& in) {
    Tensor lse;
    return forward(in[0], lse);
  };
  g.backward = [forward, targets](const std::vector<Tensor>& in, const Tensor& dlosses, std::vector<Tensor>& grads) {
    Tensor lse;
    forward(in[0], lse);
    cross_entropy_backward(grads[0], dlosses, in[0], lse, targets);
    for (std::int64_t row : {1, 4}) {
      for (std::int64_t v = 0; v < 13; ++v) EXPECT_EQ(grads[0].data<float>()[row * 13 + v], 0.0f) << "ignored row";
    }
  };
  g.run();
}

TEST(CrossEntropy, BackwardAccumulatesSoftmaxMinusOneHot) {
  const Tensor logits = random_tensor({4, 21}, 101, 2.0f), dlosses = random_tensor({4}, 102);
  const std::vector<std::int32_t> targets{20, kIgnoreIndex, 0, 7};
  const Tensor t = Tensor::from(targets, {4});
  Tensor losses = Tensor::empty({4}), lse = Tensor::empty({4});
  cross_entropy_forward(losses, lse, logits, t);
  const Tensor start = random_tensor(logits.shape(), 103);
  Tensor dlogits = start.clone();
  cross_entropy_backward(dlogits, dlosses, logits, lse, t);
  const CrossEntropyReference ref = reference_cross_entropy(logits, targets);
  std::vector<double> want;
  for (std::int64_t r = 0; r < 4; ++r) {
    for (std::int64_t v = 0; v < 21; ++v) {
      const std::size_t i = static_cast<std::size_t>(r * 21 + v);
      double w = start.data<float>()[i];
      if (targets[static_cast<std::size_t>(r)] != kIgnoreIndex) {
        w += dlosses.data<float>()[r] * (ref.probs[i] - (v == targets[static_cast<std::size_t>(r)] ? 1.0 : 0.0));
      }
      want.push_back(w);
    }
  }
  expect_close(dlogits, want, 1e-5, 1e-6, "dlogits");
  for (std::int64_t v = 0; v < 21; ++v) EXPECT_EQ(dlogits.data<float>()[21 + v], start.data<float>()[21 + v]);
}

TEST(CrossEntropy, BadTargetThrowsOneLineAndWritesNothing) {
  const Tensor logits = random_tensor({3, 5}, 111);
  struct Case {
    std::vector<std::int32_t> targets;
    std::string target, row;
  };
  for (const Case& c : {Case{{1, 5, kIgnoreIndex}, "target 5", "row 1"}, Case{{-1, 0, 4}, "target -1", "row 0"},
                        Case{{0, 1, -101}, "target -101", "row 2"}}) {
    Tensor losses = Tensor::empty({3}), lse = Tensor::empty({3});
    fill(losses, 42.0f);
    fill(lse, 42.0f);
    const Tensor targets = Tensor::from(c.targets, {3});
    try {
      cross_entropy_forward(losses, lse, logits, targets);
      ADD_FAILURE() << c.target << " was accepted";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find(c.target), std::string::npos) << what;
      EXPECT_NE(what.find(c.row), std::string::npos) << what;
      EXPECT_NE(what.find("[0, 5)"), std::string::npos) << what;
      EXPECT_EQ(what.find('\n'), std::string::npos) << what;
    }
    EXPECT_EQ(losses.to_vector<float>(), std::vector<float>(3, 42.0f));
    EXPECT_EQ(lse.to_vector<float>(), std::vector<float>(3, 42.0f));
    Tensor dlogits = Tensor::zeros(logits.shape());
    EXPECT_THROW(cross_entropy_backward(dlogits, lse, logits, lse, targets), std::invalid_argument);
  }
}

TEST(CrossEntropy, QwenSizedVocabulary) {
  constexpr std::int64_t kVocab = 151936;
  const Tensor logits = random_tensor({3, kVocab}, 121, 4.0f);
  const std::vector<std::int32_t> targets{7, kVocab - 1, kIgnoreIndex};
  const Tensor t = Tensor::from(targets, {3});
  Tensor losses = Tensor::empty({3}), lse = Tensor::empty({3});
  cross_entropy_forward(losses, lse, logits, t);
  const CrossEntropyReference ref = reference_cross_entropy(logits, targets);
  expect_close(lse, ref.lse, 1e-6, 1e-6, "lse");
  expect_close(losses, ref.losses, 1e-5, 1e-5, "losses");
  Tensor dlogits = Tensor::zeros(logits.shape());
  cross_entropy_backward(dlogits, Tensor::from(std::vector<float>{1, 1, 1}, {3}), logits, lse, t);
  const float* d = dlogits.data<float>();
  for (std::int64_t r = 0; r < 2; ++r) {
    double sum = 0;  // softmax sums to 1, the one-hot takes 1 away
    for (std::int64_t v = 0; v < kVocab; ++v) sum += d[r * kVocab + v];
    EXPECT_NEAR(sum, 0.0, 1e-5) << "row " << r;
    const std::size_t at = static_cast<std::size_t>(r * kVocab + targets[static_cast<std::size_t>(r)]);
    EXPECT_NEAR(d[at], ref.probs[at] - 1.0, 1e-6);
  }
  for (std::int64_t v = 0; v < kVocab; ++v) ASSERT_EQ(d[2 * kVocab + v], 0.0f) << "ignored row";
}

TEST(CrossEntropy, SameBitsWithOneOrTwoThreads) {
  const Tensor logits = random_tensor({37, 1000}, 131, 3.0f), dlosses = random_tensor({37}, 132);
  std::vector<std::int32_t> targets;
  for (std::int32_t r = 0; r < 37; ++r) targets.push_back(r % 5 == 0 ? kIgnoreIndex : r * 27);
  const Tensor t = Tensor::from(targets, {37});
  std::vector<std::vector<float>> runs[2];
  for (int threads : {1, 2}) {
    Threads scope(threads);
    Tensor losses = Tensor::empty({37}), lse = Tensor::empty({37}), dlogits = Tensor::zeros(logits.shape());
    cross_entropy_forward(losses, lse, logits, t);
    cross_entropy_backward(dlogits, dlosses, logits, lse, t);
    runs[threads - 1] = {losses.to_vector<float>(), lse.to_vector<float>(), dlogits.to_vector<float>()};
  }
  for (std::size_t i = 0; i < runs[0].size(); ++i) EXPECT_TRUE(runs[0][i] == runs[1][i]) << "output " << i;
}

TEST(ArgmaxRows, FirstMaximumAndItsLogProbability) {
  const float inf = std::numeric_limits<float>::infinity();
  // Row 0: a tie at columns 1 and 3; row 1: masked columns; row 2: one column.
  const Tensor logits = Tensor::from(std::vector<float>{0, 2, 1, 2, -inf, -inf, 5, -inf}, {2, 4});
  Tensor ids = Tensor::empty({2}, DType::i32), lp = Tensor::empty({2});
  argmax_rows(ids, lp, logits);
  EXPECT_EQ(ids.to_vector<std::int32_t>(), (std::vector<std::int32_t>{1, 2}));
  const double lse0 = std::log(std::exp(0.0) + 2 * std::exp(2.0) + std::exp(1.0));
  EXPECT_NEAR(lp.to_vector<float>()[0], 2.0 - lse0, 1e-6);
  EXPECT_EQ(lp.to_vector<float>()[1], 0.0f);  // all the mass on one column
  const Tensor one = Tensor::from(std::vector<float>{-3}, {1, 1});
  Tensor id1 = Tensor::empty({1}, DType::i32), lp1 = Tensor::empty({1});
  argmax_rows(id1, lp1, one);
  EXPECT_EQ(id1.to_vector<std::int32_t>()[0], 0);
  EXPECT_EQ(lp1.to_vector<float>()[0], 0.0f);
  Tensor wrong = Tensor::empty({3}, DType::i32);
  EXPECT_THROW(argmax_rows(wrong, lp, logits), std::invalid_argument);
  Tensor float_ids = Tensor::empty({2});
  EXPECT_THROW(argmax_rows(float_ids, lp, logits), std::invalid_argument);
}
