// `newsrl eval rankings|heuristic|policy`: score a rankings file, or produce
// and score the rankings of a reference recall path (news/heuristics.h) or of
// a policy (launch/policy_eval_command.h).
#include "launch/eval_command.h"

#include "launch/policy_eval_command.h"

#include <algorithm>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "news/heuristics.h"
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
};

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
  if (o.method == "recent-searches" && o.index.empty()) {
    throw std::invalid_argument("--method recent-searches needs --index (build one with `newsrl index build`)");
  }
  const std::string truth_path = (std::filesystem::path(o.world) / news::kTruthFile).string();
  if (!std::filesystem::exists(truth_path)) throw std::invalid_argument(truth_path + ": missing (needed to score the rankings)");
  const news::HeuristicInput input = news::read_heuristic_input(o.world, {o.recent_days, o.max_searches});
  std::vector<news::Ranking> rankings;
  if (o.method == "popular") {
    rankings = news::popular_rankings(input, length);
  } else {
    const news::NewsIndex index = news::NewsIndex::load(o.index);
    rankings = news::recent_search_rankings(input, index, length, "test");
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
  print(report, o.json, o.method);
  if (!o.json && !o.out.empty()) std::cout << "rankings written to " << o.out << "\n";
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
      "Rank with a reference recall path (popular, recent-searches) that reads neither truth nor interests, then score it");
  heuristic_cmd->add_option("--world", h->world, "Dataset folder")->required()->check(CLI::ExistingDirectory);
  heuristic_cmd->add_option("--method", h->method, "popular or recent-searches")
      ->required()
      ->check(CLI::IsMember({"popular", "recent-searches"}));
  heuristic_cmd->add_option("--index", h->index, "Index folder (recent-searches)");
  heuristic_cmd->add_option("--k", h->k, "Cutoffs K, comma-separated");
  heuristic_cmd->add_option("--length", h->length, "Items ranked per user (default: the largest K)")->check(CLI::Range(1, 10000));
  heuristic_cmd->add_option("--recent-days", h->recent_days, "popular: clicks counted in the train window's last days")
      ->check(CLI::Range(1, 3650));
  heuristic_cmd->add_option("--max-searches", h->max_searches, "recent-searches: the user's latest distinct queries used")
      ->check(CLI::Range(1, 1000));
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
