#include "news/reward_config.h"

#include <cmath>
#include <stdexcept>

namespace newsrl::news {

const std::vector<RubricCriterion>& default_rubric_criteria() {
  static const std::vector<RubricCriterion> criteria = {
      {"cov", "Does every main interest shown in the activity have at least one query about it?", 2.0},
      {"cov", "Do the queries avoid topics that appear nowhere in the activity?", 1.0},
      {"spec", "Does every query name a concrete subject, such as a team, place, person, product or event?", 2.0},
      {"spec", "Are the queries free of vague words like news, latest, today or update?", 1.0},
  };
  return criteria;
}

std::vector<std::string> RewardConfig::problems() const {
  std::vector<std::string> out;
  auto need = [&](bool ok, const std::string& where, const std::string& what) {
    if (!ok) out.push_back("[" + where + "] " + what);
  };
  const std::pair<const char*, double> weights[] = {{"rewards.ret", ret.weight},
                                                    {"rewards.cov", cov.weight},
                                                    {"rewards.spec", spec.weight},
                                                    {"rewards.div", div.weight},
                                                    {"rewards.struct", structure.weight}};
  bool any = false;
  for (const auto& [table, w] : weights) {
    need(std::isfinite(w) && w >= 0, table, "weight: must be a number at least 0 (0 switches the reward off)");
    any = any || w > 0;
  }
  need(any, "rewards", "every reward's weight is 0: at least one reward must count");
  need(ret.k >= 1 && ret.k <= 1000, "rewards.ret", "k: must be 1..1000");
  need(std::isfinite(cov.tau) && cov.tau >= -1 && cov.tau <= 1, "rewards.cov", "tau: must be a cosine, -1..1");
  need(cov.max_clusters >= 1 && cov.max_clusters <= 64, "rewards.cov", "max_clusters: must be 1..64");
  need(std::isfinite(spec.generic_penalty) && spec.generic_penalty >= 0 && spec.generic_penalty <= 1, "rewards.spec",
       "generic_penalty: must be 0..1");
  for (const std::string& w : spec.generic_words)
    need(!w.empty(), "rewards.spec", "generic_words: holds an empty word");
  const bool llm = judge.mode == "llm";
  need(judge.mode == "rubric" || llm, "rewards.judge", "mode: unknown \"" + judge.mode + "\" (rubric, llm)");
  if (llm) {
    need(!judge.checkpoint.empty(), "rewards.judge", "checkpoint: mode \"llm\" needs a causal-LM checkpoint");
    need(!judge.tokenizer.empty(), "rewards.judge", "tokenizer: mode \"llm\" needs the checkpoint's tokenizer.json");
    need(judge.max_prompt_tokens >= 16, "rewards.judge", "max_prompt_tokens: must be at least 16");
    double cov_total = 0, spec_total = 0;
    for (std::size_t i = 0; i < judge.criteria.size(); ++i) {
      const RubricCriterion& c = judge.criteria[i];
      const std::string where = "rewards.judge.criteria " + std::to_string(i + 1);
      need(c.reward == "cov" || c.reward == "spec", where, "reward: unknown \"" + c.reward + "\" (cov, spec)");
      need(!c.question.empty() && c.question.find('\n') == std::string::npos, where,
           "question: must be one non-empty line");
      need(std::isfinite(c.weight) && c.weight >= 0, where, "weight: must be a number at least 0");
      if (std::isfinite(c.weight) && c.weight > 0) (c.reward == "cov" ? cov_total : spec_total) += c.weight;
    }
    need(cov.weight == 0 || cov_total > 0, "rewards.judge",
         "criteria: R_cov counts but no criterion for \"cov\" has a positive weight");
    need(spec.weight == 0 || spec_total > 0, "rewards.judge",
         "criteria: R_spec counts but no criterion for \"spec\" has a positive weight");
  }
  return out;
}

void RewardConfig::validate() const {
  const std::vector<std::string> p = problems();
  if (!p.empty()) throw std::invalid_argument(p.front());
}

}  // namespace newsrl::news
