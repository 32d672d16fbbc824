// The schema: time format, UTF-8, the line reader's limit, records to and
// from JSON, and every malformed-input case with its FILE:LINE message.
#include "news/schema.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "news/jsonl.h"
#include "news/utf8.h"

namespace newsrl::news {
namespace {

namespace fs = std::filesystem;

// A fresh folder per test under the system's temp dir.
class SchemaTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("newsrl_schema_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string write(const std::string& name, const std::string& text) {
    const fs::path p = dir_ / name;
    std::ofstream(p, std::ios::binary) << text;
    return p.string();
  }
  fs::path dir_;
};

std::vector<DataIssue> collect_news(const std::string& path, const Split* split = nullptr) {
  std::vector<DataIssue> issues;
  NewsReader reader(path, [&](const DataIssue& i) { issues.push_back(i); }, split);
  Article a;
  while (reader.next(a)) {
  }
  return issues;
}

TEST(Time, ParsesAndFormatsRoundTrip) {
  EXPECT_EQ(parse_time("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(parse_time("2026-10-05T14:03:00Z"), 1791208980);
  EXPECT_EQ(parse_time("2024-02-29T23:59:59Z"), 1709251199);
  for (std::int64_t t : {0LL, 951782400LL, 1709251199LL, 1791208980LL, 4102444799LL}) {
    EXPECT_EQ(parse_time(format_time(t)), t) << format_time(t);
  }
  EXPECT_EQ(format_time(1791208980), "2026-10-05T14:03:00Z");
}

TEST(Time, RejectsAnythingElse) {
  for (const char* bad : {"2026-10-05 14:03:00Z", "2026-10-05T14:03:00", "2026-10-05T14:03:00+01:00",
                          "2026-02-30T00:00:00Z", "2025-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
                          "2026-10-05T24:00:00Z", "2026-10-05T14:60:00Z", "1969-12-31T23:59:59Z", "",
                          "2026-1a-05T14:03:00Z"}) {
    EXPECT_FALSE(parse_time(bad)) << bad;
  }
}

TEST(Utf8, FindsIllFormedSequences) {
  EXPECT_TRUE(valid_utf8("plain ascii"));
  EXPECT_TRUE(valid_utf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_EQ(find_invalid_utf8("ab\xFFz"), 2u);
  EXPECT_EQ(find_invalid_utf8("ab\xC3"), 2u);               // truncated
  EXPECT_EQ(find_invalid_utf8("\xC0\xAF"), 0u);             // overlong "/"
  EXPECT_EQ(find_invalid_utf8("x\xED\xA0\x80"), 1u);        // a surrogate
  EXPECT_EQ(find_invalid_utf8("\xF4\x90\x80\x80"), 0u);     // above U+10FFFF
  EXPECT_EQ(find_invalid_utf8("ok\x80"), 2u);               // stray continuation byte
}

TEST(UserId, OnlyHashedIds) {
  EXPECT_TRUE(valid_user_id("u0123456789abcdef"));
  EXPECT_FALSE(valid_user_id("u0123456789ABCDEF"));
  EXPECT_FALSE(valid_user_id("U12345"));
  EXPECT_FALSE(valid_user_id("u0123456789abcde"));
}

TEST_F(SchemaTest, LineReaderSkipsOversizedLinesAndCountsThem) {
  const std::string big(5000, 'x');
  const std::string path = write("lines.jsonl", "short\r\n" + big + "\nafter\nlast-without-newline");
  JsonlReader r(path, 100);
  std::string line;
  EXPECT_EQ(r.next(line), JsonlReader::Status::line);
  EXPECT_EQ(line, "short");
  EXPECT_EQ(r.next(line), JsonlReader::Status::oversized);
  EXPECT_EQ(r.line_number(), 2);
  EXPECT_EQ(r.next(line), JsonlReader::Status::line);
  EXPECT_EQ(line, "after");
  EXPECT_EQ(r.next(line), JsonlReader::Status::line);
  EXPECT_EQ(line, "last-without-newline");
  EXPECT_EQ(r.line_number(), 4);
  EXPECT_EQ(r.next(line), JsonlReader::Status::end);
}

TEST_F(SchemaTest, LineReaderHandlesLinesAcrossItsBuffer) {
  std::string text;
  for (int i = 0; i < 3000; ++i) text += std::string(static_cast<std::size_t>(i % 977), 'a' + i % 26) + "\n";
  JsonlReader r(write("many.txt", text), 1 << 20);
  std::string line;
  int n = 0;
  while (r.next(line) == JsonlReader::Status::line) {
    ASSERT_EQ(line.size(), static_cast<std::size_t>(n % 977)) << n;
    ++n;
  }
  EXPECT_EQ(n, 3000);
}

TEST_F(SchemaTest, RecordsRoundTripThroughJson) {
  Article a{"N1", "Title \"quoted\"\n", "abs\\tract", "sports", "nfl", "https://x/1", 1791208980};
  Article b;
  ASSERT_EQ(article_from_json(nlohmann::json::parse(to_json_line(a)), b), "");
  EXPECT_EQ(b.title, a.title);
  EXPECT_EQ(b.abstract, a.abstract);
  EXPECT_EQ(b.published, a.published);

  User u{"u0123456789abcdef",
         {{Domain::search, 10, "cheap flights", "", "", true, false},
          {Domain::browse, 20, "Page \x01 title", "https://p", "", std::nullopt, std::nullopt},
          {Domain::news, 30, "", "", "N1", false, true}}};
  User v;
  ASSERT_EQ(user_from_json(nlohmann::json::parse(to_json_line(u)), v), "");
  ASSERT_EQ(v.events.size(), 3u);
  EXPECT_EQ(v.events[0].text, "cheap flights");
  EXPECT_EQ(v.events[0].keep, true);
  EXPECT_EQ(v.events[0].annotator, false);
  EXPECT_EQ(v.events[1].text, "Page \x01 title");
  EXPECT_EQ(v.events[1].url, "https://p");
  EXPECT_FALSE(v.events[1].keep);
  EXPECT_EQ(v.events[2].news, "N1");

  Split s{{100, 200}, {200, 300}};
  Split s2;
  ASSERT_EQ(split_from_json(nlohmann::json::parse(to_json_text(s)), s2), "");
  EXPECT_EQ(s2.test.end, 300);

  UserInterests ui{"u0123456789abcdef", {{"nfl", 0.25, true}, {"hiking", 0.1, false}}};
  UserInterests ui2;
  ASSERT_EQ(interests_from_json(nlohmann::json::parse(to_json_line(ui)), ui2), "");
  EXPECT_EQ(ui2.interests[1].subtopic, "hiking");
  EXPECT_FALSE(ui2.interests[1].long_term);
}

TEST_F(SchemaTest, NewsReaderReportsEveryBadLineWithItsNumber) {
  const std::string good =
      R"({"id":"N1","title":"t","abstract":"","category":"c","subcategory":"s","published":"2026-10-05T14:03:00Z"})";
  const std::string path =
      write("news.jsonl", good + "\n" +                                                       // 1 ok
                              "{\"id\":\"N2\",\"title\":\n" +                                  // 2 malformed
                              R"({"id":"N3","abstract":"","category":"c","subcategory":"s","published":"2026-10-05T14:03:00Z"})" +
                              "\n" +                                                           // 3 missing title
                              good + "\n" +                                                    // 4 duplicate
                              "{\"id\":\"N5\",\"title\":\"bad \xC3\x28\"}\n" +                 // 5 invalid UTF-8
                              "\n" +                                                           // 6 empty
                              R"({"id":"N7","title":"t","abstract":"","category":"c","subcategory":"s","published":"2026-10-05"})" +
                              "\n" +                                                           // 7 bad time
                              R"({"id":"N8","title":"t","abstract":"","category":"c","subcategory":"s","published":"2030-01-01T00:00:00Z"})" +
                              "\n" +                                                           // 8 outside windows
                              "[1,2]\n");                                                      // 9 not an object
  const Split split{{*parse_time("2026-10-01T00:00:00Z"), *parse_time("2026-10-29T00:00:00Z")},
                    {*parse_time("2026-10-29T00:00:00Z"), *parse_time("2026-11-05T00:00:00Z")}};
  const auto issues = collect_news(path, &split);
  ASSERT_EQ(issues.size(), 8u);
  const std::vector<std::pair<int, std::string>> expected = {
      {2, "malformed JSON"}, {3, "missing field \"title\""}, {4, "duplicate article id \"N1\""},
      {5, "invalid UTF-8 at byte"}, {6, "empty line"}, {7, "is not a time like"},
      {8, "outside the windows"}, {9, "must be a JSON object"}};
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(issues[i].line, expected[i].first);
    EXPECT_NE(issues[i].message.find(expected[i].second), std::string::npos) << issues[i].str();
    EXPECT_EQ(issues[i].str().rfind(path + ":" + std::to_string(expected[i].first) + ": ", 0), 0u) << issues[i].str();
  }
}

TEST_F(SchemaTest, LoaderThrowsTheFirstProblemAsOneLine) {
  const std::string path = write("news.jsonl", "{\"id\":\"N1\"}\n");
  try {
    load_news(path);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), path + ":1: missing field \"title\"");
    EXPECT_EQ(e.issue().line, 1);
  }
  EXPECT_THROW(load_news((dir_ / "absent.jsonl").string()), std::invalid_argument);
  const std::string users = write("users.jsonl", R"({"user":"u0000000000000001","events":[]})" "\n" R"({"user":"u1"})" "\n");
  try {
    load_users(users);
    FAIL() << "no error";
  } catch (const DataError& e) {
    EXPECT_EQ(std::string(e.what()), users + ":2: field \"user\" = \"u1\" is not a hashed id (\"u\" and 16 lowercase hex digits)");
  }
}

TEST_F(SchemaTest, UsersReaderChecksWindowsIdsOrderAndKnownNews) {
  const Split split{{1000, 2000}, {2000, 3000}};
  const NewsCatalog news = {{"N1", 1000}, {"N2", 1500}};
  auto ev = [](const std::string& domain, std::int64_t t, const std::string& field, const std::string& value) {
    return R"({"domain":")" + domain + R"(","time":")" + format_time(t) + R"(",")" + field + R"(":")" + value + "\"}";
  };
  const std::string ok = R"({"user":"u0000000000000001","events":[)" + ev("search", 1100, "text", "q") + "," +
                         ev("browse", 1200, "title", "Page") + "," + ev("news", 1600, "news", "N2") + "]}";
  const std::string path = write(
      "users.jsonl",
      ok + "\n" +
          R"({"user":"u0000000000000002","events":[)" + ev("news", 1100, "news", "N9") + "]}\n" +      // 2 unknown id
          R"({"user":"u0000000000000003","events":[)" + ev("search", 2500, "text", "q") + "]}\n" +     // 3 outside train
          R"({"user":"u0000000000000004","events":[)" + ev("search", 1500, "text", "q") + "," +
          ev("search", 1400, "text", "q") + "]}\n" +                                                    // 4 unsorted
          R"({"user":"alice","events":[]})" + "\n" +                                                    // 5 raw id
          R"({"user":"u0000000000000006","events":[{"domain":"mail","time":"2026-10-05T14:03:00Z"}]})" + "\n" +  // 6
          R"({"user":"u0000000000000007","events":[)" + ev("news", 1100, "news", "N2") + "]}\n" +      // 7 before publication
          ok + "\n" +                                                                                   // 8 duplicate user
          R"({"user":"u0000000000000009","events":[{"domain":"search","time":"1970-01-01T00:16:40Z"}]})" + "\n");  // 9 no text
  std::vector<DataIssue> issues;
  UsersReader reader(path, [&](const DataIssue& i) { issues.push_back(i); }, {&split, &news});
  User u;
  int good = 0;
  while (reader.next(u)) ++good;
  EXPECT_EQ(good, 1);
  const std::vector<std::pair<int, std::string>> expected = {
      {2, "unknown news id \"N9\""}, {3, "outside the train window"}, {4, "not sorted by time"},
      {5, "is not a hashed id"},     {6, "is not search, browse or news"}, {7, "before its publication"},
      {8, "duplicate user"},         {9, "missing field \"text\""}};
  ASSERT_EQ(issues.size(), expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    EXPECT_EQ(issues[i].line, expected[i].first) << issues[i].str();
    EXPECT_NE(issues[i].message.find(expected[i].second), std::string::npos) << issues[i].str();
  }
}

