// Rankings JSONL: one line per user, {"user":"u…","items":["N3","N9",…]}, the
// ranked article ids best first. The format `newsrl eval rankings` reads and
// `newsrl eval heuristic` writes.
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

namespace newsrl::news {

struct Ranking {
  std::string user;
  std::vector<std::string> items;
};

// Reads a rankings file; one clear line `FILE:LINE: what is wrong` on the
// first malformed line or on a user ranked twice. Blank lines are skipped.
std::unordered_map<std::string, std::vector<std::string>> read_rankings(const std::string& path);

// Writes the rankings in the given order to a temporary file, then renames it
// over `path`, so that a failure never leaves a half-written file behind.
void write_rankings(const std::string& path, const std::vector<Ranking>& rankings);

}  // namespace newsrl::news
