// The rewards on constructed cases over a tiny hand-made news set: each
// reward moves the way its definition says, stays in [0, 1], a weight of 0
// switches a reward off, best-of-N breaks ties by index, and bad configs get
// one line.
#include "news/rewards.h"

#include <gtest/gtest.h>

#include <cmath>

#include "rewards_fixture.h"

namespace newsrl::news {
namespace {

using reward_fixture::cooking_and_markets_signals;
using reward_fixture::storm_signals;
using reward_fixture::tiny_index;
using reward_fixture::train_window;

ParsedList list_of(std::vector<std::string> queries, bool valid = true) {
  ParsedList p;
  p.valid = valid;
  p.queries = std::move(queries);
  if (!valid) p.error = "constructed as invalid";
  return p;
}

void expect_in_unit_range(const Rewards& r) {
  for (double v : {r.ret, r.cov, r.spec, r.div, r.structure, r.composite}) {
    EXPECT_GE(v, 0.0);
    EXPECT_LE(v, 1.0);
  }
}

class RewardsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { index_ = new NewsIndex(tiny_index()); }
  static void TearDownTestSuite() {
    delete index_;
    index_ = nullptr;
  }
  static NewsIndex* index_;
  RewardModel model(RewardConfig config = {}) { return RewardModel(*index_, train_window(), std::move(config)); }
};
NewsIndex* RewardsTest::index_ = nullptr;

TEST_F(RewardsTest, StructureIsOneForAListThatParsesAndZeroOtherwise) {
  RewardModel m = model();
  const ListLimits limits;
  const ParsedList good = parse_completion("1. hurricane coast\n2. tomato pasta recipe\n<|im_end|>", limits);
  const ParsedList bad = parse_completion("1. hurricane coast\n3. tomato pasta recipe\n<|im_end|>", limits);
  ASSERT_TRUE(good.valid) << good.error;
  ASSERT_FALSE(bad.valid);
  const UserSignals user = m.prepare(storm_signals());
  const std::vector<Rewards> r = m.score(user, {good, bad});
  EXPECT_EQ(r[0].structure, 1.0);
  EXPECT_EQ(r[1].structure, 0.0);
  // The queries an invalid list still holds are scored all the same.
  EXPECT_GT(r[1].ret, 0.0);
  expect_in_unit_range(r[0]);
  expect_in_unit_range(r[1]);
}

TEST_F(RewardsTest, DiversityIsZeroForOneQueryAndHigherForUnrelatedQueries) {
  RewardModel m = model();
  const UserSignals user = m.prepare(storm_signals());
  const std::vector<Rewards> r =
      m.score(user, {list_of({"hurricane coast evacuation"}),
                     list_of({"hurricane coast evacuation", "hurricane coast storm warnings"}),
                     list_of({"hurricane coast evacuation", "tomato pasta recipe"}),
                     list_of({"hurricane coast", "hurricane coast"}), list_of({})});
  EXPECT_EQ(r[0].div, 0.0);
  EXPECT_GT(r[2].div, r[1].div);
  EXPECT_GT(r[2].div, 0.5);
  EXPECT_NEAR(r[3].div, 0.0, 1e-6);  // the same query twice
  EXPECT_EQ(r[4].div, 0.0);
  // A query of no known word shows no difference from the others.
  const std::vector<Rewards> unknown = m.score(user, {list_of({"!!!", "???"})});
  EXPECT_EQ(unknown[0].div, 0.0);
  for (const Rewards& x : r) expect_in_unit_range(x);
}

TEST_F(RewardsTest, SignalsOfTwoThemesFormTwoClusters) {
  RewardModel m = model();
  const UserSignals user = m.prepare(cooking_and_markets_signals());
  ASSERT_EQ(user.clusters.size(), 2);  // k = round(sqrt(6)) = 2
  // The three cooking signals share a cluster, the three market ones the other.
  const std::vector<int>& a = user.clusters.assignment;
  EXPECT_EQ(a[0], a[1]);
  EXPECT_EQ(a[0], a[2]);
  EXPECT_EQ(a[3], a[4]);
  EXPECT_EQ(a[3], a[5]);
  EXPECT_NE(a[0], a[3]);
  EXPECT_DOUBLE_EQ(user.clusters.shares[0] + user.clusters.shares[1], 1.0);
}

TEST_F(RewardsTest, CoverageIsHigherWhenTheQueriesReachBothThemes) {
  RewardModel m = model();
  const UserSignals user = m.prepare(cooking_and_markets_signals());
  const std::vector<Rewards> r =
      m.score(user, {list_of({"tomato pasta recipe", "interest rates bank"}),
                     list_of({"tomato pasta recipe", "basil pasta"}), list_of({"hurricane coast"}), list_of({})});
  EXPECT_NEAR(r[0].cov, 1.0, 1e-9);
  EXPECT_NEAR(r[1].cov, 0.5, 1e-9);
  EXPECT_GT(r[0].cov, r[1].cov);
  EXPECT_LT(r[2].cov, r[1].cov);
  EXPECT_EQ(r[3].cov, 0.0);
}

TEST_F(RewardsTest, SpecificQueriesScoreAboveGenericOnes) {
  RewardModel m = model();
  const UserSignals user = m.prepare(storm_signals());
  const std::vector<Rewards> r = m.score(user, {list_of({"hurricane coast evacuate"}), list_of({"latest news today"}),
                                                list_of({"hurricane news"}), list_of({"hurricane"})});
  EXPECT_GT(r[0].spec, 0.5);
  EXPECT_EQ(r[1].spec, 0.0);  // generic words the corpus lacks: nothing left after the penalty
  EXPECT_GT(r[0].spec, r[2].spec);
  EXPECT_GT(r[0].spec, r[3].spec);  // one word gets half
}

TEST(SpecificityRubric, MatchesTheDefinitionByHand) {
  // N = 3 texts: idf = ln(4 / (1 + df)) + 1; "coast" (df 1) has the largest.
  SpecificityIdf idf = SpecificityIdf::fit({"storm coast", "storm city", "bank rates"});
  const double storm = std::log(4.0 / 3.0) + 1, coast = std::log(2.0) + 1;
  EXPECT_NEAR(idf.idf(U"storm"), storm, 1e-12);
  EXPECT_NEAR(idf.max_idf(), coast, 1e-12);
  EXPECT_EQ(idf.idf(U"nowhere"), 0.0);
  const SpecificityRubric spec(idf, {"news"}, 0.5);
  EXPECT_NEAR(spec.query("Storm COAST"), (storm + coast) / 2 / coast, 1e-12);
  EXPECT_NEAR(spec.query("coast"), 0.5, 1e-12);
  EXPECT_NEAR(spec.query("coast news"), 0.5 - 0.5 * 0.5, 1e-12);
  EXPECT_EQ(spec.query("news"), 0.0);
  EXPECT_EQ(spec.query("!!"), 0.0);
  EXPECT_NEAR(spec.list({"coast", "coast news"}), (0.5 + 0.25) / 2, 1e-12);
  EXPECT_EQ(spec.list({}), 0.0);
}

TEST_F(RewardsTest, RetrievalIsHigherForOnTopicQueries) {
  // Each theme has 4 train articles; with the default k = 10 of 16 every
  // query would also retrieve most of the other themes.
  RewardConfig config;
  config.ret.k = 3;
  RewardModel m = model(config);
  const UserSignals user = m.prepare(storm_signals());
  const std::vector<Rewards> r = m.score(user, {list_of({"hurricane coast evacuate", "storm warnings"}),
                                                list_of({"tomato pasta recipe", "interest rates bank"}), list_of({})});
  EXPECT_GT(r[0].ret, r[1].ret + 0.2);
  EXPECT_EQ(r[2].ret, 0.0);
  // A user with no known word has no direction to align with.
  const UserSignals nobody = m.prepare({"!!!"});
  EXPECT_EQ(m.score(nobody, {list_of({"hurricane coast"})})[0].ret, 0.0);
  EXPECT_EQ(m.score(m.prepare({}), {list_of({"hurricane coast"})})[0].cov, 0.0);
}

TEST_F(RewardsTest, ScoringIsTheSameAloneOrInAGroupAndRepeatable) {
  RewardModel m = model();
  const std::vector<ParsedList> lists = {list_of({"hurricane coast", "tomato pasta"}), list_of({"jets quarterback"})};
  const UserSignals user = m.prepare(storm_signals());
  const std::vector<Rewards> group = m.score(user, lists);
  const Rewards alone = m.score(RewardInputs{lists[1], storm_signals()});
  EXPECT_EQ(group[1].ret, alone.ret);
  EXPECT_EQ(group[1].cov, alone.cov);
  EXPECT_EQ(group[1].composite, alone.composite);
  EXPECT_EQ(m.score(user, lists)[0].composite, group[0].composite);
}

TEST_F(RewardsTest, CompositeIsTheWeightedMeanAndAZeroWeightSwitchesARewardOff) {
  RewardConfig weighted;
  weighted.ret.weight = 2;
  weighted.div.weight = 0.5;
  RewardModel m = model(weighted);
  const UserSignals user = m.prepare(cooking_and_markets_signals());
  const Rewards r = m.score(user, {list_of({"tomato pasta recipe", "interest rates bank"}, false)})[0];
  EXPECT_NEAR(r.composite, (2 * r.ret + r.cov + r.spec + 0.5 * r.div + r.structure) / 5.5, 1e-12);

  RewardConfig no_div;
  no_div.div.weight = 0;
  RewardModel off = model(no_div);
  const Rewards o = off.score(off.prepare(cooking_and_markets_signals()),
                              {list_of({"tomato pasta recipe", "interest rates bank"}, false)})[0];
  EXPECT_TRUE(std::isnan(o.div));
  EXPECT_NEAR(o.composite, (o.ret + o.cov + o.spec + o.structure) / 4, 1e-12);
  EXPECT_EQ(o.ret, r.ret);  // the others do not change

  RewardConfig only_struct;
  only_struct.ret.weight = only_struct.cov.weight = only_struct.spec.weight = only_struct.div.weight = 0;
  RewardModel s = model(only_struct);
  const Rewards x = s.score(s.prepare(storm_signals()), {list_of({"hurricane"}, true)})[0];
  EXPECT_EQ(x.composite, 1.0);
  EXPECT_TRUE(std::isnan(x.ret) && std::isnan(x.cov) && std::isnan(x.spec) && std::isnan(x.div));
}

TEST(SignalClusters, GroupsNearbyDirectionsAndLeavesZeroRowsOut) {
  const float s = 0.28f, c = 0.96f;
  // Two directions near x, two near y, one zero row (a text with no known word).
  const std::vector<float> v = {1, 0, c, s, 0, 1, 0, 0, s, c};
  const SignalClusters two = cluster_signals(v, 2, 4);
  ASSERT_EQ(two.size(), 2);  // round(sqrt(4)) = 2
  EXPECT_EQ(two.assignment[0], two.assignment[1]);
  EXPECT_EQ(two.assignment[2], two.assignment[4]);
  EXPECT_NE(two.assignment[0], two.assignment[2]);
  EXPECT_EQ(two.assignment[3], -1);
  EXPECT_DOUBLE_EQ(two.shares[0], 0.5);
  for (int k = 0; k < 2; ++k) {
    const float* x = two.centroids.data() + 2 * k;
    EXPECT_NEAR(x[0] * x[0] + x[1] * x[1], 1.0, 1e-6);
  }
  const SignalClusters one = cluster_signals(v, 2, 1);
  ASSERT_EQ(one.size(), 1);
  EXPECT_DOUBLE_EQ(one.shares[0], 1.0);
  EXPECT_EQ(cluster_signals({0, 0}, 2, 4).size(), 0);
  EXPECT_EQ(cluster_signals({}, 2, 4).size(), 0);
  EXPECT_THROW(cluster_signals({1, 0, 0}, 2, 4), std::invalid_argument);
}

TEST(BestOfN, PicksTheHighestCompositeAndTheLowestIndexOnATie) {
  auto with = [](double c) {
    Rewards r;
    r.composite = c;
    return r;
  };
  EXPECT_EQ(best_of_n({with(0.2), with(0.7), with(0.5)}), 1u);
  EXPECT_EQ(best_of_n({with(0.2), with(0.7), with(0.7)}), 1u);
  EXPECT_EQ(best_of_n({with(0.4), with(0.4)}), 0u);
  EXPECT_EQ(best_of_n({with(0.0)}), 0u);
  EXPECT_THROW(best_of_n({}), std::invalid_argument);
}

std::string first_problem(const RewardConfig& c) {
  try {
    c.validate();
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  return "";
}

TEST(RewardConfig, EachMistakeGetsOneLine) {
  EXPECT_EQ(first_problem(RewardConfig{}), "");
  RewardConfig negative;
  negative.spec.weight = -1;
  EXPECT_EQ(first_problem(negative), "[rewards.spec] weight: must be a number at least 0 (0 switches the reward off)");
  RewardConfig zero;
  zero.ret.weight = zero.cov.weight = zero.spec.weight = zero.div.weight = zero.structure.weight = 0;
  EXPECT_EQ(first_problem(zero), "[rewards] every reward's weight is 0: at least one reward must count");
  RewardConfig mode;
  mode.judge.mode = "oracle";
  EXPECT_EQ(first_problem(mode), "[rewards.judge] mode: unknown \"oracle\" (rubric, llm)");
  RewardConfig llm;
  llm.judge.mode = "llm";
  EXPECT_EQ(first_problem(llm), "[rewards.judge] checkpoint: mode \"llm\" needs a causal-LM checkpoint");
  llm.judge.checkpoint = "judge.h5";
  llm.judge.tokenizer = "tokenizer.json";
  llm.judge.criteria = {{"spec", "Is it specific?", 1.0}};
  EXPECT_EQ(first_problem(llm),
            "[rewards.judge] criteria: R_cov counts but no criterion for \"cov\" has a positive weight");
  llm.judge.criteria.push_back({"novelty", "Is it new?", 1.0});
  EXPECT_EQ(first_problem(llm), "[rewards.judge.criteria 2] reward: unknown \"novelty\" (cov, spec)");
  RewardConfig k;
  k.ret.k = 0;
  EXPECT_EQ(first_problem(k), "[rewards.ret] k: must be 1..1000");
  for (const std::string& p : llm.problems()) EXPECT_EQ(p.find('\n'), std::string::npos);
}

TEST_F(RewardsTest, ABadConfigOrIndexIsRefusedWhenTheModelIsMade) {
  RewardConfig bad;
  bad.judge.mode = "oracle";
  EXPECT_THROW(model(bad), std::invalid_argument);
  // A train window with no article: no idf to measure specificity by.
  EXPECT_THROW(RewardModel(*index_, {100 * reward_fixture::kDay, 101 * reward_fixture::kDay}, RewardConfig{}),
               std::invalid_argument);
  RewardConfig llm;
  llm.judge.mode = "llm";
  llm.judge.checkpoint = "/nonexistent/judge.h5";
  llm.judge.tokenizer = "/nonexistent/tokenizer.json";
  EXPECT_THROW(model(llm), std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::news
