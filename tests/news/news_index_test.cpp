// The news index on a tiny hand-written news set: the right article comes
// first, windows restrict the results, every kind agrees on a small set, and
// a saved index answers like the one in memory.
#include "news/news_index.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace newsrl::news {
namespace {

constexpr std::int64_t kDay = 86400;

std::vector<IndexedArticle> tiny_news() {
  // Days 0-7: training window; days 10-13: test window.
  return {
      {"N1", "Patriots beat Jets", "Patriots beat Jets in overtime thriller at home stadium", 0 * kDay},
      {"N2", "Jets quarterback injured", "Jets quarterback injured as Patriots win the division game", 1 * kDay},
      {"N3", "Markets rally", "Stock markets rally as central bank holds interest rates", 2 * kDay},
      {"N4", "Rates unchanged", "Interest rates unchanged; markets and bank shares rise", 3 * kDay},
      {"N5", "Pasta recipe", "New pasta recipe: creamy tomato sauce with fresh basil", 4 * kDay},
      {"N6", "Weeknight pasta", "Easy weeknight recipe for tomato basil pasta and garlic bread", 5 * kDay},
      {"N7", "Hurricane approaches", "Hurricane approaches the coast; residents told to evacuate", 6 * kDay},
      {"N8", "Storm warnings", "Storm and hurricane warnings issued along the coast", 7 * kDay},
      {"N9", "Jets sign new quarterback", "The Jets sign a new quarterback after the injury", 10 * kDay},
      {"N10", "Bank raises rates", "Central bank raises interest rates, markets fall", 11 * kDay},
      {"N11", "Tomato soup recipe", "A warming tomato soup recipe with basil", 12 * kDay},
      {"N12", "Hurricane hits the coast", "The hurricane hits the coast; evacuation orders", 13 * kDay},
  };
}

std::map<std::string, TimeWindow> windows() { return {{"train", {0, 8 * kDay}}, {"test", {10 * kDay, 14 * kDay}}}; }

IndexBuildOptions options(const std::string& kind) {
  IndexBuildOptions o;
  o.kind = kind;
  o.embedder.tfidf.min_document_count = 1;
  o.embedder.tfidf.ngram_buckets = 512;
  o.embedder.svd.rank = 6;
  o.seed = 3;
  return o;
}

std::string top_id(const NewsIndex& index, const std::string& query, const std::string& window) {
  const auto hits = index.search({query}, 3, window);
  return hits.at(0).empty() ? "" : index.articles()[static_cast<std::size_t>(hits[0][0].row)].id;
}

TEST(NewsIndex, FindsTheRightArticleAndRestrictsToAWindow) {
  const NewsIndex index = NewsIndex::build(tiny_news(), windows(), options("auto"));
  EXPECT_EQ(index.kind_of("all"), "flat");
  EXPECT_EQ(index.windows(), (std::vector<std::string>{"all", "test", "train"}));
  EXPECT_EQ(top_id(index, "hurricane evacuation coast", "test"), "N12");
  const std::string pasta = top_id(index, "pasta with tomato", "train");
  EXPECT_TRUE(pasta == "N5" || pasta == "N6") << pasta;
  EXPECT_EQ(top_id(index, "tomato basil", "test"), "N11");
  // Every hit of a window search lies in the window, scores descend.
  const auto hits = index.search({"Jets quarterback"}, 10, "test");
  ASSERT_EQ(hits[0].size(), 4u);  // the test window holds 4 articles
  for (std::size_t i = 0; i < hits[0].size(); ++i) {
    EXPECT_GE(index.articles()[static_cast<std::size_t>(hits[0][i].row)].published, 10 * kDay);
    if (i > 0) {
      EXPECT_LE(hits[0][i].score, hits[0][i - 1].score);
    }
  }
  EXPECT_EQ(index.articles()[static_cast<std::size_t>(hits[0][0].row)].id, "N9");
  EXPECT_THROW(index.search({"x"}, 3, "future"), std::invalid_argument);
  const auto nothing = index.search({"", "!!!"}, 3, "all");  // no feature at all: no answer rather than arbitrary ones
  EXPECT_TRUE(nothing[0].empty());
  EXPECT_TRUE(nothing[1].empty());
}

TEST(NewsIndex, EveryKindAgreesOnATinySet) {
  for (const std::string kind : {"flat", "ivf", "hnsw"}) {
    const NewsIndex index = NewsIndex::build(tiny_news(), windows(), options(kind));
    EXPECT_EQ(index.kind_of("test"), kind);
    EXPECT_EQ(top_id(index, "hurricane hits", "all"), "N12") << kind;
    EXPECT_EQ(top_id(index, "bank interest rates", "test"), "N10") << kind;
  }
}

TEST(NewsIndex, SavedIndexAnswersTheSame) {
  const NewsIndex index = NewsIndex::build(tiny_news(), windows(), options("hnsw"));
  const std::string dir = (std::filesystem::temp_directory_path() / ("news_index_test_" + std::to_string(::getpid()))).string();
  index.save(dir);
  const NewsIndex loaded = NewsIndex::load(dir);
  const auto a = index.search({"storm on the coast", "Jets"}, 5, "all");
  const auto b = loaded.search({"storm on the coast", "Jets"}, 5, "all");
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t q = 0; q < a.size(); ++q) {
    ASSERT_EQ(a[q].size(), b[q].size());
    for (std::size_t i = 0; i < a[q].size(); ++i) {
      EXPECT_EQ(a[q][i].row, b[q][i].row);
      EXPECT_FLOAT_EQ(a[q][i].score, b[q][i].score);
    }
  }
  EXPECT_EQ(loaded.articles()[11].title, "Hurricane hits the coast");
  EXPECT_EQ(loaded.kind_of("train"), "hnsw");
  std::filesystem::remove(std::filesystem::path(dir) / "index-all.faiss");
  EXPECT_THROW(NewsIndex::load(dir), std::invalid_argument);
  std::filesystem::remove_all(dir);
  EXPECT_THROW(NewsIndex::load(dir), std::invalid_argument);
}

TEST(NewsIndex, BadBuildInput) {
  EXPECT_THROW(NewsIndex::build({}, windows(), options("auto")), std::invalid_argument);
  EXPECT_THROW(NewsIndex::build(tiny_news(), windows(), options("lsh")), std::invalid_argument);
  EXPECT_THROW(NewsIndex::build(tiny_news(), {{"train", {100 * kDay, 101 * kDay}}}, options("auto")), std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::news
