// `newsrl data check`: reads a whole dataset folder with the schema's readers
// in checking mode, so every problem is found (not just the first), and
// counts what is there.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "news/schema.h"

namespace newsrl::news {

struct DatasetCounts {
  std::int64_t news = 0, users = 0, cold_users = 0, truth_users = 0, truth_items = 0, interests_users = 0;
  std::array<std::int64_t, 3> events{};  // by Domain
  double cold_share() const { return users ? static_cast<double>(cold_users) / static_cast<double>(users) : 0.0; }
};

struct CheckReport {
  DatasetCounts counts;
  std::vector<DataIssue> shown;  // the first `max_shown` problems, in file order
  std::int64_t issue_count = 0;  // all problems
  bool ok() const { return issue_count == 0; }
};

// Told now and then how far the check is: the file, bytes read of it, its size.
using CheckProgress = std::function<void(const std::string& file, std::uint64_t done, std::uint64_t total)>;

// Checks DIR's split.json, news.jsonl, users.jsonl, truth.jsonl (and
// interests.jsonl when present). Never throws on bad data; a missing folder
// is a problem like any other.
CheckReport check_dataset(const std::string& dir, std::size_t max_shown = 20, ReadLimits limits = {},
                          const CheckProgress& progress = {});

}  // namespace newsrl::news
