// Dr.GRPO against hand-worked numbers: group advantages, the clipped
// objective and its gradient in every clipping case, the k3 KL term, and the
// token log-probabilities it is fed, with finite differences.
#include "models/grpo.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "models/functional.h"

using namespace newsrl;
using namespace newsrl::models;

namespace {

Tensor vec(const std::vector<float>& v) { return Tensor::from(v, {static_cast<std::int64_t>(v.size())}); }

// The policy loss and d loss / d logp for logp given as a parameter.
std::pair<float, std::vector<float>> loss_and_grad(const std::vector<float>& logp, const std::vector<float>& old,
                                                   const std::vector<float>& adv, const std::vector<float>& ref,
                                                   kernels::PolicyClip clip, float normaliser) {
  Parameter p("logp", vec(logp));
  Graph g;
  const Value loss = fn::policy_loss(g, g.param(p), vec(old), vec(adv), ref.empty() ? Tensor() : vec(ref), clip,
                                     normaliser);
  g.backward(loss);
  return {loss.tensor().data<float>()[0], p.grad.to_vector<float>()};
}

}  // namespace

TEST(DrGrpo, AdvantagesAreRewardMinusGroupMeanWithoutStd) {
  EXPECT_EQ(group_advantages({1, 0, 0, 1, 3, 3, 3, 3}, 4), (std::vector<float>{0.5f, -0.5f, -0.5f, 0.5f, 0, 0, 0, 0}));
  EXPECT_EQ(group_advantages({2, 4, 9}, 3), (std::vector<float>{-3, -1, 4}));  // not divided by the std
  EXPECT_DOUBLE_EQ(zero_spread_share({1, 0, 0, 1, 3, 3, 3, 3}, 4), 0.5);
  EXPECT_THROW(group_advantages({1, 2, 3}, 2), std::invalid_argument);
}

