// `newsrl world`: the synthetic cross-domain world (docs/world.md). Articles
// first (their publish times and popularity stay in memory, their text goes
// straight to news.jsonl), then users in chunks generated in parallel and
// written in order, so memory stays flat in the number of users and the bytes
// depend only on the config and seed, never on the thread count.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>

#include "news/schema.h"
#include "news/taxonomy.h"
#include "news/world_config.h"

namespace newsrl::news {

struct WorldStats {
  std::int64_t users = 0, news = 0, news_train = 0, news_test = 0;
  std::array<std::int64_t, 3> events{};         // by Domain
  std::array<std::int64_t, 3> max_events{};     // the most any user has, by Domain
  std::int64_t noise_events = 0;                // keep == false
  std::int64_t annotator_disagreements = 0;     // annotator != keep
  std::int64_t cold_users = 0;                  // at most 3 news events (the schema's definition)
  std::int64_t truth_users = 0, truth_clicks = 0;
  Split split;
};

// Called after each phase step: ("news"|"users", done, total).
using WorldProgress = std::function<void(const char* phase, std::int64_t done, std::int64_t total)>;

// Writes news.jsonl, users.jsonl, split.json, truth.jsonl, interests.jsonl
// and stats.json (counts and the resolved config) into `out_dir` (created when
// absent). Each file is written under a temporary name and renamed when
// complete, so an interrupted run leaves earlier files as they were.
// Throws std::invalid_argument on a bad config or an unwritable folder.
WorldStats generate_world(const WorldConfig& config, const Taxonomy& taxonomy, const std::string& out_dir,
                          const WorldProgress& progress = {});

// The per-user event-count means before the cap that make the capped means
// equal the targets (exposed for the tests): {search, browse, warm-user news}.
std::array<double, 3> calibrated_means(const WorldConfig& config);

}  // namespace newsrl::news
