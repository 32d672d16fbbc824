// The metrics against the independent Python reference
// (tests/reference/metrics_reference.py wrote fixtures/metrics/expected.json),
// through the same file readers `newsrl eval rankings` uses.
#include "news/ranking_eval.h"

#include <gtest/gtest.h>

#include <fstream>

#include "news/rankings.h"

namespace newsrl::news {
namespace {

const std::string kDir = std::string(NEWSRL_TEST_FIXTURES) + "/metrics/";

void expect_same(const nlohmann::json& want, const nlohmann::json& got, const std::string& where) {
  for (const auto& [key, value] : want.items()) {
    ASSERT_TRUE(got.contains(key)) << where << key;
    if (value.is_object()) {
      expect_same(value, got[key], where + key + ".");
    } else if (value.is_number_float()) {
      EXPECT_NEAR(got[key].get<double>(), value.get<double>(), 1e-12) << where << key;
    } else {
      EXPECT_EQ(got[key], value) << where << key;
    }
  }
}

TEST(RankingEval, MatchesThePythonReference) {
  std::ifstream in(kDir + "expected.json");
  ASSERT_TRUE(in) << "missing fixture: run tests/reference/metrics_reference.py";
  const nlohmann::json fixture = nlohmann::json::parse(in);
  const std::vector<int> cutoffs = fixture["cutoffs"].get<std::vector<int>>();
  const UserSegments segments = read_segments(kDir + "users.jsonl");
  const EvalReport report =
      evaluate_rankings(read_rankings(kDir + "rankings.jsonl"), read_truth(kDir + "truth.jsonl"), cutoffs, &segments);
  const nlohmann::json got = nlohmann::json::parse(report.to_json().dump());
  expect_same(fixture["expected"], got, "");
  EXPECT_GT(got["users"].get<int>(), 100);  // the fixture is not trivially small
  EXPECT_GT(got["recall@10"].get<double>(), 0.0);
}

TEST(RankingEval, MalformedRankingsNameFileAndLine) {
  const std::string path = testing::TempDir() + "bad_rankings.jsonl";
  {
    std::ofstream out(path);
    out << "{\"user\":\"u1\",\"items\":[\"N1\"]}\n{\"user\":\"u2\",\"items\":\"N1\"}\n";
  }
  try {
    read_rankings(path);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), path + ":2: \"items\" must be a list of article ids");
  }
  {
    std::ofstream out(path);
    out << "{\"user\":\"u1\",\"items\":[]}\n{\"user\":\"u1\",\"items\":[\"N1\"]}\n";
  }
  EXPECT_THROW(read_rankings(path), std::invalid_argument);
  {
    std::ofstream out(path);
    out << "{\"user\":\"u1\",\"items\":[}\n";
  }
  EXPECT_THROW(read_rankings(path), std::invalid_argument);
  EXPECT_THROW(read_rankings(path + ".missing"), std::invalid_argument);
}

TEST(RankingEval, LineEndingsBlankLinesAndTrailingContent) {
  const std::string path = testing::TempDir() + "crlf_rankings.jsonl";
  {
    std::ofstream out(path, std::ios::binary);
    out << "{\"user\":\"u1\",\"items\":[\"N1\"]}\r\n\r\n  \n{\"items\":[\"N\\u0032\"],\"user\":\"u2\",\"extra\":{\"a\":[1,2]}}";
  }
  const auto r = read_rankings(path);  // CRLF, blank lines, key order, unknown keys, escapes, no final newline
  ASSERT_EQ(r.size(), 2u);
  EXPECT_EQ(r.at("u2"), (std::vector<std::string>{"N2"}));
  {
    std::ofstream out(path);
    out << "{\"user\":\"u1\",\"items\":[]}\n{\"user\":\"u2\",\"items\":[]} {\"x\":1}\n";
  }
  try {
    read_rankings(path);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()).rfind(path + ":2: not valid JSON", 0), 0u) << e.what();
  }
  {
    std::ofstream out(path);
    out << "[1, 2]\n";
  }
  EXPECT_THROW(read_rankings(path), std::invalid_argument);
}

TEST(RankingEval, TruthUserTwiceNamesBothLines) {
  const std::string path = testing::TempDir() + "dup_truth.jsonl";
  {
    std::ofstream out(path);
    out << "{\"user\":\"u00000000000000a1\",\"items\":[\"N1\"]}\n{\"user\":\"u00000000000000b2\",\"items\":[]}\n"
        << "{\"user\":\"u00000000000000a1\",\"items\":[\"N2\"]}\n";
  }
  try {
    read_truth(path);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_EQ(std::string(e.what()), path + ":3: user u00000000000000a1 appears a second time (first at line 1)");
  }
}

TEST(RankingEval, WrittenRankingsReadBack) {
  const std::string path = testing::TempDir() + "rankings_roundtrip.jsonl";
  write_rankings(path, {{"u1", {"N1", "N2"}}, {"u2", {}}});
  const auto back = read_rankings(path);
  ASSERT_EQ(back.size(), 2u);
  EXPECT_EQ(back.at("u1"), (std::vector<std::string>{"N1", "N2"}));
  EXPECT_TRUE(back.at("u2").empty());
}

}  // namespace
}  // namespace newsrl::news
