// Recall@K, NDCG@K and MRR on hand-worked cases (news/metrics.h); the
// comparison with the independent Python reference is in ranking_eval_test.cpp.
#include "news/metrics.h"

#include <gtest/gtest.h>

#include <cmath>

namespace newsrl::news {
namespace {

std::vector<std::string_view> views(const std::vector<std::string>& ids) { return {ids.begin(), ids.end()}; }

TEST(Metrics, HandWorkedRecallNdcgMrr) {
  const std::vector<std::string> ranked = {"A", "B", "C", "D"};
  const std::vector<std::string> rel = {"B", "D", "E"};
  const auto r = views(ranked), t = views(rel);
  EXPECT_DOUBLE_EQ(recall_at(r, t, 1), 0.0);
  EXPECT_DOUBLE_EQ(recall_at(r, t, 2), 1.0 / 3);
  EXPECT_DOUBLE_EQ(recall_at(r, t, 5), 2.0 / 3);
  // NDCG@2: DCG = 1/log2(3); ideal over min(2, 3) = 2 positions: 1 + 1/log2(3).
  EXPECT_NEAR(ndcg_at(r, t, 2), 0.6309297535714574 / 1.6309297535714574, 1e-12);
  // NDCG@5: DCG = 1/log2(3) + 1/log2(5); ideal over 3 positions: 1 + 1/log2(3) + 1/2.
  EXPECT_NEAR(ndcg_at(r, t, 5), (0.6309297535714574 + 0.43067655807339306) / 2.1309297535714574, 1e-12);
  EXPECT_DOUBLE_EQ(reciprocal_rank(r, t), 0.5);
}

TEST(Metrics, IdealDcgStopsAtTheNumberOfClicks) {
  const std::vector<std::string> ranked = {"X", "A"};
  const std::vector<std::string> rel = {"A"};
  // One click: the ideal list has it first, so NDCG@10 = (1/log2(3)) / 1.
  EXPECT_NEAR(ndcg_at(views(ranked), views(rel), 10), 0.6309297535714574, 1e-12);
  EXPECT_DOUBLE_EQ(recall_at(views(ranked), views(rel), 10), 1.0);
}

TEST(Metrics, LaterDuplicatesAreRemovedBeforeTheCut) {
  const std::vector<std::string> ranked = {"A", "A", "A", "B", "A", "C"};
  const auto first = first_occurrences(ranked);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0], "A");
  EXPECT_EQ(first[1], "B");
  EXPECT_EQ(first[2], "C");
  const std::vector<std::string> rel = {"B"};
  EXPECT_DOUBLE_EQ(recall_at(first, views(rel), 2), 1.0);  // without the rule B would fall outside the top 2
  EXPECT_DOUBLE_EQ(reciprocal_rank(first, views(rel)), 0.5);
  // Long lists take the hashing path: same rule.
  std::vector<std::string> many;
  for (int i = 0; i < 100; ++i) many.push_back("N" + std::to_string(i % 40));
  const auto dedup = first_occurrences(many);
  ASSERT_EQ(dedup.size(), 40u);
  EXPECT_EQ(dedup[39], "N39");
}

TEST(Metrics, MrrLooksAtTheWholeListAndIsZeroWithoutAHit) {
  std::vector<std::string> ranked;
  for (int i = 0; i < 50; ++i) ranked.push_back("N" + std::to_string(i));
  const std::vector<std::string> far = {"N39"}, none = {"Z"};
  EXPECT_DOUBLE_EQ(reciprocal_rank(views(ranked), views(far)), 1.0 / 40);
  EXPECT_DOUBLE_EQ(recall_at(views(ranked), views(far), 10), 0.0);
  EXPECT_DOUBLE_EQ(reciprocal_rank(views(ranked), views(none)), 0.0);
}

TEST(Metrics, RepeatedClicksCountOnce) {
  const std::vector<std::string> ranked = {"A", "B"};
  const std::vector<std::string> rel = {"A", "A", "C"};
  EXPECT_DOUBLE_EQ(recall_at(views(ranked), views(rel), 2), 0.5);
}

TEST(Metrics, EvaluateAveragesExcludesAndScoresMissingRankingsAsZero) {
  const std::vector<UserTruth> truth = {{"u1", {"A"}}, {"u2", {"B", "C"}}, {"u3", {}}, {"u4", {"D"}}};
  const std::unordered_map<std::string, std::vector<std::string>> rankings = {
      {"u1", {"A", "X"}}, {"u2", {"X", "C", "B"}}, {"u3", {"A"}}, {"u5", {"A"}}};
  const std::unordered_map<std::string, std::string> segments = {{"u1", "cold"}, {"u2", "warm"}, {"u4", "warm"}};
  const EvalReport r = evaluate(truth, rankings, {2}, segments, {"u6", "u1"});
  EXPECT_EQ(r.all.users, 3);             // u1, u2, u4
  EXPECT_EQ(r.excluded_no_truth, 3);     // u3 (empty truth), u5 (ranking only), u6 (users file only)
  EXPECT_EQ(r.without_ranking, 1);       // u4 scores zeros
  const nlohmann::ordered_json j = r.to_json();
  // recall@2: u1 1, u2 1/2 (C at rank 2), u4 0.
  EXPECT_NEAR(j["recall@2"].get<double>(), (1.0 + 0.5 + 0.0) / 3, 1e-12);
  EXPECT_NEAR(j["mrr"].get<double>(), (1.0 + 0.5 + 0.0) / 3, 1e-12);
  EXPECT_EQ(j["segments"]["cold"]["users"], 1);
  EXPECT_NEAR(j["segments"]["warm"]["recall@2"].get<double>(), 0.25, 1e-12);
  EXPECT_EQ(j["users"], 3);
  EXPECT_NE(r.to_table().find("warm"), std::string::npos);
}

TEST(Metrics, NoSegmentsWithoutUsers) {
  const EvalReport r = evaluate({{"u1", {"A"}}}, {{"u1", {"A"}}}, {5, 10});
  EXPECT_FALSE(r.to_json().contains("segments"));
  EXPECT_DOUBLE_EQ(r.to_json()["ndcg@10"].get<double>(), 1.0);
}

TEST(Metrics, BadInputIsOneClearLine) {
  EXPECT_THROW(evaluate({{"u1", {"A"}}, {"u1", {"B"}}}, {}, {5}), std::invalid_argument);
  EXPECT_THROW(evaluate({{"u1", {"A"}}}, {}, {5}, {{"u9", "cold"}}), std::invalid_argument);
  EXPECT_EQ(parse_cutoffs("10,5,5"), (std::vector<int>{5, 10}));
  EXPECT_THROW(parse_cutoffs("5,x"), std::invalid_argument);
  EXPECT_THROW(parse_cutoffs("0"), std::invalid_argument);
  EXPECT_THROW(parse_cutoffs(""), std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::news
