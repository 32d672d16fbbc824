// Best-of-N's rules (actors/best_of_n.h) on a hand-worked batch where the
// composite and the per-reward rule disagree.
#include "actors/best_of_n.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>

using namespace newsrl;

namespace {

constexpr double kOff = std::numeric_limits<double>::quiet_NaN();  // a reward whose weight is 0

// ret and div on, equal weights; the rest off.
news::RewardConfig ret_and_div(double div_weight = 1.0) {
  news::RewardConfig c;
  c.ret.weight = 1.0;
  c.cov.weight = 0.0;
  c.spec.weight = 0.0;
  c.div.weight = div_weight;
  c.structure.weight = 0.0;
  return c;
}

news::Rewards list(double ret, double div, const news::RewardConfig& c) {
  news::Rewards r;
  r.ret = ret;
  r.div = div;
  r.cov = r.spec = r.structure = kOff;
  r.composite = (c.ret.weight * ret + c.div.weight * div) / (c.ret.weight + c.div.weight);
  return r;
}

// User A: (ret .30, div .80) or (ret .40, div .60); user B: (.50, .20) or
// (.50, .90). Composite: A .55 vs .50 keeps list 0; B .35 vs .70 keeps 1.
// Per-reward: ret centred on each user's pair is ∓.05 for A and 0 for B, so
// its RMS over the batch's four lists is sqrt(2·.05²/4) = .035355; div's is
// ±.1 and ±.35, RMS sqrt((2·.1² + 2·.35²)/4) = .257391. A's list 1 scores
// (.05/.035355 − .1/.257391)/2 = (1.41421 − .38851)/2 = +.51285 > 0 and is
// kept: its retrieval lead is large for ret's spread, its diversity loss
// small for div's. B's list 1 scores (0 + .35/.257391)/2 > 0.
std::vector<std::vector<news::Rewards>> batch(const news::RewardConfig& c) {
  return {{list(0.30, 0.80, c), list(0.40, 0.60, c)}, {list(0.50, 0.20, c), list(0.50, 0.90, c)}};
}

}  // namespace

TEST(BestOfN, CompositeKeepsTheHighestComposite) {
  const news::RewardConfig c = ret_and_div();
  EXPECT_EQ(actors::choose_best_of_n(batch(c), c, "composite"), (std::vector<std::size_t>{0, 1}));
}

TEST(BestOfN, PerRewardScalesEachRewardByItsSpread) {
  const news::RewardConfig c = ret_and_div();
  EXPECT_EQ(actors::choose_best_of_n(batch(c), c, "per-reward"), (std::vector<std::size_t>{1, 1}));
}

TEST(BestOfN, PerRewardHonoursTheWeights) {
  // div weighted 10: A's list 1 scores (1.41421 − 10 · .38851)/11 < 0.
  const news::RewardConfig c = ret_and_div(10.0);
  EXPECT_EQ(actors::choose_best_of_n(batch(c), c, "per-reward"), (std::vector<std::size_t>{0, 1}));
}

TEST(BestOfN, TiesAndSingleListsKeepTheFirst) {
  const news::RewardConfig c = ret_and_div();
  const std::vector<std::vector<news::Rewards>> same = {{list(0.5, 0.5, c), list(0.5, 0.5, c)}};
  for (const char* rule : {"composite", "per-reward"}) {
    EXPECT_EQ(actors::choose_best_of_n(same, c, rule), (std::vector<std::size_t>{0})) << rule;
    EXPECT_EQ(actors::choose_best_of_n({{list(0.1, 0.2, c)}, {list(0.9, 0.1, c)}}, c, rule),
              (std::vector<std::size_t>{0, 0}))
        << rule;
  }
}

TEST(BestOfN, RefusesUnknownRulesAndUnevenGroups) {
  const news::RewardConfig c = ret_and_div();
  EXPECT_THROW(actors::choose_best_of_n(batch(c), c, "ret"), std::invalid_argument);
  EXPECT_THROW(actors::choose_best_of_n({{list(0.1, 0.2, c)}, {list(0.1, 0.2, c), list(0.3, 0.4, c)}}, c, "per-reward"),
               std::invalid_argument);
  EXPECT_TRUE(actors::known_best_of_n_rule("per-reward"));
  EXPECT_FALSE(actors::known_best_of_n_rule("Per-Reward"));
}
