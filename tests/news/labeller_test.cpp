// The extractive labeller and its parts: k-means, the stop words and noise
// test, word idf, the salient phrase, and whole targets on hand-made users
// (news/labeller.h, news/kmeans.h, news/stopwords.h, news/word_idf.h).
#include "news/labeller.h"

#include <gtest/gtest.h>

#include "news/kmeans.h"
#include "news/lsa_embedder.h"
#include "news/stopwords.h"

namespace newsrl::news {
namespace {

std::vector<std::string> corpus() {
  return {"NFL playoffs: Patriots beat the Jets in overtime",
          "Jets quarterback injured before the Patriots game",
          "Patriots and Jets fight for the NFL wildcard spot",
          "NFL scores: Patriots, Jets and the playoff picture",
          "Stock markets rally as central bank holds interest rates",
          "Interest rates unchanged; markets and bank shares rise",
          "New pasta recipe: creamy tomato sauce with fresh basil",
          "Easy weeknight recipe for tomato basil pasta and garlic bread",
          "Chef shares the secret of a perfect tomato sauce recipe",
          "Pasta recipe with tomato and basil for a quick dinner",
          "Hurricane approaches the coast; residents told to evacuate",
          "Storm and hurricane warnings issued along the coast",
          "Sign in to your account",
          "Home page"};
}

const LsaEmbedder& embedder() {
  static const LsaEmbedder e = [] {
    LsaOptions o;
    o.tfidf.min_document_count = 1;
    o.tfidf.ngram_buckets = 512;
    o.svd.rank = 8;
    o.svd.seed = 5;
    return LsaEmbedder::fit(corpus(), o);
  }();
  return e;
}

const WordIdf& idf() {
  static const WordIdf w = WordIdf::fit(corpus());
  return w;
}

Event event(Domain d, std::int64_t time, std::string text) {
  Event e;
  e.domain = d;
  e.time = time;
  (d == Domain::news ? e.news : e.text) = std::move(text);
  return e;
}

const NewsTitles kTitles = {{"N1", "NFL playoffs: Patriots beat the Jets in overtime"},
                            {"N2", "Easy weeknight recipe for tomato basil pasta and garlic bread"},
                            {"N3", "Jets quarterback injured before the Patriots game"}};

User two_theme_user() {
  User user;
  user.id = "u0123456789abcdef";
  user.events = {event(Domain::search, 1, "patriots jets score"),
                 event(Domain::search, 2, "tomato pasta recipe"),
                 event(Domain::news, 3, "N1"),
                 event(Domain::browse, 4, "Pasta recipe with tomato and basil"),
                 event(Domain::search, 5, "nfl playoffs patriots"),
                 event(Domain::news, 6, "N2"),
                 event(Domain::search, 7, "basil tomato sauce recipe"),
                 event(Domain::news, 8, "N3"),
                 event(Domain::search, 9, "jets patriots overtime"),
                 event(Domain::browse, 10, "Creamy tomato sauce recipe")};
  return user;
}

bool mentions_any(const std::string& query, std::initializer_list<const char*> words) {
  for (const char* w : words)
    if (query.find(w) != std::string::npos) return true;
  return false;
}

TEST(Labeller, TwoThemesAreBothNamed) {
  std::optional<Label> label = label_user(two_theme_user(), kTitles, embedder(), idf(), ListLimits{});
  ASSERT_TRUE(label.has_value());
  ASSERT_EQ(label->queries.size(), 2u);  // 10 texts: round(sqrt(5)) = 2 clusters
  bool football = false, pasta = false;
  for (const std::string& q : label->queries) {
    bool f = mentions_any(q, {"patriots", "jets", "nfl"}), p = mentions_any(q, {"pasta", "tomato", "recipe", "basil"});
    EXPECT_NE(f, p) << q;  // each query names one theme
    football = football || f;
    pasta = pasta || p;
    EXPECT_GE(split_on_space(q).size(), 2u);
    EXPECT_LE(split_on_space(q).size(), 4u);
  }
  EXPECT_TRUE(football);
  EXPECT_TRUE(pasta);
  ParsedList parsed = parse_completion(label->completion, ListLimits{});
  EXPECT_TRUE(parsed.valid) << parsed.error;
  EXPECT_EQ(parsed.queries, label->queries);
}

TEST(Labeller, Deterministic) {
  LabellerOptions o;
  o.seed = 11;
  std::optional<Label> a = label_user(two_theme_user(), kTitles, embedder(), idf(), ListLimits{}, o);
  std::optional<Label> b = label_user(two_theme_user(), kTitles, embedder(), idf(), ListLimits{}, o);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(a->completion, b->completion);
}

TEST(Labeller, NoSignalsGiveNoTarget) {
  User empty;
  EXPECT_FALSE(label_user(empty, kTitles, embedder(), idf(), ListLimits{}).has_value());
  User unknown;  // an article with no title, a text with no known feature
  unknown.events = {event(Domain::news, 1, "N404"), event(Domain::search, 2, "   ")};
  EXPECT_FALSE(label_user(unknown, kTitles, embedder(), idf(), ListLimits{}).has_value());
}

TEST(Labeller, NoiseOnlyGivesNoTarget) {
  User user;
  user.events = {event(Domain::browse, 1, "Sign in to your account"), event(Domain::browse, 2, "Home page"),
                 event(Domain::search, 3, "555-123-4567")};
  EXPECT_FALSE(label_user(user, kTitles, embedder(), idf(), ListLimits{}).has_value());
}

TEST(Labeller, TooFewPhrasesForTheLimitsGiveNoTarget) {
  ListLimits limits;
  limits.min_queries = 3;
  limits.max_queries = 3;
  User user;
  user.events = {event(Domain::search, 1, "tomato pasta recipe"), event(Domain::search, 2, "basil pasta recipe")};
  EXPECT_FALSE(label_user(user, kTitles, embedder(), idf(), limits).has_value());
}

TEST(Labeller, ClusterCount) {
  EXPECT_EQ(label_cluster_count(0, 6), 0);
  EXPECT_EQ(label_cluster_count(1, 6), 1);
  EXPECT_EQ(label_cluster_count(10, 6), 2);
  EXPECT_EQ(label_cluster_count(32, 6), 4);
  EXPECT_EQ(label_cluster_count(1000, 6), 6);
  EXPECT_EQ(label_cluster_count(1000, 3), 3);
}

TEST(Labeller, SalientPhraseTakesTopWordsInTextOrder) {
  LabellerOptions o;
  std::vector<std::string> texts = {"tomato basil pasta recipe", "tomato pasta recipe with cheese", "the pasta recipe",
                                    "xkqzt 2024 recipe"};
  // "recipe" (4 texts) and "pasta" (3) lead; "tomato" (2) passes half the top weight.
  std::string phrase = salient_phrase(texts, idf(), 6, o);
  EXPECT_EQ(phrase, "tomato pasta recipe");
  o.max_phrase_words = 2;
  EXPECT_EQ(salient_phrase(texts, idf(), 6, o), "pasta recipe");
  EXPECT_EQ(salient_phrase(texts, idf(), 1, o), "recipe");
  EXPECT_EQ(salient_phrase({"sign in", "home page"}, idf(), 6, o), "");
}

TEST(Stopwords, StopWordsAndNoise) {
  EXPECT_TRUE(is_stop_word("the"));
  EXPECT_TRUE(is_stop_word("login"));
  EXPECT_FALSE(is_stop_word("pasta"));
  EXPECT_TRUE(looks_like_noise("5551234"));
  EXPECT_TRUE(looks_like_noise("covid19"));
  EXPECT_TRUE(looks_like_noise("x"));
  EXPECT_TRUE(looks_like_noise("xkqzt"));
  EXPECT_FALSE(looks_like_noise("pasta"));
  EXPECT_FALSE(looks_like_noise("müller"));
  EXPECT_FALSE(looks_like_noise("шторм"));
}

TEST(WordIdf, CountsDocumentsNotOccurrences) {
  WordIdf w = WordIdf::fit({"Pasta pasta recipe", "pasta sauce", "storm"});
  EXPECT_EQ(w.documents(), 3);
  EXPECT_EQ(w.document_count("pasta"), 2);
  EXPECT_EQ(w.document_count("storm"), 1);
  EXPECT_FALSE(w.known("basil"));
  EXPECT_LT(w.idf("pasta"), w.idf("storm"));
  EXPECT_DOUBLE_EQ(w.idf("basil"), w.max_idf());
}

TEST(KMeans, SeparatesTwoGroupsAndIsDeterministic) {
  // Two tight groups around (1, 0) and (0, 1), interleaved.
  std::vector<float> rows = {1.0f, 0.0f, 0.0f, 1.0f, 0.9f, 0.1f, 0.1f, 0.9f, 0.95f, 0.05f, 0.05f, 0.95f};
  KMeansOptions o;
  o.k = 2;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    o.seed = seed;
    KMeansResult r = kmeans(rows, 2, o);
    ASSERT_EQ(r.k, 2);
    EXPECT_EQ(r.assignment[0], r.assignment[2]);
    EXPECT_EQ(r.assignment[0], r.assignment[4]);
    EXPECT_EQ(r.assignment[1], r.assignment[3]);
    EXPECT_EQ(r.assignment[1], r.assignment[5]);
    EXPECT_NE(r.assignment[0], r.assignment[1]);
    EXPECT_EQ(r.sizes[0] + r.sizes[1], 6);
    KMeansResult again = kmeans(rows, 2, o);
    EXPECT_EQ(again.assignment, r.assignment);
    EXPECT_EQ(again.centroids, r.centroids);
  }
}

TEST(KMeans, EdgeCases) {
  KMeansOptions o;
  o.k = 3;
  KMeansResult one = kmeans({1.0f, 2.0f}, 2, o);
  EXPECT_EQ(one.k, 1);
  EXPECT_EQ(one.sizes, std::vector<int>{1});
  KMeansResult same = kmeans({1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f}, 2, o);
  EXPECT_EQ(same.k, 3);
  EXPECT_EQ(same.sizes[0] + same.sizes[1] + same.sizes[2], 3);
  EXPECT_EQ(kmeans({}, 4, o).k, 0);
  EXPECT_THROW(kmeans({1.0f, 2.0f, 3.0f}, 2, o), std::invalid_argument);
  o.k = 0;
  EXPECT_THROW(kmeans({1.0f, 2.0f}, 2, o), std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::news
