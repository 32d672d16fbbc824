// kernels::sample_rows on the CPU: hand-worked draws, the distribution each
// setting of temperature, top-k and top-p should give (against softmax
// probabilities computed here), ties, masked columns, a 151936-token row's
// nucleus, and bad arguments.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <random>
#include <stdexcept>
#include <vector>

#include "kernels/ops.h"

namespace newsrl::kernels {
namespace {

// One draw of a single row at each of the uniforms.
std::vector<std::int32_t> draws(const std::vector<float>& row, const std::vector<float>& us, const SampleParams& p,
                                std::vector<float>* logprobs = nullptr) {
  const std::int64_t n = static_cast<std::int64_t>(us.size()), cols = static_cast<std::int64_t>(row.size());
  std::vector<float> many;
  for (std::int64_t i = 0; i < n; ++i) many.insert(many.end(), row.begin(), row.end());
  Tensor logits = Tensor::from(many, {n, cols}), uniforms = Tensor::from(us, {n});
  Tensor ids = Tensor::empty({n}, DType::i32), lp = Tensor::empty({n});
  sample_rows(ids, lp, logits, uniforms, p);
  if (logprobs != nullptr) *logprobs = lp.to_vector<float>();
  return ids.to_vector<std::int32_t>();
}

// softmax(row / t) in double.
std::vector<double> probabilities(const std::vector<float>& row, double t) {
  const double mx = *std::max_element(row.begin(), row.end());
  std::vector<double> p(row.size());
  double sum = 0;
  for (std::size_t i = 0; i < row.size(); ++i) sum += p[i] = std::exp((row[i] - mx) / t);
  for (double& v : p) v /= sum;
  return p;
}

// The share of each token over n evenly spaced uniforms.
std::vector<double> shares(const std::vector<float>& row, const SampleParams& p, int n) {
  std::vector<float> us(static_cast<std::size_t>(n));
  for (int j = 0; j < n; ++j) us[static_cast<std::size_t>(j)] = (static_cast<float>(j) + 0.5f) / static_cast<float>(n);
  std::vector<double> share(row.size(), 0.0);
  for (std::int32_t id : draws(row, us, p)) share[static_cast<std::size_t>(id)] += 1.0 / n;
  return share;
}

TEST(SampleRows, HandWorkedDraws) {
  // Probabilities 1/7, 2/7, 4/7; the draw walks ids 0, 1, 2.
  const std::vector<float> row = {0.0f, std::log(2.0f), std::log(4.0f)};
  std::vector<float> lp;
  EXPECT_EQ(draws(row, {0.1f, 0.2f, 0.5f, 0.99f}, {1.0f, 0, 1.0f}, &lp), (std::vector<std::int32_t>{0, 1, 2, 2}));
  EXPECT_NEAR(lp[0], std::log(1.0 / 7), 1e-6);
  EXPECT_NEAR(lp[1], std::log(2.0 / 7), 1e-6);
  EXPECT_NEAR(lp[2], std::log(4.0 / 7), 1e-6);
  // top_k 2: ids 1 and 2, 1/3 and 2/3; the log-probs stay those before the cut.
  EXPECT_EQ(draws(row, {0.0f, 0.3f, 0.4f}, {1.0f, 2, 1.0f}, &lp), (std::vector<std::int32_t>{1, 1, 2}));
  EXPECT_NEAR(lp[0], std::log(2.0 / 7), 1e-6);
  // top_p 0.5: 4/7 alone reaches it; 0.6 needs 2/7 more.
  EXPECT_EQ(draws(row, {0.0f, 0.9f}, {1.0f, 0, 0.5f}), (std::vector<std::int32_t>{2, 2}));
  EXPECT_EQ(draws(row, {0.0f, 0.3f, 0.4f}, {1.0f, 0, 0.6f}), (std::vector<std::int32_t>{1, 1, 2}));
  // Temperature 0.5 squares the odds: 1/21, 4/21, 16/21.
  EXPECT_EQ(draws(row, {0.04f, 0.06f, 0.23f, 0.24f}, {0.5f, 0, 1.0f}, &lp), (std::vector<std::int32_t>{0, 1, 1, 2}));
  EXPECT_NEAR(lp[3], std::log(16.0 / 21), 1e-6);
  // A uniform at or past 1 takes the last unit; below 0, the first.
  EXPECT_EQ(draws(row, {1.0f, 2.0f, -1.0f}, {1.0f, 0, 1.0f}), (std::vector<std::int32_t>{2, 2, 0}));
}

TEST(SampleRows, TiesGoToTheLowerIdAndMaskedColumnsAreNeverDrawn) {
  const float inf = std::numeric_limits<float>::infinity();
  // Four equal logits: top_k 2 keeps ids 0 and 1, each half.
  const std::vector<float> ties = {1.0f, 1.0f, 1.0f, 1.0f};
  const std::vector<double> s = shares(ties, {1.0f, 2, 1.0f}, 1000);
  EXPECT_NEAR(s[0], 0.5, 1e-3);
  EXPECT_NEAR(s[1], 0.5, 1e-3);
  EXPECT_EQ(s[2] + s[3], 0.0);
  // top_p 0.5 of four equal tokens: two are needed, the lower ids.
  const std::vector<double> q = shares(ties, {1.0f, 0, 0.5f}, 1000);
  EXPECT_NEAR(q[0], 0.5, 1e-3);
  EXPECT_EQ(q[2] + q[3], 0.0);
  // -0 ties +0.
  EXPECT_EQ(draws({-0.0f, 0.0f}, {0.2f, 0.7f}, {1.0f, 1, 1.0f}), (std::vector<std::int32_t>{0, 0}));
  // Masked columns: no unit.
  const std::vector<float> masked = {-inf, 2.0f, -inf, 1.0f, -inf};
  const std::vector<double> m = shares(masked, {1.0f, 0, 1.0f}, 1000);
  EXPECT_EQ(m[0] + m[2] + m[4], 0.0);
  EXPECT_NEAR(m[1], 1.0 / (1.0 + std::exp(-1.0)), 1e-3);
}

TEST(SampleRows, EachSettingDrawsItsDistribution) {
  std::mt19937 rng(11);
  std::normal_distribution<float> normal(0.0f, 2.0f);
  std::vector<float> row(50);
  for (float& v : row) v = normal(rng);
  const int n = 20000;
  for (const SampleParams p : {SampleParams{1.0f, 0, 1.0f}, SampleParams{0.7f, 0, 1.0f}, SampleParams{1.0f, 5, 1.0f},
                               SampleParams{1.0f, 0, 0.8f}, SampleParams{0.7f, 10, 0.9f}}) {
    // Expected: softmax at the temperature, the top_k, then the shortest prefix holding top_p, renormalised.
    const std::vector<double> prob = probabilities(row, p.temperature);
    std::vector<std::size_t> order(row.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return row[a] > row[b]; });
    std::size_t keep = p.top_k > 0 ? static_cast<std::size_t>(p.top_k) : row.size();
    double mass = 0;
    for (std::size_t j = 0; j < keep; ++j) mass += prob[order[j]];
    double cum = 0;
    for (std::size_t j = 0; j < keep; ++j) {
      cum += prob[order[j]];
      if (cum >= p.top_p * mass) {
        keep = j + 1;
        break;
      }
    }
    std::vector<double> expected(row.size(), 0.0);
    double total = 0;
    for (std::size_t j = 0; j < keep; ++j) total += prob[order[j]];
    for (std::size_t j = 0; j < keep; ++j) expected[order[j]] = prob[order[j]] / total;
    const std::vector<double> got = shares(row, p, n);
    for (std::size_t i = 0; i < row.size(); ++i) {
      // Evenly spaced uniforms: each token's share is exact to one draw (and the units' rounding).
      EXPECT_NEAR(got[i], expected[i], 1.5 / n) << "token " << i << " at T " << p.temperature << " top_k "
                                                << p.top_k << " top_p " << p.top_p;
    }
  }
}

TEST(SampleRows, AQwenSizedRowDrawsFromItsNucleus) {
  const std::int64_t cols = 151936;
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 3.0f);
  std::vector<float> row(static_cast<std::size_t>(cols));
  for (float& v : row) v = normal(rng);
  row[123] = 25.0f;  // a peaked row: the nucleus at 0.9 is a few tokens
  row[99999] = 24.0f;
  row[7] = 23.5f;
  const std::vector<double> prob = probabilities(row, 1.0);
  std::vector<float> us;
  for (int j = 0; j < 64; ++j) us.push_back((static_cast<float>(j) + 0.5f) / 64.0f);
  std::vector<float> lp;
  const std::vector<std::int32_t> ids = draws(row, us, {1.0f, 0, 0.9f}, &lp);
  // The shortest prefix holding 0.9: 123, 99999, then 7 if those two fall short.
  std::vector<std::int32_t> nucleus = {123, 99999};
  if (prob[123] + prob[99999] < 0.9 * 1.0) nucleus.push_back(7);
  for (std::size_t j = 0; j < ids.size(); ++j) {
    EXPECT_NE(std::find(nucleus.begin(), nucleus.end(), ids[j]), nucleus.end()) << "draw " << j << ": " << ids[j];
    EXPECT_NEAR(lp[j], std::log(prob[static_cast<std::size_t>(ids[j])]), 1e-5);
  }
  // Without a cut, 256 draws from a nearly flat row spread over it, in id order.
  std::vector<float> many;
  for (int j = 0; j < 256; ++j) many.push_back((static_cast<float>(j) + 0.5f) / 256.0f);
  std::vector<float> flat(row.size());
  for (std::size_t i = 0; i < row.size(); ++i) flat[i] = normal(rng) * 0.1f;
  const std::vector<std::int32_t> spread = draws(flat, many, {1.0f, 0, 1.0f});
  std::vector<std::int32_t> distinct = spread;
  std::sort(distinct.begin(), distinct.end());
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  EXPECT_EQ(distinct.size(), 256u);
  EXPECT_TRUE(std::is_sorted(spread.begin(), spread.end()));  // the walk goes in id order
}

