// The noise-cleaning classifier (news/cleaning.h): the tokens of an example,
// its labels, the seeded user split, and a tiny classifier that learns an
// easy noise rule (noise searches are digit strings) from annotator labels.
#include "news/cleaning.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

#include "models/bpe_trainer.h"

namespace newsrl::news {
namespace {

const models::Tokenizer& tokenizer() {
  static const models::Tokenizer t = [] {
    models::BpeTrainerOptions options;
    options.vocab_size = 320;
    models::BpeTrainer trainer(options);
    trainer.add_text("cheap flights lisbon hotels football scores election results weather rain garden 0123456789");
    return models::Tokenizer::from_json(trainer.train(), "test bpe");
  }();
  return t;
}

Event search(std::string text, std::optional<bool> annotator, std::optional<bool> keep) {
  Event e;
  e.domain = Domain::search;
  e.text = std::move(text);
  e.annotator = annotator;
  e.keep = keep;
  return e;
}

const std::vector<std::string> kWords = {"cheap flights", "lisbon hotels", "football scores", "election results",
                                         "weather rain",  "garden",        "rain in lisbon",  "football"};

// n users of 10 events; a digit-string search is noise (truth and annotator agree).
std::vector<User> digit_noise_users(int n, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::vector<User> users;
  for (int u = 0; u < n; ++u) {
    User user;
    user.id = "u" + std::string(15, '0') + std::to_string(u % 10);
    for (int i = 0; i < 10; ++i) {
      if (rng() % 3 == 0) {
        user.events.push_back(search(std::to_string(rng() % 1000000), false, false));
      } else {
        user.events.push_back(search(kWords[rng() % kWords.size()], true, true));
      }
    }
    users.push_back(std::move(user));
  }
  return users;
}

TEST(Cleaning, TokensStartWithThePoolingTokenAndAreTruncated) {
  const std::int32_t cls = cleaning_cls_id(tokenizer());
  const std::vector<std::int32_t> full = cleaning_tokens("election results in lisbon", tokenizer(), 64);
  ASSERT_GE(full.size(), 3u);
  EXPECT_EQ(full[0], cls);
  EXPECT_EQ(std::vector<std::int32_t>(full.begin() + 1, full.end()), tokenizer().encode("election results in lisbon"));
  const std::vector<std::int32_t> cut = cleaning_tokens("election results in lisbon", tokenizer(), 2);
  EXPECT_EQ(cut, std::vector<std::int32_t>(full.begin(), full.begin() + 2));
  EXPECT_EQ(cleaning_tokens("", tokenizer(), 8), std::vector<std::int32_t>{cls});
}

TEST(Cleaning, ExamplesTakeTheAnnotatorLabelAndSkipUnannotatedEvents) {
  User a;
  a.events = {search("garden", true, false), search("123", false, true), search("rain", std::nullopt, true)};
  User b;
  b.events = {search("football", false, std::nullopt)};
  const std::vector<User> users = {a, b};
  const std::vector<CleaningExample> ex = cleaning_examples(users, {0, 1}, {}, tokenizer(), 32);
  ASSERT_EQ(ex.size(), 3u);
  EXPECT_EQ(ex[0].label, 1);
  EXPECT_EQ(ex[0].truth, std::optional<bool>(false));
  EXPECT_EQ(ex[1].label, 0);
  EXPECT_EQ(ex[1].truth, std::optional<bool>(true));
  EXPECT_EQ(ex[2].label, 0);
  EXPECT_FALSE(ex[2].truth.has_value());
  EXPECT_EQ(ex[2].ids, cleaning_tokens("football", tokenizer(), 32));
  EXPECT_EQ(cleaning_examples(users, {1}, {}, tokenizer(), 32).size(), 1u);
}

TEST(Cleaning, UserSplitIsSeededDisjointAndComplete) {
  const UserSplit a = split_users(100, 0.3, 7);
  EXPECT_EQ(a.train.size(), 30u);
  EXPECT_EQ(a.held_out.size(), 70u);
  std::vector<int> seen(100, 0);
  for (std::size_t i : a.train) ++seen[i];
  for (std::size_t i : a.held_out) ++seen[i];
  for (int s : seen) EXPECT_EQ(s, 1);
  const UserSplit again = split_users(100, 0.3, 7);
  EXPECT_EQ(again.train, a.train);
  EXPECT_NE(split_users(100, 0.3, 8).train, a.train);
  EXPECT_EQ(split_users(3, 0.01, 0).train.size(), 1u);   // at least one user trains
  EXPECT_EQ(split_users(3, 0.99, 0).held_out.size(), 1u);  // and at least one is held out
}

TEST(Cleaning, TinyClassifierLearnsThatDigitStringsAreNoise) {
  const std::vector<User> train_users = digit_noise_users(24, 1), test_users = digit_noise_users(12, 2);
  std::vector<std::size_t> all_train(train_users.size()), all_test(test_users.size());
  for (std::size_t i = 0; i < all_train.size(); ++i) all_train[i] = i;
  for (std::size_t i = 0; i < all_test.size(); ++i) all_test[i] = i;
  const std::vector<CleaningExample> train = cleaning_examples(train_users, all_train, {}, tokenizer(), 16);
  CleaningOptions o;
  o.max_tokens = 16;
  o.epochs = 4;
  o.batch_size = 16;
  o.learning_rate = 3e-3f;
  std::vector<double> losses;
  models::EncoderClassifier model = train_cleaner(train, tokenizer().vocab_size(), o, &losses);
  ASSERT_EQ(losses.size(), 4u);
  EXPECT_LT(losses.back(), losses.front());

  const std::vector<CleaningExample> test = cleaning_examples(test_users, all_test, {}, tokenizer(), 16);
  std::vector<std::vector<std::int32_t>> seqs;
  for (const CleaningExample& e : test) seqs.push_back(e.ids);
  const std::vector<float> p = keep_probabilities(model, seqs);
  DropScore s;
  for (std::size_t i = 0; i < test.size(); ++i) {
    ++s.events;
    const bool dropped = p[i] < 0.5f, noise = !*test[i].truth;
    s.dropped += dropped;
    s.noise += noise;
    s.dropped_noise += dropped && noise;
  }
  EXPECT_GT(s.noise, 10);
  EXPECT_GE(s.precision(), 0.95);
  EXPECT_GE(s.recall(), 0.95);

  // The same seed trains the same model.
  models::EncoderClassifier twin = train_cleaner(train, tokenizer().vocab_size(), o);
  EXPECT_EQ(keep_probabilities(twin, seqs), p);
}

TEST(Cleaning, TrainingWithoutExamplesIsRefused) {
  EXPECT_THROW(train_cleaner({}, tokenizer().vocab_size(), CleaningOptions{}), std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::news