TEST_F(SchemaTest, TruthReaderChecksItemsAndUsers) {
  const Split split{{1000, 2000}, {2000, 3000}};
  const NewsCatalog news = {{"N1", 1000}, {"N2", 2500}};
  const std::unordered_set<std::string> users = {"u0000000000000001", "u0000000000000002"};
  const std::string path = write("truth.jsonl",
                                 R"({"user":"u0000000000000001","items":["N2"]})"
                                 "\n"
                                 R"({"user":"u0000000000000002","items":["N1","N7"]})"
                                 "\n"
                                 R"({"user":"u0000000000000003","items":[]})"
                                 "\n"
                                 R"({"user":"u0000000000000001","items":"N2"})"
                                 "\n");
  std::vector<DataIssue> issues;
  TruthReader reader(path, [&](const DataIssue& i) { issues.push_back(i); }, {&split, &news}, &users);
  Truth t;
  int good = 0;
  while (reader.next(t)) ++good;
  EXPECT_EQ(good, 1);
  ASSERT_EQ(issues.size(), 4u);
  EXPECT_EQ(issues[0].line, 2);
  EXPECT_NE(issues[0].message.find("outside the test window"), std::string::npos);
  EXPECT_NE(issues[1].message.find("unknown news id \"N7\""), std::string::npos);
  EXPECT_EQ(issues[2].line, 3);
  EXPECT_NE(issues[2].message.find("not in users.jsonl"), std::string::npos);
  EXPECT_EQ(issues[3].line, 4);
  EXPECT_NE(issues[3].message.find("must be a list"), std::string::npos);
}