TEST(SampleRows, RejectsBadArguments) {
  Tensor logits = Tensor::from(std::vector<float>{0, 1, 2, 3}, {2, 2});
  Tensor u = Tensor::from(std::vector<float>{0.5f, 0.5f}, {2});
  Tensor ids = Tensor::empty({2}, DType::i32), lp = Tensor::empty({2});
  EXPECT_THROW(sample_rows(ids, lp, logits, u, {0.0f, 0, 1.0f}), std::invalid_argument);
  EXPECT_THROW(sample_rows(ids, lp, logits, u, {1.0f, -1, 1.0f}), std::invalid_argument);
  EXPECT_THROW(sample_rows(ids, lp, logits, u, {1.0f, 0, 0.0f}), std::invalid_argument);
  EXPECT_THROW(sample_rows(ids, lp, logits, u, {1.0f, 0, 1.5f}), std::invalid_argument);
  Tensor one = Tensor::from(std::vector<float>{0.5f}, {1});
  EXPECT_THROW(sample_rows(ids, lp, logits, one, {1.0f, 0, 1.0f}), std::invalid_argument);
  Tensor wrong = Tensor::empty({2});
  EXPECT_THROW(sample_rows(wrong, lp, logits, u, {1.0f, 0, 1.0f}), std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::kernels
