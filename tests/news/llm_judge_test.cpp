// The LLM judge with a tiny random model (the nano preset) and a tokenizer
// trained here: its criteria are P(" yes") / (P(" yes") + P(" no")) as a
// direct models::score call gives them, the rewards are their weighted means
// in [0, 1], the same inputs give the same numbers, the prompt keeps to its
// budget, and a tokenizer without one-token " yes" / " no" is refused.
#include "news/llm_judge.h"

#include <gtest/gtest.h>

#include <cmath>

#include "models/bpe_trainer.h"
#include "models/generation.h"
#include "news/rewards.h"
#include "rewards_fixture.h"

namespace newsrl::news {
namespace {

models::Tokenizer trained_tokenizer(bool with_yes_no) {
  models::BpeTrainerOptions options;
  options.vocab_size = with_yes_no ? 600 : 259;  // 259: bytes and special tokens, no merge at all
  models::BpeTrainer trainer(options);
  for (int i = 0; i < 40; ++i) {
    trainer.add_text("Question: Does every query name a concrete subject? Answer: yes\n");
    trainer.add_text("Question: Are the queries free of vague words? Answer: no\n");
    trainer.add_text("- hurricane coast\n- tomato pasta recipe\n1. storm warnings\n2. interest rates bank\n");
  }
  return models::Tokenizer::from_json(trainer.train(), "trained in the test");
}

models::CausalLM nano_model(std::int32_t vocab, std::uint64_t seed) {
  models::Qwen2Config c = models::Qwen2Config::preset("nano");
  c.vocab_size = vocab;
  models::CausalLM m(c);
  m.init(seed);
  return m;
}

LlmJudge make_judge(int budget = 1024) {
  models::Tokenizer t = trained_tokenizer(true);
  const std::int32_t vocab = t.vocab_size();
  return LlmJudge(nano_model(vocab, 11), std::move(t), default_rubric_criteria(), budget);
}

const std::vector<std::string> kSignals = {"hurricane coast", "storm warnings coast", "tomato pasta recipe"};
const std::vector<std::string> kQueries = {"hurricane coast evacuation", "tomato pasta"};

TEST(LlmJudge, ACriterionIsTheYesShareOfADirectScore) {
  LlmJudge judge = make_judge();
  const models::Tokenizer& t = judge.tokenizer();
  EXPECT_EQ(t.encode(" yes"), std::vector<std::int32_t>{judge.yes_token()});
  EXPECT_EQ(t.encode(" no"), std::vector<std::int32_t>{judge.no_token()});
  const std::vector<std::int32_t> prompt = judge.prompt(kSignals, kQueries, "Is it good?");
  const double share = judge.yes_shares({prompt}).at(0);

  models::CausalLM twin = nano_model(t.vocab_size(), 11);  // the same seed: the same weights
  const auto yes = models::score(twin, {prompt}, {{judge.yes_token()}});
  const auto no = models::score(twin, {prompt}, {{judge.no_token()}});
  const double p_yes = std::exp(static_cast<double>(yes[0].logprobs[0]));
  const double p_no = std::exp(static_cast<double>(no[0].logprobs[0]));
  EXPECT_NEAR(share, p_yes / (p_yes + p_no), 1e-9);
  EXPECT_GT(share, 0.0);
  EXPECT_LT(share, 1.0);
}

TEST(LlmJudge, RewardsAreWeightedMeansOfCriteriaInUnitRangeAndRepeatable) {
  LlmJudge judge = make_judge();
  const LlmJudge::Verdict v = judge.judge(kSignals, kQueries, true, true);
  const std::vector<RubricCriterion>& c = judge.criteria();
  ASSERT_EQ(v.criteria.size(), c.size());
  double cov = 0, cov_w = 0, spec = 0, spec_w = 0;
  for (std::size_t i = 0; i < c.size(); ++i) {
    EXPECT_GT(v.criteria[i], 0.0);
    EXPECT_LT(v.criteria[i], 1.0);
    (c[i].reward == "cov" ? cov : spec) += c[i].weight * v.criteria[i];
    (c[i].reward == "cov" ? cov_w : spec_w) += c[i].weight;
  }
  EXPECT_NEAR(v.cov, cov / cov_w, 1e-12);
  EXPECT_NEAR(v.spec, spec / spec_w, 1e-12);
  // Each criterion's prompt asks its own question, so the shares differ.
  EXPECT_NE(v.criteria[0], v.criteria[2]);

  const LlmJudge::Verdict again = judge.judge(kSignals, kQueries, true, true);
  EXPECT_EQ(again.cov, v.cov);
  EXPECT_EQ(again.spec, v.spec);
  LlmJudge other = make_judge();
  EXPECT_EQ(other.judge(kSignals, kQueries, true, true).criteria, v.criteria);

  // Only the wanted reward's criteria are asked; no query: nothing to judge.
  const LlmJudge::Verdict cov_only = judge.judge(kSignals, kQueries, true, false);
  EXPECT_EQ(cov_only.cov, v.cov);
  EXPECT_TRUE(std::isnan(cov_only.criteria[2]));
  const LlmJudge::Verdict none = judge.judge(kSignals, {}, true, true);
  EXPECT_EQ(none.cov, 0.0);
  EXPECT_EQ(none.spec, 0.0);
}

TEST(LlmJudge, ThePromptKeepsTheNewestSignalsWithinItsBudget) {
  LlmJudge roomy = make_judge();
  const std::vector<std::int32_t> all = roomy.prompt(kSignals, kQueries, "Is it good?");
  const std::string text = roomy.tokenizer().decode(all);
  EXPECT_NE(text.find("- tomato pasta recipe\n- storm warnings coast\n- hurricane coast\nQueries:\n1. hurricane coast "
                      "evacuation\n"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.substr(text.size() - 7), "Answer:");

  // A budget a little short of the whole prompt drops the oldest signal (the first in event order).
  const int budget = static_cast<int>(all.size()) - 2;
  LlmJudge tight = make_judge(budget);
  const std::vector<std::int32_t> cut = tight.prompt(kSignals, kQueries, "Is it good?");
  EXPECT_LE(cut.size(), static_cast<std::size_t>(budget));
  const std::string cut_text = tight.tokenizer().decode(cut);
  EXPECT_NE(cut_text.find("- tomato pasta recipe\n- storm warnings coast\nQueries:"), std::string::npos) << cut_text;
  EXPECT_EQ(cut_text.find("- hurricane coast\n"), std::string::npos);

  LlmJudge tiny = make_judge(20);
  EXPECT_THROW(tiny.prompt(kSignals, kQueries, "Is it good?"), std::invalid_argument);
}

TEST(LlmJudge, RefusesATokenizerWithoutOneTokenYesAndNo) {
  models::Tokenizer bytes_only = trained_tokenizer(false);
  const std::int32_t vocab = bytes_only.vocab_size();
  try {
    LlmJudge judge(nano_model(vocab, 1), std::move(bytes_only), default_rubric_criteria(), 512);
    FAIL() << "accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()),
              "llm judge: \" yes\" is 4 tokens in this tokenizer; the judge needs \" yes\" and \" no\" to be one token "
              "each");
  }
  models::Tokenizer t = trained_tokenizer(true);
  EXPECT_THROW(LlmJudge(nano_model(300, 1), std::move(t), default_rubric_criteria(), 512), std::invalid_argument);
}

TEST(LlmJudge, TheRewardModelTakesCoverageAndSpecificityFromIt) {
  const NewsIndex index = reward_fixture::tiny_index();
  RewardConfig config;
  config.judge.mode = "llm";
  config.judge.checkpoint = "made in the test";
  config.judge.tokenizer = "made in the test";
  RewardModel llm(index, reward_fixture::train_window(), config, std::make_unique<LlmJudge>(make_judge()));
  RewardModel rubric(index, reward_fixture::train_window(), RewardConfig{});
  ParsedList list;
  list.valid = true;
  list.queries = kQueries;
  const Rewards a = llm.score(llm.prepare(kSignals), {list})[0];
  const Rewards b = rubric.score(rubric.prepare(kSignals), {list})[0];
  LlmJudge twin = make_judge();
  const LlmJudge::Verdict v = twin.judge(kSignals, kQueries, true, true);
  EXPECT_EQ(a.cov, v.cov);
  EXPECT_EQ(a.spec, v.spec);
  EXPECT_EQ(a.ret, b.ret);
  EXPECT_EQ(a.div, b.div);
  for (double x : {a.ret, a.cov, a.spec, a.div, a.structure, a.composite}) {
    EXPECT_GE(x, 0.0);
    EXPECT_LE(x, 1.0);
  }
}

}  // namespace
}  // namespace newsrl::news
