// `newsrl import-mind`: the Microsoft News Dataset's TSVs into the schema.
// news.tsv rows become articles; each behaviors.tsv row's history and clicked
// impressions become news events; the last days become the test window, whose
// clicks go to truth.jsonl. Raw user ids are hashed (user_hash.h) as soon as
// they are read and never written. docs/data-format.md describes the choices
// MIND leaves open (history times, publish times).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "news/schema.h"

namespace newsrl::news {

struct MindImportOptions {
  std::string news_tsv, behaviors_tsv, out_dir;
  std::string salt = "newsrl";   // the user-id hash key's salt
  std::int64_t test_days = 1;     // the last days of impressions form the test window
  std::int64_t history_days = 7;  // the train window starts this many days before the first impression
  bool skip_bad_rows = false;     // false: any malformed row stops the import before anything is written
  std::size_t max_shown = 20;     // malformed rows listed (all are counted)
  ReadLimits limits{std::size_t{64} << 20};
};

struct MindImportReport {
  std::int64_t news_rows = 0, behavior_rows = 0, bad_rows = 0;
  std::vector<DataIssue> bad_rows_shown;
  std::int64_t users = 0, history_clicks = 0, train_clicks = 0, test_clicks = 0;
  std::int64_t truth_users = 0, truth_items = 0;
  std::int64_t test_clicks_on_older_news = 0;  // dropped: truth holds articles published in the test window
  std::int64_t missing_id_uses = 0, missing_ids = 0;  // ids in behaviors.tsv that news.tsv lacks (skipped)
  std::vector<std::string> missing_examples;          // the first few such ids
  std::int64_t unlabeled_impressions = 0;             // "N123" without -0/-1 (MIND's test set): shown, not clicked
  Split split;
  bool written = false;
};

// Reads both files, then (unless bad rows stop it) writes news.jsonl,
// users.jsonl, split.json, truth.jsonl and stats.json into out_dir. Throws
// std::invalid_argument when a file cannot be read or written or when no row
// is usable.
MindImportReport import_mind(const MindImportOptions& options);

// "MM/DD/YYYY hh:mm:ss AM|PM" (month, day and hour may have one digit), UTC.
std::optional<std::int64_t> parse_mind_time(std::string_view text);

}  // namespace newsrl::news
