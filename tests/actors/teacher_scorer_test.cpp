// The teacher-scorer: its log-probs and full rows are bit for bit the teacher
// model's own scoring; its top-k rows are the full rows' k largest entries;
// ids outside the teacher's vocabulary are refused with one line.
#include "actors/teacher_scorer.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "models/generation.h"

using namespace newsrl;
using namespace newsrl::actors;

namespace {

PolicySource tiny_teacher() {
  models::Qwen2Config c = models::Qwen2Config::preset("nano");
  c.vocab_size = 29;
  c.num_hidden_layers = 2;
  return PolicySource{"", c.to_json().dump(), 7};
}

TeacherRequest request(TeacherRows rows, int top_k = 0) {
  TeacherRequest r;
  r.prompts = {{1, 2, 3}, {4}, {5, 6, 7, 8}};
  r.completions = {{9, 10, 11, 2}, {12}, {}};
  r.rows = static_cast<int>(rows);
  r.top_k = top_k;
  return r;
}

}  // namespace

TEST(TeacherScorer, LogProbsAndRowsAreTheTeachersOwnScoring) {
  TeacherScorer scorer(tiny_teacher());
  models::CausalLM teacher = tiny_teacher().build();
  const TeacherRequest r = request(TeacherRows::full);
  const TeacherScores got = scorer.score(r);
  const std::vector<models::Scored> want = models::score(teacher, r.prompts, r.completions, true);
  ASSERT_EQ(got.logprobs.size(), want.size());
  ASSERT_EQ(got.rows.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    EXPECT_EQ(got.logprobs[i], want[i].logprobs) << "sequence " << i;  // bit for bit
    EXPECT_EQ(got.rows[i], want[i].rows.to_vector<float>()) << "sequence " << i;
    EXPECT_EQ(got.rows[i].size(), r.completions[i].size() * 29);
  }
  // Without rows: the same log-probs, no rows.
  const TeacherScores plain = scorer.score(request(TeacherRows::none));
  EXPECT_EQ(plain.logprobs, got.logprobs);
  EXPECT_TRUE(plain.rows.empty());
}

TEST(TeacherScorer, TopKRowsAreTheLargestEntries) {
  TeacherScorer scorer(tiny_teacher());
  const TeacherScores full = scorer.score(request(TeacherRows::full));
  const TeacherScores top = scorer.score(request(TeacherRows::top_k, 3));
  ASSERT_EQ(top.top_ids.size(), 3u);
  for (std::size_t i = 0; i < full.rows.size(); ++i) {
    const std::size_t tokens = full.logprobs[i].size();
    ASSERT_EQ(top.top_ids[i].size(), tokens * 3);
    for (std::size_t t = 0; t < tokens; ++t) {
      std::vector<float> row(full.rows[i].begin() + static_cast<long>(t * 29),
                             full.rows[i].begin() + static_cast<long>((t + 1) * 29));
      std::vector<float> sorted = row;
      std::sort(sorted.begin(), sorted.end(), std::greater<>());
      for (std::size_t j = 0; j < 3; ++j) {
        EXPECT_EQ(top.top_logprobs[i][t * 3 + j], sorted[j]);
        EXPECT_EQ(row[static_cast<std::size_t>(top.top_ids[i][t * 3 + j])], sorted[j]);
      }
    }
  }
}

TEST(TeacherScorer, RefusesIdsOutsideItsVocabulary) {
  TeacherScorer scorer(tiny_teacher());
  TeacherRequest r = request(TeacherRows::none);
  r.completions[1] = {40};
  try {
    scorer.score(r);
    FAIL() << "no error";
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "teacher: token id 40 is outside the teacher's vocabulary of 29");
  }
  EXPECT_THROW(scorer.score(request(TeacherRows::top_k, 0)), std::invalid_argument);
}
