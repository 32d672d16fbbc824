// `newsrl eval rankings|heuristic|policy`: score a rankings file, or produce
// and score the rankings of a reference recall path (news/heuristics.h,
// news/labeller_rankings.h) or of a policy (launch/policy_eval_command.h).
#include "launch/eval_command.h"

#include "launch/policy_eval_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>

#include "launch/config.h"
#include "launch/prompt_keys.h"
#include "models/tokenizer.h"
#include "news/heuristics.h"
#include "news/index_world.h"
#include "news/labeller_rankings.h"
#include "news/metrics.h"
#include "news/ranking_eval.h"
#include "news/rankings.h"

namespace newsrl::launch {

namespace {

struct RankingsOptions {
  std::string rankings, truth, users, k = "5,10";
  bool json = false;
};

struct HeuristicOptions {
  std::string world, index, method, out, k = "5,10";
  int length = 0, recent_days = 7, max_searches = 5;
  bool json = false;
  // labeller: the prompt the warm start sees, as `data sft` takes it
  std::string tokenizer, config;
  int max_tokens = 384, max_queries = 6;
  bool max_tokens_given = false, max_queries_given = false;
};

// The labeller's options exactly as `newsrl data sft` resolves them: the
// config's [prompt], then --max-tokens and --max-queries when given (or with
// no config, their defaults).
news::SftDataOptions labeller_options(const HeuristicOptions& o) {
  news::SftDataOptions options;
  if (!o.config.empty()) {
    const PromptKeys keys = read_prompt_config(load_config(o.config), o.config);
    options.prompt = keys.prompt;
    options.limits = keys.limits;
  }
  if (o.config.empty() || o.max_tokens_given) options.prompt.max_tokens = o.max_tokens;
  if (o.config.empty() || o.max_queries_given) options.limits.max_queries = o.max_queries;
  return options;
}

nlohmann::ordered_json labeller_json(const news::LabellerRankingStats& s) {
  nlohmann::ordered_json j;
  j["users"] = s.users;
  j["labelled"] = s.labelled;
  j["empty_signals"] = s.empty_signals;
  j["no_label"] = s.no_label;
  return j;
}

void print(const news::EvalReport& report, bool json, const std::string& method) {
  if (json) {
    nlohmann::ordered_json j = report.to_json();
    if (!method.empty()) j["method"] = method;
    std::cout << j.dump() << "\n";
  } else {
    std::cout << report.to_table();
  }
}

int eval_rankings(const RankingsOptions& o) {
  const std::vector<int> cutoffs = news::parse_cutoffs(o.k);
  const auto rankings = news::read_rankings(o.rankings);
  const std::vector<news::UserTruth> truth = news::read_truth(o.truth);
  std::unique_ptr<news::UserSegments> segments;
  if (!o.users.empty()) segments = std::make_unique<news::UserSegments>(news::read_segments(o.users));
  print(news::evaluate_rankings(rankings, truth, cutoffs, segments.get()), o.json, "");
  return 0;
}

int eval_heuristic(const HeuristicOptions& o) {
  const std::vector<int> cutoffs = news::parse_cutoffs(o.k);
  const int length = o.length > 0 ? o.length : cutoffs.back();
  if (o.method != "popular" && o.index.empty()) {
    throw std::invalid_argument("--method " + o.method + " needs --index (build one with `newsrl index build`)");
  }
  if (o.method == "labeller" && o.tokenizer.empty()) {
    throw std::invalid_argument(
        "--method labeller needs --tokenizer (the labeller sees only what the prompt shows, and the prompt's budget is in tokens)");
  }
  const std::string truth_path = (std::filesystem::path(o.world) / news::kTruthFile).string();
  if (!std::filesystem::exists(truth_path)) throw std::invalid_argument(truth_path + ": missing (needed to score the rankings)");
  std::optional<news::SftDataOptions> labeller;
  if (o.method == "labeller") labeller = labeller_options(o);  // a config mistake before any long read
  const news::HeuristicInput input = news::read_heuristic_input(o.world, {o.recent_days, o.max_searches});
  std::vector<news::Ranking> rankings;
  news::LabellerRankingStats labelled;
  if (o.method == "popular") {
    rankings = news::popular_rankings(input, length);
  } else if (o.method == "recent-searches") {
    const news::NewsIndex index = news::NewsIndex::load(o.index);
    rankings = news::recent_search_rankings(input, index, length, "test");
  } else {
    const models::Tokenizer tokenizer = models::Tokenizer::load(o.tokenizer);
    const news::NewsIndex index = news::NewsIndex::load(o.index);
    // The index's embedder clusters the signals: one of another world would
    // label every user silently wrong.
    if (const std::string m = news::index_world_mismatch(index, o.index, o.world); !m.empty()) {
      throw std::invalid_argument(m);
    }
    rankings = news::labeller_rankings(o.world, index, tokenizer, *labeller, length, &labelled);
  }
  if (!o.out.empty()) news::write_rankings(o.out, rankings);

  news::UserSegments segments;
  for (std::size_t u = 0; u < input.users.size(); ++u) {
    segments.users.push_back(input.users[u]);
    const auto cold_max = static_cast<std::int64_t>(news::kColdMaxNewsEvents);
    segments.segment_of.emplace(input.users[u], news::segment_for_news_events(input.news_events[u], cold_max));
  }
  std::unordered_map<std::string, std::vector<std::string>> by_user;
  for (news::Ranking& r : rankings) by_user.emplace(std::move(r.user), std::move(r.items));
  const news::EvalReport report = news::evaluate_rankings(by_user, news::read_truth(truth_path), cutoffs, &segments);
  if (o.json) {
    nlohmann::ordered_json j = report.to_json();
    j["method"] = o.method;
    if (o.method == "labeller") j["labeller"] = labeller_json(labelled);
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << report.to_table();
  if (o.method == "labeller") {
    std::cout << "labeller: " << labelled.labelled << " of " << labelled.users << " users labelled; "
              << labelled.empty_signals << " without signals after cleaning and " << labelled.no_label
              << " without a list have empty rankings\n";
  }
  if (!o.out.empty()) std::cout << "rankings written to " << o.out << "\n";
  return 0;
}

}  // namespace

Runner add_eval_commands(CLI::App& app) {
  auto r = std::make_shared<RankingsOptions>();
  auto h = std::make_shared<HeuristicOptions>();
  CLI::App* eval = app.add_subcommand("eval", "Score recommendations: Recall@K, NDCG@K, MRR (docs/metrics.md)");
  eval->require_subcommand(1);

  CLI::App* rankings_cmd = eval->add_subcommand(
      "rankings", "Score a rankings file ({\"user\":…,\"items\":[…]} per line) against a truth file");
  rankings_cmd->add_option("--rankings", r->rankings, "Rankings JSONL, best item first")->required();
  rankings_cmd->add_option("--truth", r->truth, "truth.jsonl: each user's future clicks")->required();
  rankings_cmd->add_option("--k", r->k, "Cutoffs K, comma-separated");
  rankings_cmd->add_option("--users", r->users, "users.jsonl: adds cold/warm segments (cold: at most 3 news events)");
  rankings_cmd->add_flag("--json", r->json, "One JSON object instead of a table");

  CLI::App* heuristic_cmd = eval->add_subcommand(
      "heuristic",
      "Rank with a reference recall path (popular, recent-searches, labeller) that reads neither truth nor interests, "
      "then score it");
  heuristic_cmd->add_option("--world", h->world, "Dataset folder")->required()->check(CLI::ExistingDirectory);
  heuristic_cmd
      ->add_option("--method", h->method,
                   "popular, recent-searches, or labeller (the warm start's targets as queries: its ceiling)")
      ->required()
      ->check(CLI::IsMember({"popular", "recent-searches", "labeller"}));
  heuristic_cmd->add_option("--index", h->index, "Index folder (recent-searches, labeller)")->check(CLI::ExistingDirectory);
  heuristic_cmd->add_option("--k", h->k, "Cutoffs K, comma-separated");
  heuristic_cmd->add_option("--length", h->length, "Items ranked per user (default: the largest K)")->check(CLI::Range(1, 10000));
  heuristic_cmd->add_option("--recent-days", h->recent_days, "popular: clicks counted in the train window's last days")
      ->check(CLI::Range(1, 3650));
  heuristic_cmd->add_option("--max-searches", h->max_searches, "recent-searches: the user's latest distinct queries used")
      ->check(CLI::Range(1, 1000));
  heuristic_cmd->add_option("--tokenizer", h->tokenizer, "labeller: the run's tokenizer.json (the prompt's budget is in tokens)")
      ->check(CLI::ExistingFile);
  heuristic_cmd->add_option("--config", h->config, "labeller: run config (TOML) whose [prompt] the labeller sees, as `data sft --config`")
      ->check(CLI::ExistingFile);
  heuristic_cmd->add_option("--max-tokens", h->max_tokens, "labeller: prompt budget, tokens (overrides [prompt])")
      ->check(CLI::Range(64, 1 << 20))
      ->each([h](const std::string&) { h->max_tokens_given = true; });
  heuristic_cmd->add_option("--max-queries", h->max_queries, "labeller: queries per list at most (overrides [prompt])")
      ->check(CLI::Range(1, 32))
      ->each([h](const std::string&) { h->max_queries_given = true; });
  heuristic_cmd->add_option("--out", h->out, "Write the rankings here (JSONL)");
  heuristic_cmd->add_flag("--json", h->json, "One JSON object instead of a table");
  const Runner policy = add_eval_policy_command(*eval);

  return [=]() -> std::optional<int> {
    if (*rankings_cmd) return eval_rankings(*r);
    if (*heuristic_cmd) return eval_heuristic(*h);
    return policy();
  };
}

}  // namespace newsrl::launch
