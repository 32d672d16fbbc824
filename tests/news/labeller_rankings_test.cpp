// The labeller as a recall path (news/labeller_rankings.h) on a small
// generated world: each user's ranking is what the labeller's own queries
// retrieve from the test window, merged round-robin; the queries are
// recomputed here step by step (cleaning, prompt, shown events, label_user),
// as `data sft` makes its targets.
#include "news/labeller_rankings.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <string>

#include "models/bpe_trainer.h"
#include "news/heuristics.h"
#include "news/labeller.h"
#include "news/prompt.h"
#include "news/schema.h"
#include "news/signals.h"
#include "news/taxonomy.h"
#include "news/word_idf.h"
#include "news/world.h"

namespace newsrl::news {
namespace {

namespace fs = std::filesystem;

constexpr int kLength = 10;

class LabellerRankings : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    // One folder per process: ctest runs each test of the suite as its own process, side by side.
    dir_ = new fs::path(fs::temp_directory_path() / ("newsrl_labeller_rankings_" + std::to_string(::getpid())));
    fs::remove_all(*dir_);
    WorldConfig c;
    c.users = 80;
    c.news = 800;
    c.seed = 3;
    generate_world(c, Taxonomy::builtin(), dir_->string());

    split_ = new Split(*read_split((*dir_ / kSplitFile).string()));
    news_ = new std::vector<Article>(load_news((*dir_ / kNewsFile).string(), split_));
    std::vector<IndexedArticle> indexed;
    models::BpeTrainerOptions bpe;
    bpe.vocab_size = 600;
    models::BpeTrainer trainer(bpe);
    trainer.add_text(kSystemMessage);
    for (const Article& a : *news_) {
      indexed.push_back({a.id, a.title, a.title + "\n" + a.abstract, a.published});
      trainer.add_text(a.title);
    }
    tokenizer_ = new models::Tokenizer(models::Tokenizer::from_json(trainer.train(), "test bpe"));
    IndexBuildOptions o;
    o.embedder.svd.rank = 16;
    index_ = new NewsIndex(NewsIndex::build(
        std::move(indexed), {{"train", {split_->train.start, split_->train.end}}, {"test", {split_->test.start, split_->test.end}}}, o));
  }
  static void TearDownTestSuite() {
    fs::remove_all(*dir_);
    delete index_;
    delete tokenizer_;
    delete news_;
    delete split_;
    delete dir_;
  }

  static fs::path* dir_;
  static Split* split_;
  static std::vector<Article>* news_;
  static models::Tokenizer* tokenizer_;
  static NewsIndex* index_;
};

fs::path* LabellerRankings::dir_ = nullptr;
Split* LabellerRankings::split_ = nullptr;
std::vector<Article>* LabellerRankings::news_ = nullptr;
models::Tokenizer* LabellerRankings::tokenizer_ = nullptr;
NewsIndex* LabellerRankings::index_ = nullptr;

TEST_F(LabellerRankings, EqualRetrievalOfTheLabellersQueries) {
  SftDataOptions options;
  options.prompt.max_tokens = 256;  // a budget that hides some signals: the labeller sees only the shown ones
  LabellerRankingStats stats;
  const std::vector<Ranking> rankings = labeller_rankings(dir_->string(), *index_, *tokenizer_, options, kLength, &stats);

  // The reference, step by step.
  NewsTitles titles;
  std::vector<std::string> train_texts;
  for (const Article& a : *news_) {
    titles[a.id] = a.title;
    if (split_->train.contains(a.published)) train_texts.push_back(a.title + " " + a.abstract);
  }
  const WordIdf idf = WordIdf::fit(train_texts);
  const std::vector<User> users = load_users((*dir_ / kUsersFile).string());
  ASSERT_EQ(rankings.size(), users.size());
  std::int64_t labelled = 0, hidden = 0;
  for (std::size_t u = 0; u < users.size(); ++u) {
    EXPECT_EQ(rankings[u].user, users[u].id);
    const User cleaned = cleaned_signals(users[u]);
    std::vector<std::string> queries;
    if (!cleaned.events.empty()) {
      const RenderedPrompt prompt = render_prompt(cleaned, titles, *tokenizer_, options.prompt, options.limits);
      User shown{cleaned.id, {}};
      for (std::size_t i : prompt.shown_events) shown.events.push_back(cleaned.events[i]);
      hidden += static_cast<std::int64_t>(cleaned.events.size() - shown.events.size());
      const std::optional<Label> label = label_user(shown, titles, index_->embedder(), idf, options.limits, options.labeller);
      if (label) {
        ++labelled;
        queries = label->queries;
      }
    }
    std::vector<std::vector<std::string>> lists;
    for (const auto& hits : index_->search(queries, kLength, "test")) {
      std::vector<std::string>& ids = lists.emplace_back();
      for (const IndexHit& h : hits) {
        const IndexedArticle& a = index_->articles()[static_cast<std::size_t>(h.row)];
        EXPECT_TRUE(split_->test.contains(a.published)) << a.id;
        ids.push_back(a.id);
      }
    }
    EXPECT_EQ(rankings[u].items, merge_round_robin(lists, kLength)) << "user " << users[u].id;
    if (queries.empty()) {
      EXPECT_TRUE(rankings[u].items.empty()) << "user " << users[u].id;
    }
  }
  EXPECT_GT(hidden, 0) << "the budget should hide some signals, or the test cannot tell shown from all";
  EXPECT_GT(labelled, static_cast<std::int64_t>(users.size()) / 2);
  EXPECT_EQ(stats.users, static_cast<std::int64_t>(users.size()));
  EXPECT_EQ(stats.labelled, labelled);
  EXPECT_EQ(stats.labelled + stats.empty_signals + stats.no_label, stats.users);
}

TEST_F(LabellerRankings, DeterministicAndLengthBound) {
  const SftDataOptions options;
  const auto a = labeller_rankings(dir_->string(), *index_, *tokenizer_, options, 5);
  const auto b = labeller_rankings(dir_->string(), *index_, *tokenizer_, options, 5);
  ASSERT_EQ(a.size(), b.size());
  for (std::size_t u = 0; u < a.size(); ++u) {
    EXPECT_EQ(a[u].items, b[u].items);
    EXPECT_LE(a[u].items.size(), 5u);
  }
  EXPECT_THROW(labeller_rankings(dir_->string(), *index_, *tokenizer_, options, 0), std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::news
