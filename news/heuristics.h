// Two reference recall paths that need no model, the yardsticks for the
// learned one (docs/retrieval.md):
//  - popular: one list for everybody, the test window's articles ordered by
//    how often their subtopic was clicked in the last days of the training
//    window;
//  - recent-searches: a user's own last search queries sent to the index
//    restricted to the test window, result lists merged round-robin.
// Neither reads truth.jsonl or interests.jsonl.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "news/news_index.h"
#include "news/rankings.h"
#include "news/schema.h"

namespace newsrl::news {

struct HeuristicOptions {
  int recent_days = 7;    // popular: clicks counted in the last days of the train window
  int max_searches = 5;   // recent-searches: the user's most recent queries used
};

// What the heuristics read from a dataset folder: news, split, and per user
// only what they need (users.jsonl is streamed, never held whole).
struct HeuristicInput {
  std::vector<Article> news;
  Split split;
  std::vector<std::string> users;                          // in file order
  std::vector<std::vector<std::string>> recent_searches;   // per user, most recent first
  std::vector<std::int64_t> news_events;                   // per user, news events in the train window
  std::map<std::string, std::int64_t> subtopic_clicks;     // recent training clicks per subcategory
};

// Reads news.jsonl, split.json and users.jsonl of `world_dir`.
HeuristicInput read_heuristic_input(const std::string& world_dir, const HeuristicOptions& options);

// The popular list: at most `length` test-window articles, best first.
std::vector<std::string> popular_list(const HeuristicInput& input, int length);

// One ranking per user (users without searches get an empty list).
std::vector<Ranking> popular_rankings(const HeuristicInput& input, int length);
std::vector<Ranking> recent_search_rankings(const HeuristicInput& input, const NewsIndex& index, int length,
                                            const std::string& window = "test");

// Round-robin merge: the first item of every list, then the second, ...;
// an item already taken is skipped; stops at `length`.
std::vector<std::string> merge_round_robin(const std::vector<std::vector<std::string>>& lists, int length);

}  // namespace newsrl::news
