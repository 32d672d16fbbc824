// The LLM judge of R_cov and R_spec (Rubrics as Rewards): a causal LM reads
// the user's signals, the list of queries and one yes/no question per
// criterion; a criterion scores P(" yes") / (P(" yes") + P(" no")) at the
// answer position (models::score), and a reward is the weighted mean of its
// criteria. Any newsrl checkpoint serves; an instruction-tuned one judges
// best. The prompt is in docs/rewards.md.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "models/causal_lm.h"
#include "models/tokenizer.h"
#include "news/reward_config.h"

namespace newsrl::news {

class LlmJudge {
 public:
  // Throws std::invalid_argument with one line when " yes" or " no" is not a
  // single token, the tokenizer has ids the model lacks, or a criterion is
  // malformed.
  LlmJudge(models::CausalLM model, models::Tokenizer tokenizer, std::vector<RubricCriterion> criteria,
           int max_prompt_tokens);
  // The checkpoint, tokenizer, criteria and budget of [rewards.judge].
  static LlmJudge load(const JudgeConfig& config);

  // The prompt asking `question` about `queries` for a user with `signals`
  // (in event order, as news/signals.h's signal_texts gives them; listed
  // newest first, and the oldest are left out until it fits the budget).
  // Throws std::invalid_argument when it cannot fit even without signals.
  std::vector<std::int32_t> prompt(const std::vector<std::string>& signals, const std::vector<std::string>& queries,
                                   const std::string& question) const;
  // P(" yes") / (P(" yes") + P(" no")) of the next token after each prompt.
  std::vector<double> yes_shares(const std::vector<std::vector<std::int32_t>>& prompts);

  struct Verdict {
    double cov = 0, spec = 0;      // weighted means of the criteria; 0 with no query
    std::vector<double> criteria;  // each asked criterion's yes share (NaN: not asked)
  };
  // Asks the criteria of the rewards wanted (the others stay unasked: NaN).
  Verdict judge(const std::vector<std::string>& signals, const std::vector<std::string>& queries, bool want_cov,
                bool want_spec);

  std::int32_t yes_token() const { return yes_; }
  std::int32_t no_token() const { return no_; }
  const std::vector<RubricCriterion>& criteria() const { return criteria_; }
  const models::Tokenizer& tokenizer() const { return tokenizer_; }

 private:
  models::CausalLM model_;
  models::Tokenizer tokenizer_;
  std::vector<RubricCriterion> criteria_;
  int budget_ = 0;  // prompt tokens at most
  std::int32_t yes_ = -1, no_ = -1;
};

}  // namespace newsrl::news
