// The [rewards] config: one table per reward with its weight (0 switches the
// reward off, the ablation switch) and its knobs, and the judge of R_cov and
// R_spec ("rubric": the deterministic scorer; "llm": a causal LM answering
// yes/no rubric questions). Every key and default is in docs/rewards.md.
#pragma once

#include <string>
#include <vector>

#include "news/generic_words.h"

namespace newsrl::news {

// One yes/no question of the LLM judge, for R_cov ("cov") or R_spec ("spec").
struct RubricCriterion {
  std::string reward;
  std::string question;
  double weight = 1.0;
};

// The questions the LLM judge asks when the config names none.
const std::vector<RubricCriterion>& default_rubric_criteria();

struct RetrievalRewardConfig {  // [rewards.ret]
  double weight = 1.0;
  int k = 10;  // articles per query from the train-window index
};

struct CoverageRewardConfig {  // [rewards.cov]
  double weight = 1.0;
  double tau = 0.3;      // a signal cluster is covered by a query at cosine >= tau
  int max_clusters = 4;  // k = min(max_clusters, round(sqrt(signals)))
};

struct SpecificityRewardConfig {  // [rewards.spec]
  double weight = 1.0;
  std::vector<std::string> generic_words = default_generic_words();
  double generic_penalty = 0.5;  // subtracted per query, times its share of generic words
};

struct DiversityRewardConfig {  // [rewards.div]
  double weight = 1.0;
};

struct StructureRewardConfig {  // [rewards.struct]
  double weight = 1.0;
};

struct JudgeConfig {             // [rewards.judge]
  std::string mode = "rubric";   // rubric | llm
  std::string checkpoint;        // llm: a causal-LM checkpoint (models::load_model)
  std::string tokenizer;         // llm: its tokenizer.json
  int max_prompt_tokens = 1024;  // llm: signals are dropped (oldest first) to fit
  std::vector<RubricCriterion> criteria = default_rubric_criteria();
};

struct RewardConfig {
  RetrievalRewardConfig ret;
  CoverageRewardConfig cov;
  SpecificityRewardConfig spec;
  DiversityRewardConfig div;
  StructureRewardConfig structure;
  JudgeConfig judge;

  // Every problem, one line each ("[rewards.ret] weight: ..."); empty when fine.
  std::vector<std::string> problems() const;
  // Throws std::invalid_argument with the first problem.
  void validate() const;
};

}  // namespace newsrl::news
