// The synthetic world's knobs: one field per key of the TOML [world] table
// (every key documented in docs/world.md), with the defaults of the
// quickstart world and the paper's per-user figures.
#pragma once

#include <cstdint>
#include <nlohmann/json_fwd.hpp>
#include <string>
#include <variant>
#include <vector>

namespace newsrl::news {

struct WorldConfig {
  std::int64_t users = 2000;
  std::int64_t news = 5000;
  std::uint64_t seed = 1;
  std::string start = "2026-09-07T00:00:00Z";  // first instant of the train window (a Monday)
  std::int64_t train_days = 28;
  std::int64_t test_days = 7;
  double search_mean = 13;        // events per user, before the per-domain cap
  double browse_mean = 37;
  double news_mean = 39;
  std::int64_t max_per_domain = 50;
  double activity_sigma = 0.6;    // log-normal spread of per-user activity (the long tail)
  double cold_share = 0.15;       // users with at most 3 news clicks
  std::int64_t long_term_min = 2;
  std::int64_t long_term_max = 8;
  std::int64_t short_term_max = 2;     // short-lived interests per user: 0..this
  double short_term_days = 5;          // how long one lasts (mean)
  double short_term_share = 0.35;      // share of signals that go to an active short-lived interest
  double noise_rate = 0.25;            // share of signals that are noise (keep = false)
  double annotator_error = 0.10;       // chance the annotator label differs from keep
  double test_clicks_mean = 8;         // future clicks per user in the test window (mean, before the cap)
  double test_popular_share = 0.10;    // share of future clicks on popular articles outside the interests
  double popularity_alpha = 1.1;       // Pareto tail of article popularity (smaller: more skewed)
  double freshness_hours = 18;         // mean age of an article when clicked
  std::string taxonomy;                // empty: the built-in one

  // Every problem with the values, one line each ("[world] key: what is wrong").
  std::vector<std::string> problems() const;
  nlohmann::json to_json() const;
};

// The keys of [world] in documentation order, each naming its field, so that
// the command line reads the table (and stats.json writes it) without a list
// of its own.
struct WorldKey {
  const char* name;
  std::variant<std::int64_t WorldConfig::*, std::uint64_t WorldConfig::*, double WorldConfig::*,
               std::string WorldConfig::*>
      field;
};
const std::vector<WorldKey>& world_keys();

}  // namespace newsrl::news
