// Placement resolution: how counts, lists and "all" map roles to ranks, and
// the one line each mistake gets.
#include "runtime/placement.h"

#include <gtest/gtest.h>
#include <toml++/toml.h>

#include "runtime/errors.h"

using namespace newsrl::runtime;

namespace {

const std::vector<std::string> kRoles = {"rollout", "reward", "learner", "teacher"};

PlacementSpec spec_of(const std::string& toml_text) {
  toml::table t = toml::parse(toml_text);
  return PlacementSpec::from_toml(t["placement"].as_table(), "run.toml [placement]", kRoles,
                                  {"rollout", "reward", "learner"});
}

std::string error_of(const std::string& toml_text, int world) {
  try {
    Placement::resolve(spec_of(toml_text), world);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Placement, EverythingSharesTheOnlyRank) {
  const Placement p = Placement::resolve(spec_of("[placement]\n"), 1);
  for (const auto& role : {"rollout", "reward", "learner"}) EXPECT_EQ(p.ranks_of(role), std::vector<int>{0});
  EXPECT_FALSE(p.ranks.contains("teacher"));  // not asked for, no default
  EXPECT_EQ(p.describe_rank(0), "driver, rollout, reward, learner");
}

TEST(Placement, CountsSpreadOverFreeRanksThenShare) {
  const Placement p = Placement::resolve(spec_of("[placement]\nrollout = 2\nreward = 1\nlearner = 2\n"), 4);
  EXPECT_EQ(p.ranks_of("rollout"), (std::vector<int>{0, 1}));
  EXPECT_EQ(p.ranks_of("reward"), (std::vector<int>{2}));
  EXPECT_EQ(p.ranks_of("learner"), (std::vector<int>{0, 3}));  // free rank 3 first, then the lowest least loaded
}

TEST(Placement, ExplicitListsAndAll) {
  const Placement p =
      Placement::resolve(spec_of("[placement]\nrollout = \"all\"\nreward = [3]\nlearner = [0, 2]\nteacher = 1\n"), 4);
  EXPECT_EQ(p.ranks_of("rollout"), (std::vector<int>{0, 1, 2, 3}));
  EXPECT_EQ(p.ranks_of("reward"), (std::vector<int>{3}));
  EXPECT_EQ(p.ranks_of("learner"), (std::vector<int>{0, 2}));
  EXPECT_EQ(p.ranks_of("teacher"), (std::vector<int>{1}));  // rank 1 carries one role, the others two
  EXPECT_EQ(p.roles_on(0), (std::vector<std::string>{"rollout", "learner"}));
}

TEST(Placement, ExclusiveGivesEveryRoleItsOwnRanks) {
  const Placement p =
      Placement::resolve(spec_of("[placement]\nexclusive = true\nrollout = 2\nreward = [0]\nlearner = 1\n"), 4);
  EXPECT_EQ(p.ranks_of("reward"), (std::vector<int>{0}));
  EXPECT_EQ(p.ranks_of("rollout"), (std::vector<int>{1, 2}));
  EXPECT_EQ(p.ranks_of("learner"), (std::vector<int>{3}));
}

TEST(Placement, UnknownRoleNamesTheKnownOnes) {
  EXPECT_EQ(error_of("[placement]\nrolout = 1\n", 2),
            "run.toml [placement] unknown role \"rolout\" (known roles: rollout, reward, learner, teacher)");
}

TEST(Placement, MoreRanksThanTheJobHas) {
  EXPECT_EQ(error_of("[placement]\nlearner = 4\n", 2),
            "run.toml [placement] learner asks for 4 ranks, but the job has 2 ranks (mpirun -np 2)");
  EXPECT_EQ(error_of("[placement]\nreward = [0, 5]\n", 4),
            "run.toml [placement] reward lists rank 5, but the job has 4 ranks (mpirun -np 4)");
  EXPECT_EQ(error_of("[placement]\ndriver = 3\n", 2),
            "run.toml [placement] driver = 3 is not a rank: the job has 2 ranks (mpirun -np 2)");
}

TEST(Placement, RoleWithNoRank) {
  EXPECT_EQ(error_of("[placement]\nlearner = 0\n", 2), "run.toml [placement] learner has no rank: it asks for 0");
  EXPECT_EQ(error_of("[placement]\nreward = []\n", 2), "run.toml [placement] reward has no rank: its list is empty");
}

TEST(Placement, OverlapsOnlyWhereAllowed) {
  EXPECT_EQ(error_of("[placement]\nreward = [1, 1]\n", 2), "run.toml [placement] reward lists rank 1 twice");
  // Sharing is how one rank runs everything; exclusive forbids it.
  EXPECT_NO_THROW(Placement::resolve(spec_of("[placement]\nreward = [1]\nlearner = [1]\n"), 2));
  EXPECT_EQ(error_of("[placement]\nexclusive = true\nreward = [1]\nlearner = [1]\nrollout = [0]\n", 2),
            "run.toml [placement] rank 1 is given to both reward and learner, but exclusive = true");
  EXPECT_EQ(error_of("[placement]\nexclusive = true\n", 2),
            "run.toml [placement] learner asks for 1 rank, but exclusive = true leaves 0 free of 2");
}

TEST(Placement, EveryMistakeGetsItsOwnLine) {
  const std::string e = error_of("[placement]\nrolout = 1\nlearner = 9\nreward = [7]\n", 2);
  EXPECT_EQ(std::count(e.begin(), e.end(), '\n'), 2) << e;
  EXPECT_NE(e.find("rolout"), std::string::npos);
  EXPECT_NE(e.find("learner asks for 9"), std::string::npos);
  EXPECT_NE(e.find("reward lists rank 7"), std::string::npos);
}

TEST(Placement, TypeMistakesNameTheLine) {
  try {
    spec_of("[placement]\nrollout = \"two\"\nlearner = [0, \"x\"]\n");
    FAIL() << "no error";
  } catch (const ConfigError& e) {
    EXPECT_STREQ(e.what(),
                 "run.toml [placement] line 2: rollout must be a rank count (2), a list of ranks ([0, 1]) or \"all\"\n"
                 "run.toml [placement] line 3: learner must list rank numbers, like [0, 1]");
  }
}

TEST(Placement, ResolvedPlacementReadsBackTheSame) {
  const Placement p = Placement::resolve(spec_of("[placement]\nrollout = 2\nteacher = [3]\n"), 4);
  const Placement q = Placement::resolve(spec_of(p.to_toml()), 4);
  EXPECT_EQ(p.ranks, q.ranks);
  EXPECT_EQ(p.driver, q.driver);
}

TEST(Placement, AnyRoleNameWhenTheApplicationNamesNone) {
  const Placement p = Placement::resolve(PlacementSpec{}.add("echo", 2).add_all("node"), 3);
  EXPECT_EQ(p.ranks_of("echo"), (std::vector<int>{0, 1}));
  EXPECT_EQ(p.ranks_of("node"), (std::vector<int>{0, 1, 2}));
}
