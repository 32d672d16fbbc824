#include "actors/teacher_scorer.h"

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "models/generation.h"

namespace newsrl::actors {

TeacherScorer::TeacherScorer(const PolicySource& teacher) : model_(teacher.build()) {}

TeacherScores TeacherScorer::score(const TeacherRequest& r) {
  if (r.prompts.size() != r.completions.size()) {
    throw std::invalid_argument("teacher: " + std::to_string(r.prompts.size()) + " prompts for " +
                                std::to_string(r.completions.size()) + " completions");
  }
  const auto rows = static_cast<TeacherRows>(r.rows);
  if (rows != TeacherRows::none && rows != TeacherRows::full && rows != TeacherRows::top_k) {
    throw std::invalid_argument("teacher: unknown rows request " + std::to_string(r.rows));
  }
  const std::int64_t vocab = vocab_size();
  if (rows == TeacherRows::top_k && (r.top_k < 1 || r.top_k > vocab)) {
    throw std::invalid_argument("teacher: top_k " + std::to_string(r.top_k) + " is not in [1, " +
                                std::to_string(vocab) + "]");
  }
  for (const auto& c : r.completions) {
    for (std::int32_t id : c) {
      if (id < 0 || id >= vocab) {
        throw std::invalid_argument("teacher: token id " + std::to_string(id) + " is outside the teacher's vocabulary of " +
                                    std::to_string(vocab));
      }
    }
  }
  const std::vector<models::Scored> scored = models::score(model_, r.prompts, r.completions, rows != TeacherRows::none);
  TeacherScores out;
  for (const models::Scored& s : scored) {
    out.logprobs.push_back(s.logprobs);
    if (rows == TeacherRows::full) out.rows.push_back(s.rows.to_vector<float>());
    if (rows == TeacherRows::top_k) {
      const std::vector<float> all = s.rows.to_vector<float>();
      const std::size_t tokens = s.logprobs.size(), v = static_cast<std::size_t>(vocab),
                        k = static_cast<std::size_t>(r.top_k);
      std::vector<std::int32_t> ids;
      std::vector<float> values;
      std::vector<std::int32_t> order(v);
      for (std::size_t t = 0; t < tokens; ++t) {
        const float* row = all.data() + t * v;
        std::iota(order.begin(), order.end(), 0);
        std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                          [row](std::int32_t a, std::int32_t b) { return row[a] > row[b] || (row[a] == row[b] && a < b); });
        for (std::size_t j = 0; j < k; ++j) {
          ids.push_back(order[j]);
          values.push_back(row[order[j]]);
        }
      }
      out.top_ids.push_back(std::move(ids));
      out.top_logprobs.push_back(std::move(values));
    }
  }
  return out;
}

void TeacherScorer::expose(runtime::Methods<TeacherScorer>& m) {
  m.def("score", &TeacherScorer::score).def("vocab_size", &TeacherScorer::vocab_size);
}

}  // namespace newsrl::actors
