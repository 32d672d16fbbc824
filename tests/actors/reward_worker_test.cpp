// The reward-worker's path from sampled token ids to rewards: decode with the
// tokenizer, parse under the grammar, score with the news rewards — checked
// against news::RewardModel scoring the same list directly; a broken or cut
// completion scores R_struct 0; an unknown user is refused.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "../news/rewards_fixture.h"
#include "actors/reward_worker.h"

using namespace newsrl;
using namespace newsrl::actors;
namespace fs = std::filesystem;
namespace fx = newsrl::news::reward_fixture;

namespace {

constexpr const char* kUser = "u00000000000000c1";

// A dataset folder around the reward fixture's articles, one user who reads
// about cooking and markets, and the fixture's index saved beside it.
struct TinyWorld {
  fs::path dir = fs::temp_directory_path() / ("reward_worker_test_" + std::to_string(::getpid()));
  TinyWorld() {
    fs::create_directories(dir / "world");
    news::NewsIndex index = fx::tiny_index();
    std::ofstream news_out(dir / "world" / "news.jsonl");
    for (const news::IndexedArticle& a : index.articles()) {
      news_out << nlohmann::json{{"id", a.id}, {"title", a.title}, {"abstract", ""}, {"category", "c"},
                                 {"subcategory", "s"}, {"published", news::format_time(a.published)}}
                      .dump()
               << "\n";
    }
    std::ofstream split(dir / "world" / "split.json");
    split << nlohmann::json{{"train", {{"start", news::format_time(0)}, {"end", news::format_time(10 * fx::kDay)}}},
                            {"test", {{"start", news::format_time(10 * fx::kDay)}, {"end", news::format_time(14 * fx::kDay)}}}}
                 .dump();
    auto search = [](std::int64_t t, const char* text) {
      return nlohmann::json{{"domain", "search"}, {"time", news::format_time(t)}, {"text", text}};
    };
    nlohmann::json events = nlohmann::json::array(
        {search(3600, "tomato pasta recipe"), search(7200, "basil pasta sauce"),
         nlohmann::json{{"domain", "news"}, {"time", news::format_time(fx::kDay + 60)}, {"news", "C2"}},
         search(2 * fx::kDay, "interest rates bank"), search(2 * fx::kDay + 60, "stock markets rally"),
         nlohmann::json{{"domain", "search"}, {"time", news::format_time(3 * fx::kDay)}, {"text", "facebook login"},
                        {"annotator", false}}});
    std::ofstream users(dir / "world" / "users.jsonl");
    users << nlohmann::json{{"user", kUser}, {"events", events}}.dump() << "\n";
    users << nlohmann::json{{"user", "u00000000000000c2"},
                            {"events", nlohmann::json::array({nlohmann::json{{"domain", "search"},
                                                                             {"time", news::format_time(100)},
                                                                             {"text", "noise"},
                                                                             {"annotator", false}}})}}
                 .dump()
          << "\n";
    users.close();
    news_out.close();
    split.close();
    index.save((dir / "index").string());
  }
  ~TinyWorld() { fs::remove_all(dir); }
  RewardWorkerOptions options() const {
    RewardWorkerOptions o;
    o.world = (dir / "world").string();
    o.index = (dir / "index").string();
    o.tokenizer = std::string(NEWSRL_MODEL_FIXTURES) + "/tokenizer_trained.json";
    o.limits.allow_reasoning = false;
    return o;
  }
};

}  // namespace

TEST(RewardWorker, DecodesParsesAndScoresLikeTheRewardModel) {
  TinyWorld world;
  const RewardWorkerOptions o = world.options();
  RewardWorker worker(o);
  EXPECT_EQ(worker.users(), 1);  // the second user has no signal left after cleaning
  const models::Tokenizer tokenizer = models::Tokenizer::load(o.tokenizer);
  const std::string text = "1. tomato pasta recipe\n2. interest rates bank\n3. hurricane coast\n<|im_end|>";
  const std::vector<std::int32_t> ids = tokenizer.encode(text);
  const std::vector<std::int32_t> cut(ids.begin(), ids.begin() + static_cast<long>(ids.size() / 2));
  const std::vector<RewardResult> got = worker.score({{kUser, ids, true}, {kUser, cut, false}});
  ASSERT_EQ(got.size(), 2u);

  // The same list scored by the reward model itself, from the user's cleaned signals.
  const news::NewsIndex index = news::NewsIndex::load(o.index);
  news::RewardModel model(index, fx::train_window(), news::RewardConfig{});
  const news::ParsedList list = news::parse_completion(text, o.limits);
  ASSERT_TRUE(list.valid) << list.error;
  const news::UserSignals user =
      model.prepare({"tomato pasta recipe", "basil pasta sauce", "Weeknight pasta with basil", "interest rates bank",
                     "stock markets rally"});
  const news::Rewards want = model.score(user, {list}).front();
  EXPECT_TRUE(got[0].parsed) << got[0].error;
  EXPECT_DOUBLE_EQ(got[0].structure, 1.0);
  EXPECT_DOUBLE_EQ(got[0].ret, want.ret);
  EXPECT_DOUBLE_EQ(got[0].cov, want.cov);
  EXPECT_DOUBLE_EQ(got[0].spec, want.spec);
  EXPECT_DOUBLE_EQ(got[0].div, want.div);
  EXPECT_DOUBLE_EQ(got[0].composite, want.composite);
  EXPECT_GT(got[0].ret, 0.0);

  // Cut at max_new_tokens: no closing token, R_struct 0, a lower composite.
  EXPECT_FALSE(got[1].parsed);
  EXPECT_DOUBLE_EQ(got[1].structure, 0.0);
  EXPECT_NE(got[1].error.find("cut at max_new_tokens"), std::string::npos) << got[1].error;
  EXPECT_LT(got[1].composite, got[0].composite);
}

TEST(RewardWorker, RefusesUnknownUsersAndUnknownIds) {
  TinyWorld world;
  RewardWorkerOptions o = world.options();
  o.rewards.div.weight = 0;  // a switched-off reward is NaN
  RewardWorker worker(o);
  EXPECT_THROW(worker.score({{"u00000000000000c2", {1, 2}, true}}), std::invalid_argument);
  const models::Tokenizer tokenizer = models::Tokenizer::load(o.tokenizer);
  const std::vector<RewardResult> got = worker.score({{kUser, {tokenizer.vocab_size() + 5}, true}});
  EXPECT_FALSE(got[0].parsed);
  EXPECT_DOUBLE_EQ(got[0].structure, 0.0);
  EXPECT_TRUE(std::isnan(got[0].div));
  EXPECT_NE(got[0].error.find("no text"), std::string::npos);
}
