// Rankings scored against truth.jsonl with segments from users.jsonl (news/ranking_eval.h).
#include "news/ranking_eval.h"

#include "news/schema.h"

namespace newsrl::news {

std::vector<UserTruth> read_truth(const std::string& path) {
  TruthReader reader(path);
  std::vector<UserTruth> out;
  Truth t;
  while (reader.next(t)) out.push_back({std::move(t.user), std::move(t.items)});
  return out;
}

UserSegments read_segments(const std::string& users_path) {
  UsersReader reader(users_path);
  UserSegments out;
  User u;
  while (reader.next(u)) {
    out.segment_of.emplace(u.id, is_cold(u) ? "cold" : "warm");
    out.users.push_back(std::move(u.id));
  }
  return out;
}

EvalReport evaluate_rankings(const std::unordered_map<std::string, std::vector<std::string>>& rankings,
                             const std::vector<UserTruth>& truth, const std::vector<int>& cutoffs,
                             const UserSegments* segments) {
  if (segments == nullptr) return evaluate(truth, rankings, cutoffs);
  std::unordered_map<std::string, std::string> segment_of = segments->segment_of;
  for (const UserTruth& t : truth) segment_of.try_emplace(t.user, "cold");
  return evaluate(truth, rankings, cutoffs, segment_of, segments->users);
}

}  // namespace newsrl::news
