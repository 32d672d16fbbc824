// The MIND importer on a hand-written MIND-format fixture (tests/news/fixtures/mind):
// the exact events, windows and truth it must produce, hashed ids only, missing
// ids counted, and every bad row named by file and line.
#include "news/mind_import.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "news/dataset_check.h"
#include "news/user_hash.h"

namespace newsrl::news {
namespace {

namespace fs = std::filesystem;

const fs::path kMind = fs::path(NEWSRL_TEST_FIXTURES) / "mind";

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class MindImportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("newsrl_mind_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  MindImportOptions options(const std::string& news = "news.tsv", const std::string& behaviors = "behaviors.tsv") {
    MindImportOptions o;
    o.news_tsv = (kMind / news).string();
    o.behaviors_tsv = (kMind / behaviors).string();
    o.out_dir = dir_.string();
    o.salt = "test-salt";
    return o;
  }
  fs::path dir_;
};

TEST(MindTime, ParsesTwelveHourClock) {
  EXPECT_EQ(parse_mind_time("11/9/2019 8:55:22 AM"), parse_time("2019-11-09T08:55:22Z"));
  EXPECT_EQ(parse_mind_time("11/15/2019 12:00:01 AM"), parse_time("2019-11-15T00:00:01Z"));
  EXPECT_EQ(parse_mind_time("11/15/2019 12:30:00 PM"), parse_time("2019-11-15T12:30:00Z"));
  EXPECT_EQ(parse_mind_time("01/02/2020 11:59:59 PM"), parse_time("2020-01-02T23:59:59Z"));
  for (const char* bad : {"13/45/2019 1:05:00 PM", "11/9/2019 13:05:00 PM", "11/9/2019 8:55:22", "2/30/2019 1:00:00 AM",
                          "11/9/19 8:55:22 AM", "", "11/9/2019 0:10:00 AM"}) {
    EXPECT_FALSE(parse_mind_time(bad)) << bad;
  }
}

TEST_F(MindImportTest, TheFixtureBecomesTheExpectedDataset) {
  const MindImportReport r = import_mind(options());
  ASSERT_TRUE(r.written);
  EXPECT_EQ(r.bad_rows, 0);
  EXPECT_EQ(r.users, 3);
  EXPECT_EQ(r.history_clicks, 3);  // U100: N1 N2; U200: N2 (N99 is unknown)
  EXPECT_EQ(r.train_clicks, 4);    // U100: N3, N4; U200: N1, N6
  EXPECT_EQ(r.test_clicks, 4);     // rows 4, 5 (two), 6
  EXPECT_EQ(r.test_clicks_on_older_news, 2);  // N3 and N6 were shown before the test day
  EXPECT_EQ(r.truth_users, 2);
  EXPECT_EQ(r.truth_items, 2);
  EXPECT_EQ(r.missing_ids, 2);
  EXPECT_EQ(r.missing_id_uses, 2);  // N99 once (history is read once per user), N77 once
  EXPECT_EQ(r.split.test.start, *parse_time("2019-11-11T00:00:00Z"));
  EXPECT_EQ(r.split.test.end, *parse_time("2019-11-12T00:00:00Z"));
  EXPECT_EQ(r.split.train.start, *parse_time("2019-11-02T00:00:00Z"));

  const CheckReport check = check_dataset(dir_.string());
  for (const auto& i : check.shown) ADD_FAILURE() << i.str();
  EXPECT_EQ(check.counts.news, 6);
  EXPECT_EQ(check.counts.events[static_cast<int>(Domain::news)], 7);

  const UserHasher hash("test-salt");
  const std::string users = read_file(dir_ / kUsersFile);
  for (const char* raw : {"U100", "U200", "U300"}) {
    EXPECT_EQ(users.find(raw), std::string::npos) << "raw id " << raw << " written";
    EXPECT_NE(users.find(hash(raw)), std::string::npos) << raw;
  }
  // U100: history before the first impression, then the two train clicks; truth N5.
  UsersReader reader((dir_ / kUsersFile).string());
  User u;
  bool seen = false;
  while (reader.next(u)) {
    if (u.id != hash("U100")) continue;
    seen = true;
    ASSERT_EQ(u.events.size(), 4u);
    EXPECT_EQ(u.events[0].news, "N1");
    EXPECT_EQ(u.events[1].news, "N2");
    EXPECT_LT(u.events[1].time, *parse_mind_time("11/9/2019 8:55:22 AM"));
    EXPECT_EQ(u.events[2].news, "N3");
    EXPECT_EQ(u.events[2].time, *parse_mind_time("11/9/2019 8:55:22 AM"));
    EXPECT_EQ(u.events[3].news, "N4");
  }
  EXPECT_TRUE(seen);
  const std::string truth = read_file(dir_ / kTruthFile);
  EXPECT_NE(truth.find("{\"user\":\"" + hash("U100") + "\",\"items\":[\"N5\"]}"), std::string::npos) << truth;
  EXPECT_NE(truth.find("{\"user\":\"" + hash("U300") + "\",\"items\":[\"N5\"]}"), std::string::npos) << truth;
  // Same input, same bytes.
  const std::string first = read_file(dir_ / kUsersFile) + read_file(dir_ / kNewsFile) + truth;
  import_mind(options());
  EXPECT_EQ(first, read_file(dir_ / kUsersFile) + read_file(dir_ / kNewsFile) + read_file(dir_ / kTruthFile));
}

TEST_F(MindImportTest, TestDaysMoveTheWindow) {
  MindImportOptions o = options();
  o.test_days = 2;
  const MindImportReport r = import_mind(o);
  EXPECT_EQ(r.split.test.start, *parse_time("2019-11-10T00:00:00Z"));
  EXPECT_EQ(r.train_clicks, 1);  // only U100's click on Nov 9 is left in train
  EXPECT_TRUE(check_dataset(dir_.string()).ok());
}

TEST_F(MindImportTest, BadRowsAreNamedAndStopTheImport) {
  const MindImportReport r = import_mind(options("news_bad.tsv", "behaviors_bad.tsv"));
  EXPECT_FALSE(r.written);
  EXPECT_FALSE(fs::exists(dir_ / kUsersFile));
  ASSERT_EQ(r.bad_rows, 6);
  std::vector<std::string> lines;
  for (const auto& i : r.bad_rows_shown) lines.push_back(i.str());
  const std::string news = (kMind / "news_bad.tsv").string(), beh = (kMind / "behaviors_bad.tsv").string();
  EXPECT_EQ(lines[0], news + ":7: duplicate news id N1");
  EXPECT_EQ(lines[1].rfind(news + ":8: expected 8 tab-separated columns", 0), 0u) << lines[1];
  EXPECT_EQ(lines[2].rfind(beh + ":2: expected 5 tab-separated columns", 0), 0u) << lines[2];
  EXPECT_EQ(lines[3], beh + ":4: time \"13/45/2019 1:05:00 PM\" is not like 11/15/2019 8:55:22 AM");
  EXPECT_EQ(lines[4], beh + ":6: impression \"N2-x\" is not like N123-1 or N123-0");
  EXPECT_EQ(lines[5].rfind(beh + ":8: invalid UTF-8", 0), 0u) << lines[5];
}

TEST_F(MindImportTest, SkippingBadRowsImportsTheRest) {
  MindImportOptions o = options("news_bad.tsv", "behaviors_bad.tsv");
  o.skip_bad_rows = true;
  const MindImportReport r = import_mind(o);
  EXPECT_TRUE(r.written);
  EXPECT_EQ(r.bad_rows, 6);
  EXPECT_EQ(r.users, 3);  // the bad rows' user U400 never made it
  EXPECT_EQ(r.truth_items, 2);
  EXPECT_TRUE(check_dataset(dir_.string()).ok());
}

TEST_F(MindImportTest, UnreadableFilesThrowOneLine) {
  MindImportOptions o = options("absent.tsv");
  EXPECT_THROW(import_mind(o), std::invalid_argument);
}

}  // namespace
}  // namespace newsrl::news
