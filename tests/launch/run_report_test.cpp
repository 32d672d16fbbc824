// report.md from a small run folder written here: the methods tables carry
// eval.json's numbers, the reward table the first-vs-last means, the stage
// table the times; absent inputs are said, bad ones are one error that
// leaves the previous report alone; the same folder gives the same bytes.
#include "launch/run_report.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <sstream>
#include <stdexcept>
#include <string>

namespace {

namespace fs = std::filesystem;

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write(const fs::path& path, const std::string& text) {
  fs::create_directories(path.parent_path());
  std::ofstream(path, std::ios::binary) << text;
}

class RunReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    run_ = fs::temp_directory_path() /
           ("run_report_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(run_);
    fs::create_directories(run_);
    write(run_ / "eval.json", R"({"methods": {
      "grpo": {"recall@5": 0.2, "recall@10": 0.271, "ndcg@5": 0.19, "ndcg@10": 0.241, "mrr": 0.31, "users": 1968,
               "segments": {"cold": {"recall@5": 0.1, "recall@10": 0.15, "ndcg@5": 0.09, "ndcg@10": 0.12, "mrr": 0.2, "users": 400},
                            "warm": {"recall@5": 0.22, "recall@10": 0.3, "ndcg@5": 0.21, "ndcg@10": 0.27, "mrr": 0.34, "users": 1568}}},
      "sft": {"recall@5": 0.18, "recall@10": 0.25, "ndcg@5": 0.17, "ndcg@10": 0.22, "mrr": 0.29, "users": 1968,
              "segments": {"cold": {"recall@5": 0.12, "recall@10": 0.16, "ndcg@5": 0.1, "ndcg@10": 0.13, "mrr": 0.21, "users": 400},
                           "warm": {"recall@5": 0.2, "recall@10": 0.27, "ndcg@5": 0.19, "ndcg@10": 0.24, "mrr": 0.31, "users": 1568}}},
      "popular": {"recall@5": 0.05, "recall@10": 0.08, "ndcg@5": 0.04, "ndcg@10": 0.06, "mrr": 0.1, "users": 1968}}})");
    // 25 steps: composite mean 0.1 + 0.01 * step, ret constant; struct absent (weight 0).
    std::ostringstream grpo;
    for (int step = 1; step <= 25; ++step) {
      grpo << R"({"step":)" << step << R"(,"reward":{"composite":{"mean":)" << 0.1 + 0.01 * step
           << R"(,"std":0.05},"ret":{"mean":0.4,"std":0.1}},"kl":)" << 0.001 * step
           << R"(,"entropy":2.0,"response_length":30,"clip_fraction":0.01,"tokens_per_s":5000})" << "\n";
    }
    write(run_ / "grpo" / "metrics.jsonl", grpo.str());
    write(run_ / "sft" / "metrics.jsonl",
          "{\"step\":1,\"loss\":4.0,\"lr\":0.001,\"grad_norm\":1,\"tokens_seen\":100,\"tokens_per_s\":900}\n"
          "{\"step\":2,\"loss\":3.0,\"lr\":0.001,\"grad_norm\":1,\"tokens_seen\":200,\"tokens_per_s\":1100}\n");
    write(run_ / "stages.json",
          R"({"stages":[{"name":"world","seconds":12.3,"status":"done"},{"name":"train grpo","seconds":100,"status":"done"},)"
          R"({"name":"report","seconds":0,"status":"running"}]})");
    write(run_ / "config.toml", "[world]\nseed = 7\n");
  }
  void TearDown() override { if (!getenv("KEEP")) fs::remove_all(run_); }
  std::string report() const { return read(run_ / "report.md"); }
  fs::path run_;
};

