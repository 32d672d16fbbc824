// check_dataset on a valid fixture folder and on copies broken one way each:
// every problem is found and named with its file and line.
#include "news/dataset_check.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>

namespace newsrl::news {
namespace {

namespace fs = std::filesystem;

const fs::path kTiny = fs::path(NEWSRL_TEST_FIXTURES) / "tiny_dataset";

class DatasetCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("newsrl_check_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    for (const auto& f : fs::directory_iterator(kTiny)) fs::copy_file(f.path(), dir_ / f.path().filename());
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string read(const std::string& name) {
    std::ifstream in(dir_ / name, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  void write(const std::string& name, const std::string& text) { std::ofstream(dir_ / name, std::ios::binary) << text; }
  void append(const std::string& name, const std::string& text) { write(name, read(name) + text); }
  void replace(const std::string& name, const std::string& from, const std::string& to) {
    std::string text = read(name);
    const auto at = text.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    write(name, text.replace(at, from.size(), to));
  }
  fs::path dir_;
};

TEST_F(DatasetCheckTest, TheFixtureIsValidAndCounted) {
  const CheckReport r = check_dataset(dir_.string());
  for (const auto& i : r.shown) ADD_FAILURE() << i.str();
  EXPECT_TRUE(r.ok());
  EXPECT_EQ(r.counts.users, 2);
  EXPECT_EQ(r.counts.news, 4);
  EXPECT_EQ(r.counts.events[static_cast<int>(Domain::search)], 2);
  EXPECT_EQ(r.counts.events[static_cast<int>(Domain::browse)], 2);
  EXPECT_EQ(r.counts.events[static_cast<int>(Domain::news)], 5);
  EXPECT_EQ(r.counts.cold_users, 1);  // one news click; the other user has four
  EXPECT_EQ(r.counts.truth_users, 2);
  EXPECT_EQ(r.counts.truth_items, 3);
  EXPECT_EQ(r.counts.interests_users, 2);
}

TEST_F(DatasetCheckTest, EveryKindOfProblemIsReportedWithFileAndLine) {
  replace(kNewsFile, R"("id":"N2","title":"Central bank holds rates steady")", R"("id":"N2")");  // line 2: no title
  replace(kUsersFile, R"("news":"N1","keep":true)", R"("news":"N77","keep":true)");             // line 1: unknown id
  replace(kUsersFile, "2026-10-15T08:00:00Z", "2026-11-01T08:00:00Z");                          // line 2: in test window
  append(kUsersFile, "{\"user\":\"u00000000000000c3\",\"events\":[{\"domain\":\"search\",\"time\":"
                     "\"2026-10-05T00:00:00Z\",\"text\":\"caf\xC3\"}]}\n");                    // line 3: bad UTF-8
  append(kUsersFile, "{\"user\":\"u00000000000000d4\",\"events\":[\n");                        // line 4: malformed
  append(kUsersFile, "{\"user\":\"u00000000000000e5\",\"events\":[],\"pad\":\"" + std::string(1200, 'x') + "\"}\n");
  append(kTruthFile, R"({"user":"u00000000000000ff","items":["N3"]})" "\n");                   // line 3: unknown user
  const CheckReport r = check_dataset(dir_.string(), 20, ReadLimits{1000});
  std::vector<std::string> lines;
  for (const auto& i : r.shown) lines.push_back(i.str());
  const std::string news = (dir_ / kNewsFile).string(), users = (dir_ / kUsersFile).string(),
                    truth = (dir_ / kTruthFile).string();
  const std::vector<std::string> expected = {
      news + ":2: missing field \"title\"",
      users + ":1: user u00000000000000a1 events[1]: unknown news id \"N77\"",
      users + ":2: user u00000000000000b2 events[4]: time 2026-11-01T08:00:00Z is outside the train window",
      users + ":2: user u00000000000000b2 events[0]: unknown news id \"N2\"",
      users + ":3: invalid UTF-8",
      users + ":4: malformed JSON",
      users + ":5: line longer than the limit of 1000 bytes",
      truth + ":2: user u00000000000000b2 is not in users.jsonl",
      truth + ":3: user u00000000000000ff is not in users.jsonl",
  };
  // Order inside a line follows the events; compare as a set of prefixes.
  for (const std::string& want : expected) {
    bool found = false;
    for (const std::string& got : lines) found = found || got.rfind(want, 0) == 0;
    EXPECT_TRUE(found) << "no problem starting with: " << want << "\nin:\n" << testing::PrintToString(lines);
  }
  EXPECT_EQ(r.issue_count, static_cast<std::int64_t>(r.shown.size()));
  EXPECT_FALSE(r.ok());
}

TEST_F(DatasetCheckTest, ListingIsCappedButEveryProblemCounted) {
  std::string bad;
  for (int i = 0; i < 50; ++i) bad += "not json\n";
  append(kNewsFile, bad);
  const CheckReport r = check_dataset(dir_.string(), 5);
  EXPECT_EQ(r.shown.size(), 5u);
  EXPECT_EQ(r.issue_count, 50);
  EXPECT_EQ(r.shown[0].line, 5);
}

TEST_F(DatasetCheckTest, ProgressEndsEachFileAtItsSize) {
  std::map<std::string, std::pair<std::uint64_t, std::uint64_t>> last;
  const CheckReport r = check_dataset(dir_.string(), 20, {}, [&](const std::string& file, std::uint64_t done,
                                                                 std::uint64_t total) { last[file] = {done, total}; });
  EXPECT_TRUE(r.ok());
  for (const char* f : {kNewsFile, kUsersFile, kTruthFile, kInterestsFile}) {
    ASSERT_TRUE(last.contains(f)) << f;
    EXPECT_EQ(last[f].first, fs::file_size(dir_ / f)) << f;
    EXPECT_EQ(last[f].second, fs::file_size(dir_ / f)) << f;
  }
}

TEST_F(DatasetCheckTest, MissingFilesAndFoldersAreProblemsNotCrashes) {
  fs::remove(dir_ / kSplitFile);
  fs::remove(dir_ / kTruthFile);
  const CheckReport r = check_dataset(dir_.string());
  ASSERT_EQ(r.issue_count, 2);
  EXPECT_NE(r.shown[0].str().find("split.json: missing"), std::string::npos);
  EXPECT_NE(r.shown[1].str().find("truth.jsonl: missing"), std::string::npos);
  EXPECT_FALSE(check_dataset((dir_ / "nowhere").string()).ok());
}

}  // namespace
}  // namespace newsrl::news
