// RMSNorm and LayerNorm against naive double-precision references, their gradients by finite differences,
// accumulation into existing gradients, and the same bits whatever the thread count.
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>

#include "gradcheck.h"

using namespace newsrl::kernels;
using namespace newsrl::kernels::testing;

namespace {

constexpr float kEps = 1e-6f;

struct RowStats {
  std::vector<double> out, mean, rstd;
};

// out = x / sqrt(mean(x^2) + eps) * w, row by row, in double.
RowStats reference_rmsnorm(const Tensor& x, const Tensor& w, double eps) {
  const std::int64_t cols = x.dim(-1), rows = x.shape().rows();
  const float *px = x.data<float>(), *pw = w.data<float>();
  RowStats s;
  for (std::int64_t r = 0; r < rows; ++r) {
    double ss = 0;
    for (std::int64_t j = 0; j < cols; ++j) ss += static_cast<double>(px[r * cols + j]) * px[r * cols + j];
    const double inv = 1.0 / std::sqrt(ss / static_cast<double>(cols) + eps);
    s.rstd.push_back(inv);
    for (std::int64_t j = 0; j < cols; ++j) s.out.push_back(px[r * cols + j] * inv * pw[j]);
  }
  return s;
}

// out = (x - mean) / sqrt(var + eps) * w + b with the biased variance, in double.
RowStats reference_layernorm(const Tensor& x, const Tensor& w, const Tensor& b, double eps) {
  const std::int64_t cols = x.dim(-1), rows = x.shape().rows();
  const float *px = x.data<float>(), *pw = w.data<float>(), *pb = b.data<float>();
  RowStats s;
  for (std::int64_t r = 0; r < rows; ++r) {
    double m = 0, v = 0;
    for (std::int64_t j = 0; j < cols; ++j) m += px[r * cols + j];
    m /= static_cast<double>(cols);
    for (std::int64_t j = 0; j < cols; ++j) v += (px[r * cols + j] - m) * (px[r * cols + j] - m);
    const double inv = 1.0 / std::sqrt(v / static_cast<double>(cols) + eps);
    s.mean.push_back(m);
    s.rstd.push_back(inv);
    for (std::int64_t j = 0; j < cols; ++j) s.out.push_back((px[r * cols + j] - m) * inv * pw[j] + pb[j]);
  }
  return s;
}

Shape rows_of(const Shape& x) {
  std::vector<std::int64_t> d = x.to_vector();
  d.pop_back();
  return Shape(d);
}

Tensor rmsnorm(const Tensor& x, const Tensor& w, Tensor* rstd = nullptr) {
  Tensor out = Tensor::empty(x.shape()), rs = Tensor::empty(rows_of(x.shape()));
  rmsnorm_forward(out, rs, x, w, kEps);
  if (rstd != nullptr) *rstd = rs;
  return out;
}

Tensor layernorm(const Tensor& x, const Tensor& w, const Tensor& b, Tensor* mean = nullptr, Tensor* rstd = nullptr) {
  Tensor out = Tensor::empty(x.shape()), mu = Tensor::empty(rows_of(x.shape())), rs = Tensor::empty(mu.shape());
  layernorm_forward(out, mu, rs, x, w, b, kEps);
  if (mean != nullptr) *mean = mu;
  if (rstd != nullptr) *rstd = rs;
  return out;
}

bool same_bits(const Tensor& a, const Tensor& b) {
  return a.bytes() == b.bytes() && std::memcmp(a.raw(), b.raw(), a.bytes()) == 0;
}

// Runs fn with n OpenMP threads, then puts the previous count back.
template <class Fn>
void with_threads(int n, Fn fn) {
  const int before = omp_get_max_threads();
  omp_set_num_threads(n);
  fn();
  omp_set_num_threads(before);
}

}  // namespace

TEST(Norms, RmsNormMatchesTheReference) {
  Tensor x = random_tensor({2, 3, 8}, 1, 3.0f);
  std::memset(x.data<float>() + 8, 0, 8 * sizeof(float));  // an all-zero row: only eps keeps it finite
  const Tensor w = random_tensor({8}, 2);
  Tensor rstd;
  const Tensor out = rmsnorm(x, w, &rstd);
  const RowStats want = reference_rmsnorm(x, w, kEps);
  EXPECT_EQ(rstd.shape(), (Shape{2, 3}));
  expect_close(out, want.out, 1e-5, 1e-6, "rmsnorm out");
  expect_close(rstd, want.rstd, 1e-6, 0, "rmsnorm rstd");
}

TEST(Norms, LayerNormMatchesTheReference) {
  Tensor x = random_tensor({2, 3, 8}, 3, 2.0f);
  float* px = x.data<float>();
  for (int j = 0; j < 8; ++j) px[j] += 1000.0f;  // a large mean, where E[x^2] - E[x]^2 would lose the variance
  const Tensor w = random_tensor({8}, 4), b = random_tensor({8}, 5);
  Tensor mean, rstd;
  const Tensor out = layernorm(x, w, b, &mean, &rstd);
  const RowStats want = reference_layernorm(x, w, b, kEps);
  expect_close(out, want.out, 1e-4, 1e-5, "layernorm out");
  expect_close(mean, want.mean, 1e-6, 1e-6, "layernorm mean");
  expect_close(rstd, want.rstd, 1e-5, 0, "layernorm rstd");
}

