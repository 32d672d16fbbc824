// The five rewards of a list of queries the policy wrote for one user, and
// their composite (docs/rewards.md): R_ret (retrieval alignment), R_cov
// (coverage of the user's signal clusters), R_spec (specificity), R_div
// (diversity), R_struct (the grammar). A RewardModel is what a reward-worker
// holds: the embedder and train-window index, the word idf, the judge. It
// prepares each user once (signal embeddings, centroid, clusters) and then
// scores any number of that user's completions (a GRPO group, best-of-N).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "news/grammar.h"
#include "news/llm_judge.h"
#include "news/news_index.h"
#include "news/reward_config.h"
#include "news/rubric_judge.h"
#include "news/signal_clusters.h"

namespace newsrl::news {

// Each reward in [0, 1]; a reward whose weight is 0 is not computed and
// holds NaN. composite = sum(w_i r_i) / sum(w_i) over the weights above 0.
struct Rewards {
  double ret = 0, cov = 0, spec = 0, div = 0, structure = 0, composite = 0;
};

// One completion of one user.
struct RewardInputs {
  ParsedList list;                   // parse_completion of what the policy wrote
  std::vector<std::string> signals;  // the user's cleaned signal texts in event order (news/signals.h)
};

// What the rewards need of one user, computed once for all their completions.
struct UserSignals {
  std::vector<std::string> texts;
  std::vector<float> centroid;  // unit mean direction of the signal embeddings; all zeros when none is known
  SignalClusters clusters;
};

class RewardModel {
 public:
  // `index` must outlive the model and hold a "train" window; `train` is that
  // window's time span (split.json), whose article titles give the word idf.
  // Validates `config` and, in judge mode "llm", loads the judge's checkpoint.
  // Throws std::invalid_argument with one line on a problem.
  RewardModel(const NewsIndex& index, const TimeWindow& train, RewardConfig config);
  // The same with a judge already made (mode "llm"; ignored with "rubric").
  RewardModel(const NewsIndex& index, const TimeWindow& train, RewardConfig config, std::unique_ptr<LlmJudge> judge);
  ~RewardModel();
  RewardModel(RewardModel&&) noexcept;

  UserSignals prepare(const std::vector<std::string>& signals) const;
  // The rewards of each list, in order. Queries are embedded and searched in
  // one batch for the whole group.
  std::vector<Rewards> score(const UserSignals& user, const std::vector<ParsedList>& lists);
  Rewards score(const RewardInputs& inputs);

  const RewardConfig& config() const { return config_; }

 private:
  const NewsIndex* index_;
  RewardConfig config_;
  std::unique_ptr<SpecificityRubric> specificity_;
  std::unique_ptr<LlmJudge> judge_;  // mode "llm" only
};

// The weighted mean of the rewards with a positive weight.
double composite_reward(const Rewards& r, const RewardConfig& config);

// Best-of-N: the index of the highest composite (ties: the lowest index).
// Throws std::invalid_argument for an empty list.
std::size_t best_of_n(const std::vector<Rewards>& rewards);

}  // namespace newsrl::news
