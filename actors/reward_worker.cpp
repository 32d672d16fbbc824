#include "actors/reward_worker.h"

#include <stdexcept>

namespace newsrl::actors {

news::ParsedList parse_sampled(const models::Tokenizer& tokenizer, const std::vector<std::int32_t>& ids, bool stopped,
                               const news::ListLimits& limits) {
  std::string text;
  try {
    text = tokenizer.decode(ids);
  } catch (const std::out_of_range&) {  // an id with no token: nothing readable was written
    news::ParsedList bad;
    bad.error = "a token id has no text in the tokenizer";
    return bad;
  }
  news::ParsedList list = news::parse_completion(text, limits);
  if (!list.valid && !stopped) list.error = "cut at max_new_tokens: " + list.error;
  return list;
}

RewardWorker::RewardWorker(const RewardWorkerOptions& o)
    : options_(o),
      tokenizer_(models::Tokenizer::load(o.tokenizer)),
      index_(news::NewsIndex::load(o.index)),
      users_(news::load_policy_users(o.world, o.max_users)) {
  if (const std::string problem = news::check_limits(o.limits); !problem.empty()) throw std::invalid_argument(problem);
  for (std::size_t i = 0; i < users_.users.size(); ++i) user_of_id_.emplace(users_.users[i].id, i);
  const news::TimeWindow train{users_.split.train.start, users_.split.train.end};
  model_ = std::make_unique<news::RewardModel>(index_, train, o.rewards);
}

const news::UserSignals& RewardWorker::prepared(std::size_t user) {
  auto it = prepared_.find(user);
  if (it == prepared_.end()) {
    it = prepared_.emplace(user, model_->prepare(news::signal_texts(users_.users[user], users_.titles))).first;
  }
  return it->second;
}

std::vector<RewardResult> RewardWorker::score(const std::vector<RewardRequest>& requests) {
  // Requests grouped by user (in order of first appearance), one batch each.
  std::vector<std::size_t> order;  // users, first appearance first
  std::unordered_map<std::size_t, std::vector<std::size_t>> of_user;
  for (std::size_t r = 0; r < requests.size(); ++r) {
    const auto it = user_of_id_.find(requests[r].user);
    if (it == user_of_id_.end()) {
      throw std::invalid_argument("reward-worker: unknown user " + requests[r].user + " (not among the " +
                                  std::to_string(users_.users.size()) + " users with signals of " + options_.world + ")");
    }
    auto [slot, fresh] = of_user.try_emplace(it->second);
    if (fresh) order.push_back(it->second);
    slot->second.push_back(r);
  }
  std::vector<RewardResult> out(requests.size());
  for (std::size_t user : order) {
    const std::vector<std::size_t>& mine = of_user.at(user);
    std::vector<news::ParsedList> lists;
    lists.reserve(mine.size());
    for (std::size_t r : mine) lists.push_back(parse_sampled(tokenizer_, requests[r].completion, requests[r].stopped, options_.limits));
    const std::vector<news::Rewards> rewards = model_->score(prepared(user), lists);
    for (std::size_t i = 0; i < mine.size(); ++i) {
      const news::Rewards& w = rewards[i];
      RewardResult& res = out[mine[i]];
      res.ret = w.ret;
      res.cov = w.cov;
      res.spec = w.spec;
      res.div = w.div;
      res.structure = w.structure;
      res.composite = w.composite;
      res.parsed = lists[i].valid;
      res.error = lists[i].error;
    }
  }
  return out;
}

void RewardWorker::expose(runtime::Methods<RewardWorker>& m) {
  m.def("score", &RewardWorker::score).def("users", &RewardWorker::users);
}

}  // namespace newsrl::actors