TEST_F(RunReportTest, TablesCarryTheRunsNumbers) {
  const std::vector<std::string> written = newsrl::launch::write_run_report(run_.string());
  EXPECT_EQ(written.size(), 6u);
  const std::string md = report();
  EXPECT_NE(md.find("| method | users | Recall@5 | Recall@10 | NDCG@5 | NDCG@10 | MRR |"), std::string::npos) << md;
  EXPECT_NE(md.find("| grpo | 1968 | **0.2000** | **0.2710** | **0.1900** | **0.2410** | **0.3100** |"),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| sft | 1968 | 0.1800 | 0.2500 | 0.1700 | 0.2200 | 0.2900 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| popular | 1968 | 0.0500 | 0.0800 | 0.0400 | 0.0600 | 0.1000 |"), std::string::npos) << md;
  // Methods keep eval.json's order: grpo, sft, popular.
  EXPECT_LT(md.find("| grpo | 1968"), md.find("| sft | 1968"));
  EXPECT_LT(md.find("| sft | 1968"), md.find("| popular | 1968"));
  const std::size_t cold = md.find("### Cold users"), warm = md.find("### Warm users");
  ASSERT_NE(cold, std::string::npos) << md;
  ASSERT_NE(warm, std::string::npos) << md;
  EXPECT_NE(md.find("| sft | 400 | **0.1200** | **0.1600** | **0.1000** | **0.1300** | **0.2100** |", cold),
            std::string::npos)
      << md;
  EXPECT_NE(md.find("| grpo | 1568 | **0.2200** | **0.3000** | **0.2100** | **0.2700** | **0.3400** |", warm),
            std::string::npos)
      << md;
  EXPECT_EQ(md.find("| popular | 1968", cold), std::string::npos) << "popular has no segments";

  // First 10 steps: 0.1 + 0.01 * 5.5; last 10: 0.1 + 0.01 * 20.5.
  EXPECT_NE(md.find("25 steps, 1 to 25."), std::string::npos) << md;
  EXPECT_NE(md.find("| composite | 0.1550 | 0.3050 | +0.1500 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| ret | 0.4000 | 0.4000 | 0.0000 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("| struct |"), std::string::npos) << "struct is absent from the metrics";
  EXPECT_NE(md.find("| KL estimate | 0.0055 | 0.0205 | +0.0150 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| loss | 4.0000 | 3.0000 | -1.0000 |"), std::string::npos) << "2 SFT steps: 1 at each end" << md;
  EXPECT_NE(md.find("| response length (tokens) | 30.00 | 30.00 | 0.00 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| world | done | 12.3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| **total** |  | 112.3 |"), std::string::npos) << md;
  EXPECT_NE(md.find("| report | writing this page |  |"), std::string::npos) << "run writes the page in its report stage";
  EXPECT_NE(md.find("newsrl run --config " + (run_ / "config.toml").string()), std::string::npos) << md;
  EXPECT_NE(md.find("[world]\nseed = 7\n"), std::string::npos) << md;
  for (const char* plot : {"eval_methods", "reward_composite", "rewards", "grpo_training", "sft_loss"}) {
    const fs::path png = run_ / "plots" / (std::string(plot) + ".png");
    EXPECT_EQ(read(png).substr(1, 3), "PNG") << png;
    EXPECT_NE(md.find("(plots/" + std::string(plot) + ".png)"), std::string::npos) << plot;
  }
}

TEST_F(RunReportTest, LongRunsDrawSmoothedRewardsAndSaySo) {
  std::ostringstream grpo;
  for (int step = 1; step <= 200; ++step) {
    grpo << R"({"step":)" << step << R"(,"reward":{"composite":{"mean":)" << step % 2 << R"(,"std":0.1}}})" << "\n";
  }
  write(run_ / "grpo" / "metrics.jsonl", grpo.str());
  newsrl::launch::write_run_report(run_.string());
  const std::string md = report();
  EXPECT_NE(md.find("the mean of the last 4 steps at each step"), std::string::npos) << md;
  EXPECT_NE(md.find("| composite | 0.5000 | 0.5000 | 0.0000 |"), std::string::npos) << md;
  EXPECT_EQ(md.find("at each step, so that"), md.rfind("at each step, so that")) << "said once";
  newsrl::launch::write_run_report(run_.string());  // and the short fixture run says nothing of it
  write(run_ / "grpo" / "metrics.jsonl", "{\"step\":1,\"reward\":{\"composite\":{\"mean\":1}}}\n");
  newsrl::launch::write_run_report(run_.string());
  EXPECT_EQ(report().find("mean of the last"), std::string::npos) << report();
}

TEST_F(RunReportTest, SameFolderSameBytes) {
  newsrl::launch::write_run_report(run_.string());
  const std::string md = report(), png = read(run_ / "plots" / "rewards.png");
  newsrl::launch::write_run_report(run_.string());
  EXPECT_EQ(report(), md);
  EXPECT_EQ(read(run_ / "plots" / "rewards.png"), png);
}

TEST_F(RunReportTest, AbsentInputsAreSaidAndTheirChartsSayNoData) {
  fs::remove_all(run_ / "grpo");
  fs::remove(run_ / "sft" / "metrics.jsonl");
  fs::remove(run_ / "stages.json");
  fs::remove(run_ / "config.toml");
  newsrl::launch::write_run_report(run_.string());
  const std::string md = report();
  EXPECT_NE(md.find("grpo/metrics.jsonl is absent"), std::string::npos) << md;
  EXPECT_NE(md.find("sft/metrics.jsonl is absent"), std::string::npos) << md;
  EXPECT_NE(md.find("stages.json is absent"), std::string::npos) << md;
  EXPECT_NE(md.find("config.toml is absent"), std::string::npos) << md;
  EXPECT_NE(md.find("| grpo | 1968 |"), std::string::npos) << md;
  EXPECT_TRUE(fs::exists(run_ / "plots" / "reward_composite.png"));
  EXPECT_EQ(md.find("plots/reward_composite.png"), std::string::npos) << "no empty chart in the report";
}

TEST_F(RunReportTest, BadInputIsOneLineAndKeepsThePreviousReport) {
  newsrl::launch::write_run_report(run_.string());
  const std::string before = report();
  auto error_of = [&] {
    try {
      newsrl::launch::write_run_report(run_.string());
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  write(run_ / "grpo" / "metrics.jsonl", "{\"step\":1}\n\n{\"step\":2\n");
  EXPECT_NE(error_of().find("grpo/metrics.jsonl line 3: not valid JSON"), std::string::npos) << error_of();
  write(run_ / "grpo" / "metrics.jsonl", "{\"step\":1}\n[1]\n");
  EXPECT_NE(error_of().find("metrics.jsonl line 2: not a JSON object"), std::string::npos) << error_of();
  write(run_ / "grpo" / "metrics.jsonl", "{\"loss\":1}\n");
  EXPECT_NE(error_of().find("metrics.jsonl line 1: no numeric \"step\""), std::string::npos) << error_of();
  fs::remove(run_ / "grpo" / "metrics.jsonl");
  write(run_ / "stages.json", R"({"stages":[{"seconds":1}]})");
  EXPECT_NE(error_of().find("stages.json stages[0]: wants an object with a \"name\" string"), std::string::npos)
      << error_of();
  fs::remove(run_ / "stages.json");
  write(run_ / "eval.json", R"({"methods": {"grpo": {"recall@5": "high"}}})");
  EXPECT_NE(error_of().find("eval.json methods.grpo: \"recall@5\" is not a number"), std::string::npos) << error_of();
  EXPECT_EQ(report(), before) << "a failed report leaves the last one";
  fs::remove(run_ / "eval.json");
  EXPECT_NE(error_of().find("eval.json: not found"), std::string::npos) << error_of();
  EXPECT_THROW(newsrl::launch::write_run_report((run_ / "nope").string()), std::invalid_argument);
}

}  // namespace
