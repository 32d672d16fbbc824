// The teacher-scorer role (DESIGN.md, roles table): a frozen teacher
// CausalLM that scores sequences the student sampled — the teacher's
// log-prob of each sampled token, and on request its full log-prob rows
// (the whole vocabulary, or the top-k ids and values of each row). Scoring is
// models::score, the teacher's own scoring path, so what a scorer returns is
// bit for bit what the teacher model computes.
#pragma once

#include <boost/serialization/vector.hpp>
#include <cstdint>
#include <string>
#include <vector>

#include "actors/policy_actors.h"
#include "models/causal_lm.h"

namespace newsrl::actors {

// What to return besides the sampled tokens' log-probs.
enum class TeacherRows : int { none = 0, full = 1, top_k = 2 };

struct TeacherRequest {
  std::vector<std::vector<std::int32_t>> prompts, completions;
  int rows = static_cast<int>(TeacherRows::none);
  int top_k = 0;  // top_k rows only
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& prompts& completions& rows& top_k;
  }
};

// Per sequence; rows flattened token by token: full [tokens x vocab]; top-k
// [tokens x k] ids and log-probs, highest first (ties: lower id first).
struct TeacherScores {
  std::vector<std::vector<float>> logprobs;
  std::vector<std::vector<float>> rows;
  std::vector<std::vector<std::int32_t>> top_ids;
  std::vector<std::vector<float>> top_logprobs;
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& logprobs& rows& top_ids& top_logprobs;
  }
};

class TeacherScorer {
 public:
  explicit TeacherScorer(const PolicySource& teacher);
  TeacherScores score(const TeacherRequest& request);
  std::int64_t vocab_size() const { return model_.config().vocab_size; }
  static void expose(runtime::Methods<TeacherScorer>& m);

 private:
  models::CausalLM model_;
};

}  // namespace newsrl::actors
