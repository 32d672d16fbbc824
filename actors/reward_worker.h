// The reward-worker role (DESIGN.md, "Actor roles"): holds the news rewards
// (news::RewardModel: the embedder and train-window index, the word idf, the
// judge), the tokenizer and every user's cleaned signals, and scores sampled
// completions: decode the token ids -> parse_completion -> the five rewards
// and their composite. Each user's signals are prepared (embedded, clustered)
// once, on first use, and cached; a user's completions in one call are scored
// in one batch (a GRPO group, best-of-N).
//
// The worker is built on its own rank from RewardWorkerOptions (every rank of
// an SPMD job makes the same options from the same config, so the options do
// not travel); only requests and results cross the wire.
#pragma once

#include <boost/serialization/string.hpp>
#include <boost/serialization/vector.hpp>
#include <cstdint>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "models/tokenizer.h"
#include "news/grammar.h"
#include "news/news_index.h"
#include "news/policy_users.h"
#include "news/reward_config.h"
#include "news/rewards.h"
#include "runtime/cluster.h"

namespace newsrl::actors {

struct RewardWorkerOptions {
  std::string world;      // the cleaned dataset folder (news.jsonl, users.jsonl, split.json)
  std::string index;      // its index folder (`newsrl index build`), with a train window
  std::string tokenizer;  // the policy's tokenizer.json
  news::RewardConfig rewards;
  news::ListLimits limits;      // the grammar the completions are parsed with
  std::int64_t max_users = 0;   // as news::load_policy_users
};

// One completion to score.
struct RewardRequest {
  std::string user;                      // the user's id
  std::vector<std::int32_t> completion;  // sampled ids, the stop token included when it stopped on one
  bool stopped = false;                  // false: cut at max_new_tokens
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& user& completion& stopped;
  }
};

struct RewardResult {
  // Each in [0, 1]; NaN for a reward whose weight is 0 (news::Rewards).
  double ret = 0, cov = 0, spec = 0, div = 0, structure = 0, composite = 0;
  bool parsed = false;  // the completion parsed under the grammar
  std::string error;    // the first grammar violation ("" when parsed)
  template <class A>
  void serialize(A& ar, unsigned) {
    ar& ret& cov& spec& div& structure& composite& parsed& error;
  }
};

// The text of sampled ids parsed under `limits`. An id the tokenizer has no
// token for (a policy whose vocabulary is larger than the tokenizer's) makes
// the completion invalid, with no queries. `stopped` = false names the cut
// at max_new_tokens in the error.
news::ParsedList parse_sampled(const models::Tokenizer& tokenizer, const std::vector<std::int32_t>& ids, bool stopped,
                               const news::ListLimits& limits);

class RewardWorker {
 public:
  // Loads the tokenizer, the index, the users and the reward model; throws
  // std::invalid_argument with one line on a problem.
  explicit RewardWorker(const RewardWorkerOptions& options);
  RewardWorker(const RewardWorker&) = delete;
  RewardWorker& operator=(const RewardWorker&) = delete;

  // One result per request, in order. An unknown user id throws.
  std::vector<RewardResult> score(const std::vector<RewardRequest>& requests);
  // Users with signals this worker knows.
  std::int64_t users() const { return static_cast<std::int64_t>(users_.users.size()); }
  static void expose(runtime::Methods<RewardWorker>& m);

 private:
  const news::UserSignals& prepared(std::size_t user);

  RewardWorkerOptions options_;
  models::Tokenizer tokenizer_;
  news::NewsIndex index_;  // before model_, which points into it
  news::PolicyUsers users_;
  std::unordered_map<std::string, std::size_t> user_of_id_;
  std::unordered_map<std::size_t, news::UserSignals> prepared_;
  std::unique_ptr<news::RewardModel> model_;
};

}  // namespace newsrl::actors
