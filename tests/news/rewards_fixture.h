// A tiny hand-made news set with four themes (football, markets, cooking,
// storms) and its flat index, shared by the reward tests.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "news/news_index.h"

namespace newsrl::news::reward_fixture {

constexpr std::int64_t kDay = 86400;

inline TimeWindow train_window() { return {0, 10 * kDay}; }

inline NewsIndex tiny_index() {
  std::vector<IndexedArticle> a = {
      {"F1", "Patriots beat Jets in overtime", "Patriots beat Jets in overtime thriller", 0},
      {"F2", "Jets quarterback injured", "Jets quarterback injured as Patriots win the division game", kDay},
      {"F3", "Quarterback returns for the Jets", "The Jets quarterback returns from injury for the division game",
       2 * kDay},
      {"F4", "Patriots coach praises defense", "Patriots coach praises the defense after the win over the Jets",
       3 * kDay},
      {"M1", "Markets rally as bank holds rates", "Stock markets rally as the central bank holds interest rates", 0},
      {"M2", "Interest rates unchanged", "Interest rates unchanged; bank shares and markets rise", kDay},
      {"M3", "Central bank warns on inflation", "The central bank warns inflation may force higher interest rates",
       2 * kDay},
      {"M4", "Stock markets fall on rates fears", "Stock markets fall as investors fear the bank will raise rates",
       3 * kDay},
      {"C1", "Creamy tomato pasta recipe", "A pasta recipe with creamy tomato sauce and fresh basil", 0},
      {"C2", "Weeknight pasta with basil", "Easy weeknight recipe for tomato basil pasta and garlic bread", kDay},
      {"C3", "Tomato soup recipe", "A warming tomato soup recipe with basil and cream", 2 * kDay},
      {"C4", "Garlic bread recipe", "The best garlic bread recipe to serve with pasta", 3 * kDay},
      {"S1", "Hurricane approaches the coast", "The hurricane approaches the coast; residents told to evacuate", 0},
      {"S2", "Storm warnings along the coast", "Storm and hurricane warnings issued along the coast", kDay},
      {"S3", "Coastal towns evacuate before storm", "Coastal towns evacuate as the hurricane storm nears", 2 * kDay},
      {"S4", "Hurricane damage on the coast", "The hurricane leaves damage and flooding along the coast", 3 * kDay},
      // The test week: never searched by the rewards.
      {"T1", "Jets sign a new quarterback", "The Jets sign a new quarterback", 12 * kDay},
      {"T2", "Bank raises interest rates", "The central bank raises interest rates", 12 * kDay},
  };
  IndexBuildOptions o;
  o.kind = "flat";
  o.embedder.tfidf.min_document_count = 1;
  o.embedder.tfidf.ngram_buckets = 512;
  o.embedder.svd.rank = 8;
  o.seed = 5;
  return NewsIndex::build(std::move(a), {{"train", train_window()}, {"test", {10 * kDay, 14 * kDay}}}, o);
}

// A user whose signals are about cooking and markets only.
inline std::vector<std::string> cooking_and_markets_signals() {
  return {"tomato pasta recipe", "basil pasta sauce",   "Creamy tomato pasta recipe",
          "interest rates bank", "stock markets rally", "Central bank warns on inflation"};
}

inline std::vector<std::string> storm_signals() {
  return {"hurricane coast", "storm warnings coast", "Hurricane approaches the coast", "evacuate before the storm"};
}

}  // namespace newsrl::news::reward_fixture