TEST_F(SchemaTest, SplitFileIsChecked) {
  EXPECT_TRUE(read_split(write("a.json", to_json_text(Split{{0, 10}, {10, 20}}))));
  std::vector<DataIssue> issues;
  auto sink = [&](const DataIssue& i) { issues.push_back(i); };
  EXPECT_FALSE(read_split(write("b.json", R"({"train":{"start":"x"}})"), sink));
  EXPECT_FALSE(read_split(write("c.json", to_json_text(Split{{0, 30}, {10, 20}})), sink));
  EXPECT_FALSE(read_split(write("d.json", "{"), sink));
  ASSERT_EQ(issues.size(), 3u);
  EXPECT_NE(issues[0].message.find("is not a time"), std::string::npos) << issues[0].str();
  EXPECT_NE(issues[1].message.find("must end where or before"), std::string::npos);
  EXPECT_NE(issues[2].message.find("malformed JSON"), std::string::npos);
}

}  // namespace
}  // namespace newsrl::news

namespace newsrl::news {
namespace {

// Garbage of every kind must come back as problems, never as a crash or a
// different exception: random bytes, truncated records, deep nesting, wrong types.
TEST_F(SchemaTest, ReadersSurviveGarbage) {
  const std::string valid_user =
      R"({"user":"u0000000000000001","events":[{"domain":"search","time":"2026-10-05T14:03:00Z","text":"q","keep":true}]})";
  std::string text;
  std::uint64_t state = 12345;
  auto next = [&] { return state = state * 6364136223846793005ULL + 1442695040888963407ULL; };
  for (int i = 0; i < 300; ++i) {
    switch (i % 6) {
      case 0: {  // random bytes, newlines removed
        std::string junk(static_cast<std::size_t>(next() % 200), ' ');
        for (char& c : junk) c = static_cast<char>(next() >> 56);
        for (char& c : junk) c = c == '\n' ? ' ' : c;
        text += junk;
        break;
      }
      case 1: text += valid_user.substr(0, static_cast<std::size_t>(next() % valid_user.size())); break;
      case 2: text += i == 2 ? std::string(100000, '[') + std::string(100000, ']') : "[[[{\"user\":"; break;
      case 3: text += R"({"user":"u0000000000000001","events":[{"domain":"news","time":12,"news":["N1"]}]})"; break;
      case 4: text += R"({"user":null,"events":{}})"; break;
      default: text += R"({"user":"u0000000000000001","events":[[],null,{"domain":"browse","time":"2026-10-05T14:03:00Z","title":7}]})";
    }
    text += "\n";
  }
  const std::string path = write("garbage.jsonl", text);
  for (int kind = 0; kind < 3; ++kind) {
    std::int64_t issues = 0;
    auto sink = [&](const DataIssue&) { ++issues; };
    try {
      if (kind == 0) {
        UsersReader r(path, sink);
        User u;
        while (r.next(u)) {
        }
      } else if (kind == 1) {
        NewsReader r(path, sink);
        Article a;
        while (r.next(a)) {
        }
      } else {
        TruthReader r(path, sink);
        Truth t;
        while (r.next(t)) {
        }
      }
    } catch (const std::exception& e) {
      FAIL() << "reader " << kind << " threw: " << e.what();
    }
    EXPECT_EQ(issues, 300) << "reader " << kind;
  }
}

}  // namespace
}  // namespace newsrl::news
