#include "actors/news_rollouts.h"

#include <algorithm>
#include <optional>
#include <ostream>
#include <stdexcept>

#include "models/model_file.h"
#include "models/tokenizer.h"
#include "runtime/checkpoint.h"

namespace newsrl::actors {

namespace {

double part_of(const RewardResult& r, const std::string& name) {
  if (name == "ret") return r.ret;
  if (name == "cov") return r.cov;
  if (name == "spec") return r.spec;
  if (name == "div") return r.div;
  return r.structure;
}

}  // namespace

NewsPrompts load_news_prompts(const std::string& world, std::int64_t max_users, const std::string& tokenizer_path,
                              const news::PromptConfig& prompt, const news::ListLimits& limits,
                              const std::string& init, std::int64_t max_new_tokens, const std::string& label,
                              std::ostream& progress) {
  const models::Tokenizer tokenizer = models::Tokenizer::load(tokenizer_path);
  NewsPrompts out;
  out.users = news::load_policy_users(world, max_users);
  if (out.users.users.empty()) {
    throw std::invalid_argument(world + ": none of its " + std::to_string(out.users.read) +
                                " users has a signal left after cleaning");
  }
  std::size_t longest = 0;
  for (const news::User& u : out.users.users) {
    out.prompts.push_back(tokenizer.encode(news::render_prompt(u, out.users.titles, tokenizer, prompt, limits).text));
    longest = std::max(longest, out.prompts.back().size());
  }
  const models::Qwen2Config config = models::read_config(runtime::H5File(init, runtime::H5File::Mode::read));
  if (static_cast<std::int64_t>(longest) + max_new_tokens > config.max_position_embeddings) {
    throw std::invalid_argument("the longest prompt (" + std::to_string(longest) + " tokens) and max_new_tokens " +
                                std::to_string(max_new_tokens) + " exceed the policy's max_position_embeddings " +
                                std::to_string(config.max_position_embeddings));
  }
  const std::optional<std::int32_t> closing = tokenizer.token_to_id(limits.closing);
  if (!closing) {
    throw std::invalid_argument(tokenizer_path + ": the tokenizer has no " + limits.closing +
                                " token (the policy's stop token)");
  }
  out.stop_tokens = {*closing};
  if (const auto eos = tokenizer.token_to_id("<|endoftext|>")) out.stop_tokens.push_back(*eos);
  progress << label << ": " << out.prompts.size() << " prompts from " << out.users.read << " users ("
           << out.users.no_signals << " without signals after cleaning, skipped); longest prompt " << longest
           << " tokens\n";
  return out;
}

std::vector<std::pair<std::string, double>> reported_parts(const news::RewardConfig& c) {
  std::vector<std::pair<std::string, double>> out;
  for (const auto& [name, weight] : {std::pair<const char*, double>{"ret", c.ret.weight}, {"cov", c.cov.weight},
                                     {"spec", c.spec.weight}, {"div", c.div.weight}, {"struct", c.structure.weight}}) {
    if (weight > 0) out.emplace_back(name, weight);
  }
  return out;
}

RewardFn news_reward_fn(std::vector<runtime::ActorHandle<RewardWorker>>& workers, const news::PolicyUsers& users,
                        int group, const news::RewardConfig& config) {
  const std::vector<std::pair<std::string, double>> parts = reported_parts(config);
  return [&workers, &users, group, parts](const std::vector<Sample>& samples) {
    const std::size_t g = static_cast<std::size_t>(group);
    const auto shares = contiguous_shares(samples.size() / g, workers.size());
    std::vector<runtime::Future<std::vector<RewardResult>>> pending;
    for (std::size_t w = 0; w < workers.size(); ++w) {
      const auto [first_group, count] = shares[w];
      if (count == 0) continue;
      std::vector<RewardRequest> requests;
      for (std::size_t i = first_group * g; i < (first_group + count) * g; ++i) {
        const Sample& s = samples[i];
        requests.push_back({users.users[static_cast<std::size_t>(s.prompt_index)].id, s.completion, s.stopped});
      }
      pending.push_back(workers[w].call(&RewardWorker::score, requests));
    }
    BatchScores scores;
    std::vector<std::vector<double>> values(parts.size());
    for (auto& f : pending) {
      for (const RewardResult& r : f.get()) {
        scores.rewards.push_back(static_cast<float>(r.composite));
        scores.failures += r.parsed ? 0 : 1;
        for (std::size_t p = 0; p < parts.size(); ++p) values[p].push_back(part_of(r, parts[p].first));
      }
    }
    for (std::size_t p = 0; p < parts.size(); ++p) {
      scores.parts.emplace_back(parts[p].first, std::move(values[p]));
      scores.part_weights.push_back(parts[p].second);
    }
    return scores;
  };
}

}  // namespace newsrl::actors
