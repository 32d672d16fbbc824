#include "news/world_config.h"

#include <nlohmann/json.hpp>

#include "news/schema.h"

namespace newsrl::news {

std::vector<std::string> WorldConfig::problems() const {
  std::vector<std::string> out;
  auto need = [&](bool ok, const char* key, const std::string& what) {
    if (!ok) out.push_back(std::string("[world] ") + key + ": " + what);
  };
  need(users >= 1 && users <= 100'000'000, "users", "must be 1..100000000");
  need(news >= 10 && news <= 100'000'000, "news", "must be 10..100000000");
  need(parse_time(start).has_value(), "start", "must be a time like 2026-09-07T00:00:00Z");
  need(train_days >= 1 && train_days <= 3650, "train_days", "must be 1..3650");
  need(test_days >= 1 && test_days <= 3650, "test_days", "must be 1..3650");
  need(max_per_domain >= 1 && max_per_domain <= 100000, "max_per_domain", "must be 1..100000");
  for (auto [key, v] : {std::pair{"search_mean", search_mean}, {"browse_mean", browse_mean}, {"news_mean", news_mean}})
    need(v >= 0 && v < static_cast<double>(max_per_domain), key, "must be at least 0 and below max_per_domain");
  need(news_mean > 1.5 * cold_share, "news_mean", "must exceed the cold users' 1.5 clicks");
  need(activity_sigma >= 0 && activity_sigma <= 3, "activity_sigma", "must be 0..3");
  for (auto [key, v] : {std::pair{"cold_share", cold_share}, {"noise_rate", noise_rate},
                        {"annotator_error", annotator_error}, {"short_term_share", short_term_share},
                        {"test_popular_share", test_popular_share}})
    need(v >= 0 && v <= 1, key, "must be 0..1");
  need(cold_share < 1, "cold_share", "must be below 1");
  need(long_term_min >= 1 && long_term_min <= long_term_max, "long_term_min", "must be 1..long_term_max");
  need(long_term_max <= 64, "long_term_max", "must be at most 64");
  need(short_term_max >= 0 && short_term_max <= 16, "short_term_max", "must be 0..16");
  need(short_term_days > 0 && short_term_days <= static_cast<double>(train_days), "short_term_days",
       "must be above 0 and at most train_days");
  need(test_clicks_mean >= 0 && test_clicks_mean < static_cast<double>(max_per_domain), "test_clicks_mean",
       "must be at least 0 and below max_per_domain");
  need(popularity_alpha >= 0.5 && popularity_alpha <= 10, "popularity_alpha", "must be 0.5..10");
  need(freshness_hours > 0 && freshness_hours <= 24.0 * 365, "freshness_hours", "must be above 0, at most a year");
  return out;
}

nlohmann::json WorldConfig::to_json() const {
  nlohmann::json j = nlohmann::json::object();
  for (const WorldKey& k : world_keys()) {
    std::visit([&](auto field) { j[k.name] = this->*field; }, k.field);
  }
  return j;
}

const std::vector<WorldKey>& world_keys() {
  using C = WorldConfig;
  static const std::vector<WorldKey> keys = {
      {"users", &C::users},
      {"news", &C::news},
      {"seed", &C::seed},
      {"start", &C::start},
      {"train_days", &C::train_days},
      {"test_days", &C::test_days},
      {"search_mean", &C::search_mean},
      {"browse_mean", &C::browse_mean},
      {"news_mean", &C::news_mean},
      {"max_per_domain", &C::max_per_domain},
      {"activity_sigma", &C::activity_sigma},
      {"cold_share", &C::cold_share},
      {"long_term_min", &C::long_term_min},
      {"long_term_max", &C::long_term_max},
      {"short_term_max", &C::short_term_max},
      {"short_term_days", &C::short_term_days},
      {"short_term_share", &C::short_term_share},
      {"noise_rate", &C::noise_rate},
      {"annotator_error", &C::annotator_error},
      {"test_clicks_mean", &C::test_clicks_mean},
      {"test_popular_share", &C::test_popular_share},
      {"popularity_alpha", &C::popularity_alpha},
      {"freshness_hours", &C::freshness_hours},
      {"taxonomy", &C::taxonomy},
  };
  return keys;
}

}  // namespace newsrl::news