TEST(Norms, RmsNormGradients) {
  GradCheck g;
  g.inputs = {random_tensor({2, 3, 8}, 11), random_tensor({8}, 12)};
  g.names = {"x", "w"};
  g.forward = [](const std::vector<Tensor>& in) { return rmsnorm(in[0], in[1]); };
  g.backward = [](const std::vector<Tensor>& in, const Tensor& dy, std::vector<Tensor>& grads) {
    Tensor rstd;
    rmsnorm(in[0], in[1], &rstd);
    rmsnorm_backward(grads[0], grads[1], dy, in[0], in[1], rstd);
  };
  g.run();
}

TEST(Norms, LayerNormGradients) {
  GradCheck g;
  g.inputs = {random_tensor({2, 3, 8}, 21), random_tensor({8}, 22), random_tensor({8}, 23)};
  g.names = {"x", "w", "b"};
  g.forward = [](const std::vector<Tensor>& in) { return layernorm(in[0], in[1], in[2]); };
  g.backward = [](const std::vector<Tensor>& in, const Tensor& dy, std::vector<Tensor>& grads) {
    Tensor mean, rstd;
    layernorm(in[0], in[1], in[2], &mean, &rstd);
    layernorm_backward(grads[0], grads[1], grads[2], dy, in[0], in[1], mean, rstd);
  };
  g.run();
}

TEST(Norms, BackwardsAddIntoTheirGradients) {
  const Tensor x = random_tensor({2, 3, 8}, 31), w = random_tensor({8}, 32), b = random_tensor({8}, 33);
  const Tensor dy = random_tensor(x.shape(), 34);
  const Tensor dx0 = random_tensor(x.shape(), 35), dw0 = random_tensor(w.shape(), 36),
               db0 = random_tensor(b.shape(), 37);
  // The sum of what a fresh backward gives and what the gradient held.
  auto plus = [](const Tensor& start, const Tensor& fresh) {
    std::vector<double> v;
    for (std::int64_t i = 0; i < start.numel(); ++i) v.push_back(start.data<float>()[i] + fresh.data<float>()[i]);
    return v;
  };
  {
    Tensor rstd;
    rmsnorm(x, w, &rstd);
    Tensor dx = Tensor::zeros(x.shape()), dw = Tensor::zeros(w.shape());
    rmsnorm_backward(dx, dw, dy, x, w, rstd);
    Tensor dxa = dx0.clone(), dwa = dw0.clone();
    rmsnorm_backward(dxa, dwa, dy, x, w, rstd);
    expect_close(dxa, plus(dx0, dx), 1e-6, 1e-6, "rmsnorm dx");
    expect_close(dwa, plus(dw0, dw), 1e-6, 1e-6, "rmsnorm dw");
  }
  {
    Tensor mean, rstd;
    layernorm(x, w, b, &mean, &rstd);
    Tensor dx = Tensor::zeros(x.shape()), dw = Tensor::zeros(w.shape()), db = Tensor::zeros(b.shape());
    layernorm_backward(dx, dw, db, dy, x, w, mean, rstd);
    Tensor dxa = dx0.clone(), dwa = dw0.clone(), dba = db0.clone();
    layernorm_backward(dxa, dwa, dba, dy, x, w, mean, rstd);
    expect_close(dxa, plus(dx0, dx), 1e-6, 1e-6, "layernorm dx");
    expect_close(dwa, plus(dw0, dw), 1e-6, 1e-6, "layernorm dw");
    expect_close(dba, plus(db0, db), 1e-6, 1e-6, "layernorm db");
  }
}

TEST(Norms, SameBitsWithOneAndTwoThreads) {
  // More columns than one column block of the parameter gradients, and rows that split unevenly.
  const Tensor x = random_tensor({5, 13, 600}, 41), w = random_tensor({600}, 42), b = random_tensor({600}, 43);
  const Tensor dy = random_tensor(x.shape(), 44);
  struct Result {
    Tensor rms_out, rms_rstd, rms_dx, rms_dw, ln_out, ln_mean, ln_rstd, ln_dx, ln_dw, ln_db;
  };
  auto run = [&] {
    Result r;
    r.rms_out = rmsnorm(x, w, &r.rms_rstd);
    r.rms_dx = Tensor::zeros(x.shape());
    r.rms_dw = Tensor::zeros(w.shape());
    rmsnorm_backward(r.rms_dx, r.rms_dw, dy, x, w, r.rms_rstd);
    r.ln_out = layernorm(x, w, b, &r.ln_mean, &r.ln_rstd);
    r.ln_dx = Tensor::zeros(x.shape());
    r.ln_dw = Tensor::zeros(w.shape());
    r.ln_db = Tensor::zeros(b.shape());
    layernorm_backward(r.ln_dx, r.ln_dw, r.ln_db, dy, x, w, r.ln_mean, r.ln_rstd);
    return r;
  };
  Result one, two;
  with_threads(1, [&] { one = run(); });
  with_threads(2, [&] { two = run(); });
  EXPECT_TRUE(same_bits(one.rms_out, two.rms_out));
  EXPECT_TRUE(same_bits(one.rms_rstd, two.rms_rstd));
  EXPECT_TRUE(same_bits(one.rms_dx, two.rms_dx));
  EXPECT_TRUE(same_bits(one.rms_dw, two.rms_dw));
  EXPECT_TRUE(same_bits(one.ln_out, two.ln_out));
  EXPECT_TRUE(same_bits(one.ln_mean, two.ln_mean));
  EXPECT_TRUE(same_bits(one.ln_rstd, two.ln_rstd));
  EXPECT_TRUE(same_bits(one.ln_dx, two.ln_dx));
  EXPECT_TRUE(same_bits(one.ln_dw, two.ln_dw));
  EXPECT_TRUE(same_bits(one.ln_db, two.ln_db));
}
