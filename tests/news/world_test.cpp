// The synthetic world: its statistics hit their targets on a small world, the
// same seed gives the same bytes (whatever the thread count), the output
// passes `data check`, and the taxonomy has the promised breadth.
#include "news/world.h"

#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "news/dataset_check.h"

namespace newsrl::news {
namespace {

namespace fs = std::filesystem;

std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

class WorldTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("newsrl_world_" + std::string(::testing::UnitTest::GetInstance()->current_test_info()->name()));
    fs::remove_all(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  fs::path make(const std::string& name, const WorldConfig& c) {
    generate_world(c, Taxonomy::builtin(), (dir_ / name).string());
    return dir_ / name;
  }
  static WorldConfig small() {
    WorldConfig c;
    c.users = 1500;
    c.news = 4000;
    c.seed = 7;
    return c;
  }
  fs::path dir_;
};

TEST(Taxonomy, BuiltInHasTheBreadthOfMind) {
  const Taxonomy t = Taxonomy::builtin();
  EXPECT_GE(t.categories.size(), 15u);
  EXPECT_GE(t.subtopics.size(), 150u);
  std::vector<std::pair<double, std::string>> by_weight;
  for (const Category& c : t.categories) by_weight.emplace_back(c.weight, c.name);
  std::sort(by_weight.rbegin(), by_weight.rend());
  const std::set<std::string> top2 = {by_weight[0].second, by_weight[1].second};
  EXPECT_EQ(top2, (std::set<std::string>{"news", "sports"}));
  for (const char* name : {"finance", "lifestyle", "travel", "foodanddrink", "health", "autos", "weather", "tv",
                           "music", "movies", "video", "kids", "entertainment"}) {
    EXPECT_TRUE(std::any_of(t.categories.begin(), t.categories.end(), [&](const Category& c) { return c.name == name; }))
        << name;
  }
  for (const Subtopic& s : t.subtopics) {
    EXPECT_GE(s.terms.size(), 3u) << s.name;
    EXPECT_FALSE(s.people.empty() || s.orgs.empty() || s.places.empty()) << s.name;
  }
}

TEST(Taxonomy, BadFilesSayWhatIsWrong) {
  auto message = [](const std::string& text) {
    try {
      Taxonomy::parse(text, "tax.json");
    } catch (const std::invalid_argument& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("{").find("tax.json: malformed JSON"), std::string::npos);
  EXPECT_NE(message(R"({"categories":[]})").find("non-empty list \"categories\""), std::string::npos);
  const std::string sub = R"({"name":"a","label":"A","terms":["x","y"],"people":["p"],"orgs":["o"],"places":["l"]})";
  EXPECT_NE(message(R"({"categories":[{"name":"c","weight":1,"subtopics":[)" + sub + "," + sub + "]}]}")
                .find("categories[0].subtopics[1].name \"a\" is used twice"),
            std::string::npos);
  EXPECT_NE(message(R"({"categories":[{"name":"c","weight":0,"subtopics":[)" + sub + "]}]}").find("weight"),
            std::string::npos);
  EXPECT_EQ(message(R"({"categories":[{"name":"c","weight":2,"subtopics":[)" + sub + "]}]}"), "no error");
}

TEST(WorldConfig, ProblemsNameTheKey) {
  WorldConfig c;
  EXPECT_TRUE(c.problems().empty());
  c.noise_rate = 1.5;
  c.start = "yesterday";
  c.long_term_min = 9;
  const auto p = c.problems();
  ASSERT_EQ(p.size(), 3u);
  EXPECT_EQ(p[0], "[world] start: must be a time like 2026-09-07T00:00:00Z");
  EXPECT_NE(p[1].find("[world] noise_rate"), std::string::npos);
  EXPECT_NE(p[2].find("[world] long_term_min"), std::string::npos);
  EXPECT_THROW(generate_world(c, Taxonomy::builtin(), "/tmp/never-written"), std::invalid_argument);
  EXPECT_FALSE(fs::exists("/tmp/never-written"));
}

TEST_F(WorldTest, StatisticsHitTheirTargets) {
  const WorldConfig c = small();
  const fs::path out = make("w", c);
  const Taxonomy tax = Taxonomy::builtin();

  std::map<std::string, std::set<std::string>> vocab;  // user → words of their interests, lower case
  std::map<std::string, std::size_t> long_terms;
  {
    InterestsReader reader((out / kInterestsFile).string());
    UserInterests ui;
    while (reader.next(ui)) {
      for (const Interest& in : ui.interests) {
        const Subtopic& s = tax.subtopics[tax.find(in.subtopic)];
        long_terms[ui.user] += in.long_term;
        for (const auto* list : {&s.terms, &s.people, &s.orgs, &s.places})
          for (const std::string& w : *list) vocab[ui.user].insert(lower(w));
        vocab[ui.user].insert(lower(s.label));
      }
    }
  }
  std::set<std::string> titles;
  NewsCatalog published;
  {
    NewsReader reader((out / kNewsFile).string());
    Article a;
    while (reader.next(a)) titles.insert(lower(a.title));
    published = reader.take_catalog();
  }

  std::array<double, 3> sum{};
  std::int64_t users = 0, cold = 0, events = 0, dropped = 0, disagree = 0, clicks = 0, fresh = 0;
  std::int64_t kept_queries = 0, on_topic_queries = 0, copied = 0;
  UsersReader reader((out / kUsersFile).string());
  User u;
  while (reader.next(u)) {
    ++users;
    std::array<std::int64_t, 3> n{};
    for (const Event& e : u.events) {
      ++n[static_cast<std::size_t>(e.domain)];
      ++events;
      ASSERT_TRUE(e.keep && e.annotator);
      dropped += !*e.keep;
      disagree += *e.keep != *e.annotator;
      if (e.domain == Domain::news) {
        ++clicks;
        fresh += e.time - published.at(e.news) < 2 * 86400;
      } else {
        copied += titles.contains(lower(e.text));
      }
      if (e.domain == Domain::search && *e.keep) {
        ++kept_queries;
        bool on_topic = false;
        for (const std::string& w : vocab[u.id]) on_topic = on_topic || lower(e.text).find(w) != std::string::npos;
        on_topic_queries += on_topic;
      }
    }
    for (std::size_t d = 0; d < 3; ++d) {
      EXPECT_LE(n[d], 50) << u.id;
      sum[d] += static_cast<double>(n[d]);
    }
    cold += n[static_cast<std::size_t>(Domain::news)] <= 3;
    const std::size_t lt = long_terms[u.id];
    EXPECT_TRUE(lt >= 2 && lt <= 8) << u.id << " has " << lt << " long-term interests";
  }
  ASSERT_EQ(users, c.users);
  const double n_users = static_cast<double>(users);
  EXPECT_NEAR(sum[static_cast<std::size_t>(Domain::search)] / n_users, 13.0, 1.0);
  EXPECT_NEAR(sum[static_cast<std::size_t>(Domain::browse)] / n_users, 37.0, 1.5);
  EXPECT_NEAR(sum[static_cast<std::size_t>(Domain::news)] / n_users, 39.0, 1.5);
  EXPECT_NEAR(static_cast<double>(cold) / n_users, 0.15, 0.03);
  EXPECT_NEAR(static_cast<double>(dropped) / static_cast<double>(events), 0.25, 0.02);
  EXPECT_NEAR(static_cast<double>(disagree) / static_cast<double>(events), 0.10, 0.01);
  EXPECT_GT(static_cast<double>(fresh) / static_cast<double>(clicks), 0.8);  // most clicks within two days
  // Search speaks of the user's interests, in words of its own: no query or page title is a news title.
  EXPECT_GT(static_cast<double>(on_topic_queries) / static_cast<double>(kept_queries), 0.95);
  EXPECT_EQ(copied, 0);

  const nlohmann::json stats = nlohmann::json::parse(read_file(out / kStatsFile));
  EXPECT_EQ(stats["users"], c.users);
  EXPECT_EQ(stats["seed"], c.seed);
  EXPECT_EQ(stats["config"]["noise_rate"], 0.25);
  EXPECT_NEAR(stats["events"]["news"]["per_user"].get<double>(), sum[2] / n_users, 1e-9);
  EXPECT_GT(stats["clicks_per_test_user"].get<double>(), 4.0);
  EXPECT_GT(stats["truth_users"].get<std::int64_t>(), users * 9 / 10);
}

TEST_F(WorldTest, PassesTheDataCheck) {
  WorldConfig c = small();
  c.users = 400;
  const CheckReport r = check_dataset(make("w", c).string());
  for (const auto& i : r.shown) ADD_FAILURE() << i.str();
  EXPECT_EQ(r.counts.users, 400);
  EXPECT_EQ(r.counts.news, c.news);
  EXPECT_GT(r.counts.truth_users, 0);
}

TEST_F(WorldTest, SameSeedSameBytesWhateverTheThreads) {
  WorldConfig c = small();
  c.users = 300;
  c.news = 1000;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const fs::path a = make("a", c);
  omp_set_num_threads(std::max(2, threads));
  const fs::path b = make("b", c);
  omp_set_num_threads(threads);
  for (const char* f : {kNewsFile, kUsersFile, kTruthFile, kInterestsFile, kSplitFile, kStatsFile}) {
    EXPECT_EQ(read_file(a / f), read_file(b / f)) << f;
  }
  c.seed = 8;
  const fs::path d = make("d", c);
  EXPECT_NE(read_file(a / kUsersFile), read_file(d / kUsersFile));
  EXPECT_NE(read_file(a / kNewsFile), read_file(d / kNewsFile));
}

TEST_F(WorldTest, ConfigurableShares) {
  WorldConfig c = small();
  c.users = 800;
  c.cold_share = 0.5;
  c.noise_rate = 0.0;
  c.annotator_error = 0.0;
  const CheckReport r = check_dataset(make("w", c).string());
  EXPECT_TRUE(r.ok());
  EXPECT_NEAR(r.counts.cold_share(), 0.5, 0.05);
  const nlohmann::json stats = nlohmann::json::parse(read_file(dir_ / "w" / kStatsFile));
  // Only the rare click whose interests have no article yet in a small world is marked off-interest.
  EXPECT_LT(stats["noise_share"].get<double>(), 0.001);
  EXPECT_EQ(stats["annotator_disagreement"].get<double>(), 0.0);
}

TEST_F(WorldTest, AnotherTaxonomyEvenATinyOne) {
  const Taxonomy tiny = Taxonomy::parse(
      R"({"categories":[{"name":"big","weight":1,"subtopics":[
           {"name":"alpha","label":"alpha things","terms":["alpha one","alpha two"],"people":["Al"],"orgs":["A Co"],"places":["Aville"]},
           {"name":"beta","label":"beta things","terms":["beta one","beta two"],"people":["Bo"],"orgs":["B Co"],"places":["Btown"]}]},
         {"name":"rare","weight":1e-12,"subtopics":[
           {"name":"gamma","label":"gamma things","terms":["gamma one","gamma two"],"people":["Gi"],"orgs":["G Co"],"places":["Gburg"]}]}]})",
      "tiny");
  WorldConfig c = small();
  c.users = 200;
  c.news = 300;
  generate_world(c, tiny, (dir_ / "w").string());
  const CheckReport r = check_dataset((dir_ / "w").string());
  for (const auto& i : r.shown) ADD_FAILURE() << i.str();
  EXPECT_EQ(r.counts.users, 200);
  EXPECT_EQ(read_file(dir_ / "w" / kNewsFile).find("gamma"), std::string::npos);  // weight 1e-12: never drawn
}

TEST(WorldCalibration, CappedMeansComeOutAtTheTargets) {
  const WorldConfig c;
  const auto m = calibrated_means(c);
  // The pre-cap means must exceed the targets (the cap takes some away). Warm users carry the
  // news mean for the cold ones: (39 - 0.15 * 1.5) / 0.85 = 45.6 under a cap of 50 needs a high mean.
  EXPECT_GT(m[0], 13.0);
  EXPECT_LT(m[0], 16.0);
  EXPECT_GT(m[1], 37.0);
  EXPECT_GT(m[2], 39.0);
  EXPECT_LT(m[2], 120.0);
}

}  // namespace
}  // namespace newsrl::news
