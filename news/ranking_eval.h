// Scores rankings against a dataset's truth file, with cold/warm segments
// from users.jsonl: the file side of `newsrl eval` (metrics in news/metrics.h).
#pragma once

#include <string>
#include <unordered_map>
#include <vector>

#include "news/metrics.h"

namespace newsrl::news {

// truth.jsonl through the schema's validating reader (FILE:LINE on a problem).
std::vector<UserTruth> read_truth(const std::string& path);

// Users known from users.jsonl and their segment ("cold": at most 3 news
// events in the train window; "warm" otherwise).
struct UserSegments {
  std::vector<std::string> users;
  std::unordered_map<std::string, std::string> segment_of;
};
UserSegments read_segments(const std::string& users_path);

// Scores `rankings` against `truth`. With segments, a truth user missing from
// users.jsonl has no news events there and so counts as cold.
EvalReport evaluate_rankings(const std::unordered_map<std::string, std::vector<std::string>>& rankings,
                             const std::vector<UserTruth>& truth, const std::vector<int>& cutoffs,
                             const UserSegments* segments);

}  // namespace newsrl::news
