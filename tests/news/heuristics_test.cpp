// The reference recall paths on hand-made inputs: round-robin merging,
// popular's D'Hondt turns between subtopics, recent-searches on a tiny index.
#include "news/heuristics.h"

#include <gtest/gtest.h>

namespace newsrl::news {
namespace {

constexpr std::int64_t kDay = 86400;

TEST(Heuristics, RoundRobinMergeSkipsDuplicatesAndStopsAtLength) {
  const std::vector<std::vector<std::string>> lists = {{"A", "B", "C"}, {"B", "D"}, {}, {"E", "A", "F"}};
  EXPECT_EQ(merge_round_robin(lists, 10), (std::vector<std::string>{"A", "B", "E", "D", "C", "F"}));
  EXPECT_EQ(merge_round_robin(lists, 3), (std::vector<std::string>{"A", "B", "E"}));
  EXPECT_TRUE(merge_round_robin({}, 5).empty());
}

HeuristicInput hand_made() {
  HeuristicInput in;
  in.split = {{0, 10 * kDay}, {10 * kDay, 17 * kDay}};
  auto article = [](std::string id, std::string sub, std::int64_t day) {
    Article a;
    a.id = std::move(id);
    a.title = a.id;
    a.subcategory = std::move(sub);
    a.published = day * kDay;
    return a;
  };
  in.news = {article("T1", "nfl", 1),   article("F1", "nfl", 12), article("F2", "nfl", 11), article("F3", "nfl", 13),
             article("G1", "golf", 10), article("G2", "golf", 14), article("C1", "chess", 15), article("C2", "chess", 11)};
  in.subtopic_clicks = {{"nfl", 6}, {"golf", 3}};  // chess: no recent click
  in.users = {"u1", "u2"};
  in.recent_searches = {{}, {}};
  in.news_events = {0, 5};
  return in;
}

TEST(Heuristics, PopularTakesSubtopicTurnsByRecentClicks) {
  // D'Hondt turns: nfl 6/1 > golf 3/1 → nfl; nfl 6/2 = golf 3/1, a tie → golf (name order);
  // nfl 6/2 > golf 3/2 → nfl; nfl 6/3 > golf 3/2 → nfl (now empty); golf.
  const std::vector<std::string> list = popular_list(hand_made(), 8);
  // Only test-window articles (T1 is from the train window); earliest first within a subtopic;
  // chess, never clicked recently, last (earliest first).
  EXPECT_EQ(list, (std::vector<std::string>{"F2", "G1", "F1", "F3", "G2", "C2", "C1"}));
  EXPECT_EQ(popular_list(hand_made(), 2), (std::vector<std::string>{"F2", "G1"}));
  const auto rankings = popular_rankings(hand_made(), 3);
  ASSERT_EQ(rankings.size(), 2u);
  EXPECT_EQ(rankings[1].user, "u2");
  EXPECT_EQ(rankings[0].items, rankings[1].items);
}

TEST(Heuristics, RecentSearchesQueryTheTestWindow) {
  std::vector<IndexedArticle> articles = {
      {"N1", "Hurricane nears coast", "Hurricane nears the coast", 1 * kDay},
      {"N2", "Pasta recipe", "Tomato pasta recipe with basil", 2 * kDay},
      {"N3", "Hurricane hits coast", "The hurricane hits the coast", 11 * kDay},
      {"N4", "Soup recipe", "Tomato soup recipe with basil", 12 * kDay},
      {"N5", "Jets win", "Jets win the game in overtime", 13 * kDay},
  };
  IndexBuildOptions o;
  o.embedder.tfidf.min_document_count = 1;
  o.embedder.tfidf.ngram_buckets = 256;
  o.embedder.svd.rank = 2;
  const NewsIndex index = NewsIndex::build(articles, {{"train", {0, 10 * kDay}}, {"test", {10 * kDay, 17 * kDay}}}, o);
  HeuristicInput in = hand_made();
  in.recent_searches = {{"hurricane coast", "tomato recipe"}, {}};
  const auto rankings = recent_search_rankings(in, index, 2);
  ASSERT_EQ(rankings.size(), 2u);
  // Each query's best test-window article, round-robin; nothing from the train window.
  EXPECT_EQ(rankings[0].items, (std::vector<std::string>{"N3", "N4"}));
  EXPECT_TRUE(rankings[1].items.empty());  // no searches, no ranking
}

}  // namespace
}  // namespace newsrl::news
