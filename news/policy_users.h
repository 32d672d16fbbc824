// The users a policy writes query lists for (GRPO prompts, the reward-workers'
// signals, evaluation): every user of a cleaned dataset with at least one
// event left after cleaning, in file order, with the article titles their
// news events name. The same rule as `newsrl data sft`, so every stage sees
// the same users.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "news/schema.h"
#include "news/signals.h"

namespace newsrl::news {

struct PolicyUsers {
  NewsTitles titles;
  Split split;
  std::vector<User> users;     // cleaned_signals of each user kept, in file order
  std::int64_t read = 0;       // users read (at most max_users)
  std::int64_t no_signals = 0; // read, but nothing left after cleaning: left out
};

// Reads news.jsonl, split.json and users.jsonl from `dataset`; stops after
// `max_users` users (0: all). Throws std::invalid_argument (or the loaders'
// DataError) with one line on a problem.
PolicyUsers load_policy_users(const std::string& dataset, std::int64_t max_users = 0);

}  // namespace newsrl::news