TEST(DrGrpo, PerRewardAdvantagesScaleEachRewardByItsBatchSpread) {
  // Two groups of two. Reward a is 0/1: centred {.5, -.5, 0, 0}, RMS over the
  // batch sqrt(.5 / 4) = .353553, scaled {1.414214, -1.414214, 0, 0}.
  // Reward b differs by hundredths: centred {.02, -.02, -.02, .02}, RMS .02,
  // scaled {1, -1, -1, 1}. Weights 1 and 3: (1 a' + 3 b') / 4.
  const std::vector<std::vector<double>> parts = {{1, 0, 1, 1}, {0.30, 0.26, 0.20, 0.24}};
  const std::vector<float> adv = per_reward_advantages(parts, {1, 3}, 2);
  const std::vector<float> want = {1.103553f, -1.103553f, -0.75f, 0.75f};
  ASSERT_EQ(adv.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(adv[i], want[i], 1e-5) << i;
  // The composite's advantages, for contrast: a's 0/1 step swamps b in the
  // first group ({.475, .195} -> +-.14) and b alone moves the second (+-.015).
  // A reward with no spread adds nothing but still counts in the weights.
  const std::vector<float> flat = per_reward_advantages({parts[0], parts[1], {.5, .5, .5, .5}}, {1, 3, 1}, 2);
  for (std::size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(flat[i], want[i] * 4 / 5, 1e-5) << i;
  EXPECT_THROW(per_reward_advantages(parts, {1}, 2), std::invalid_argument);
  EXPECT_THROW(per_reward_advantages(parts, {1, 0}, 2), std::invalid_argument);
  EXPECT_THROW(per_reward_advantages(parts, {1, 3}, 3), std::invalid_argument);
  EXPECT_THROW(per_reward_advantages({{1, 0}, {1, 0, 1, 1}}, {1, 1}, 2), std::invalid_argument);
}

TEST(DrGrpo, ClippedObjectiveInEveryCase) {
  // old_logp = 0, so ratio = exp(logp); clip 0.2 both ways.
  //  ratio 1.1, A +1: inside the range        loss -1.1  grad -1.1
  //  ratio 1.5, A +1: above, clipped to 1.2   loss -1.2  grad 0
  //  ratio 0.5, A -2: below, clipped to 0.8   loss +1.6  grad 0
  //  ratio 0.9, A -2: inside                  loss +1.8  grad +1.8
  //  ratio 1.5, A -1: above, but the unclipped term is the smaller: loss +1.5, grad +1.5
  const std::vector<float> ratio = {1.1f, 1.5f, 0.5f, 0.9f, 1.5f}, adv = {1, 1, -2, -2, -1};
  std::vector<float> logp;
  for (float r : ratio) logp.push_back(std::log(r));
  const std::vector<float> old(5, 0.0f);
  const auto [loss, grad] = loss_and_grad(logp, old, adv, {}, {0.2f, 0.2f, 0.0f}, 4.0f);
  EXPECT_NEAR(loss, (-1.1 - 1.2 + 1.6 + 1.8 + 1.5) / 4, 1e-6);
  const std::vector<double> want = {-1.1 / 4, 0, 0, 1.8 / 4, 1.5 / 4};
  for (std::size_t i = 0; i < 5; ++i) EXPECT_NEAR(grad[i], want[i], 1e-6) << "token " << i;
}

TEST(DrGrpo, KlToTheReferenceIsK3) {
  // One token, ratio 1 (logp = old), A = 0: only the KL term. ref - logp = d:
  // k3 = e^d - d - 1, d k3 / d logp = 1 - e^d.
  const float logp = -1.0f, ref = -1.5f, beta = 0.1f, d = ref - logp;
  const auto [loss, grad] = loss_and_grad({logp}, {logp}, {0.0f}, {ref}, {0.2f, 0.2f, beta}, 1.0f);
  EXPECT_NEAR(loss, beta * (std::exp(d) - d - 1), 1e-7);
  EXPECT_NEAR(grad[0], beta * (1 - std::exp(d)), 1e-7);
}

TEST(DrGrpo, GradientMatchesFiniteDifferences) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> u(-0.15f, 0.15f), a(-2.0f, 2.0f);
  std::vector<float> logp, old, adv, ref;
  for (int i = 0; i < 20; ++i) {
    old.push_back(-2.0f + a(rng));
    float step = u(rng);
    if (std::abs(std::abs(step) - 0.18f) < 0.03f) step *= 0.5f;  // keep away from the clip's kinks
    logp.push_back(old.back() + step);
    adv.push_back(a(rng));
    ref.push_back(old.back() + u(rng));
  }
  const kernels::PolicyClip clip{0.1f, 0.1f, 0.05f};
  const auto [loss, grad] = loss_and_grad(logp, old, adv, ref, clip, 7.0f);
  for (std::size_t i = 0; i < logp.size(); ++i) {
    const float h = 1e-3f;
    std::vector<float> up = logp, down = logp;
    up[i] += h;
    down[i] -= h;
    const double fd = (loss_and_grad(up, old, adv, ref, clip, 7.0f).first -
                       loss_and_grad(down, old, adv, ref, clip, 7.0f).first) / (2.0 * h);
    EXPECT_NEAR(grad[i], fd, 2e-3) << "token " << i;
  }
}

TEST(DrGrpo, TokenLogProbsAreTheLogSoftmaxAtTheTargets) {
  const std::vector<float> z = {1.0f, 2.0f, 0.5f, -1.0f, 0.0f, 3.0f};  // 2 rows of 3
  Parameter p("logits", Tensor::from(z, {2, 3}));
  Graph g;
  const Value lp = fn::token_logprobs(g, g.param(p), Tensor::from(std::vector<std::int32_t>{1, 2}, {2}));
  const double lse0 = std::log(std::exp(1.0) + std::exp(2.0) + std::exp(0.5));
  const double lse1 = std::log(std::exp(-1.0) + std::exp(0.0) + std::exp(3.0));
  EXPECT_NEAR(lp.tensor().data<float>()[0], 2.0 - lse0, 1e-6);
  EXPECT_NEAR(lp.tensor().data<float>()[1], 3.0 - lse1, 1e-6);
  // d(lp0 + 2 lp1)/dz = onehot - softmax, weighted per row.
  const Value w = g.constant(Tensor::from(std::vector<float>{1.0f, 2.0f}, {1, 2}));
  const Value weighted = fn::view(g, fn::linear(g, fn::view(g, lp, {1, 2}), w), {1});
  g.backward(weighted);
  const std::vector<float> dz = p.grad.to_vector<float>();
  EXPECT_NEAR(dz[1], 1.0 - std::exp(2.0 - lse0), 1e-6);
  EXPECT_NEAR(dz[0], -std::exp(1.0 - lse0), 1e-6);
  EXPECT_NEAR(dz[5], 2.0 * (1.0 - std::exp(3.0 - lse1)), 1e-6);
}
