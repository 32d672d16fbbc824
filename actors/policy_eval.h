// Generation and evaluation of a policy (the pipeline's stage 6,
// docs/evaluation.md): rollout-workers sample N query lists per user from a
// policy checkpoint, the driver decodes and parses them, scores them with the
// rewards, keeps the best of N ([generate] select), sends the kept queries
// to the test-window index, merges the results into one ranking per user the
// way recent-searches does, and scores the rankings with the code of
// `newsrl eval rankings` (overall, cold and warm).
#pragma once

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "news/grammar.h"
#include "news/prompt.h"
#include "news/reward_config.h"
#include "runtime/cluster.h"

namespace newsrl::actors {

// The [generate] keys (docs/evaluation.md).
struct GenerateConfig {
  int n = 1;                           // lists sampled per user; best-of-N keeps one
  std::optional<double> temperature;   // unset: 0 (greedy) when n = 1, else 1
  double top_p = 1.0;
  int top_k = 0;                       // 0: no limit
  int max_new_tokens = 96;
  std::uint64_t seed = 0;
  int batch = 8;                       // users per call to a rollout-worker
  std::string k = "5,10";              // metric cutoffs
  int length = 0;                      // ranking length; 0: the largest cutoff
  std::string fallback = "popular";    // ranking of a user whose kept list does not parse: popular | none
  bool salvage = false;                // an unparsed kept list still gives the queries the parser could read
  std::int64_t max_users = 0;          // 0: every user of the dataset; else the first ones in users.jsonl
  std::string select = "composite";    // best-of-N's rule: composite | per-reward (actors/best_of_n.h)

  double temperature_in_effect() const { return temperature ? *temperature : (n == 1 ? 0.0 : 1.0); }
  // "" when the values make sense, else "[generate] key: what is wrong".
  std::string problem() const;
};

// What is evaluated and with what: files and the shared config tables.
struct PolicyEvalSpec {
  std::string checkpoint;  // the policy (models::load_model)
  std::string world;       // dataset folder: news.jsonl, users.jsonl, split.json, truth.jsonl
  std::string index;       // `newsrl index build` of that world (train window for R_ret, test window to retrieve)
  std::string tokenizer;   // the policy's tokenizer.json
  news::PromptConfig prompt;
  news::ListLimits limits;
  news::RewardConfig rewards;
  GenerateConfig generate;
};

// Where the outputs go; an empty path is not written.
struct PolicyEvalOutputs {
  std::string lists;     // lists.jsonl: per user the kept list, its rewards and every candidate's composite
  std::string rankings;  // rankings.jsonl, the format `newsrl eval rankings` reads
  std::string metrics;   // metrics.json: the metrics object
};

struct PolicyEvalSummary {
  // The metrics object (news::EvalReport::to_json: users, recall@K, ndcg@K,
  // mrr, segments cold/warm) — what eval.json holds per method.
  nlohmann::ordered_json metrics;
  std::string table;                 // the same as a readable table (news::EvalReport::to_table)
  std::int64_t users = 0;
  std::int64_t lists = 0;            // users with signals x n
  std::int64_t parse_failures = 0;   // sampled lists that did not parse (of `lists`)
  std::int64_t fallbacks = 0;        // users ranked by the fallback: kept list unparsed (and nothing salvaged), or no signals
  std::int64_t salvaged = 0;         // users whose unparsed kept list gave its readable queries ([generate] salvage)
  std::int64_t empty_signals = 0;    // users with no signal left after cleaning: no list, the fallback ranks them
  std::int64_t generated_tokens = 0; // tokens sampled, over every list (the stop token included)
  double mean_composite = 0;         // of the kept lists
  double seconds = 0;                // generation, scoring and retrieval
};

// Checks every input before any actor starts: the files exist, the
// checkpoint is a causal LM whose vocabulary holds the tokenizer's, the
// tokenizer has the chat markers, the index was built from this world
// (news::index_world_mismatch) and has train and test windows,
// the configs make sense. Throws runtime::ConfigError with one line, the same
// on every rank.
void check_policy_eval(const PolicyEvalSpec& spec);

// Runs on every rank of `cluster`: spawns one rollout-worker per "rollout"
// rank (each loads the checkpoint); the other ranks serve until the driver is
// done and get nullopt; the driver generates, scores, writes the outputs,
// shuts the cluster down and returns the summary. Progress (users/s, ETA) goes
// to `progress`. The results depend on the seed, not on the number of ranks.
std::optional<PolicyEvalSummary> run_policy_eval(runtime::Cluster& cluster, const PolicyEvalSpec& spec,
                                                 const PolicyEvalOutputs& outputs, std::ostream& progress);

// The entry for `newsrl run`: run_policy_eval's metrics object on the driver,
// null on the other ranks. Call check_policy_eval first, before the Cluster.
nlohmann::json evaluate_policy(runtime::Cluster& cluster, const PolicyEvalSpec& spec, const PolicyEvalOutputs& outputs,
                               std::ostream& progress);

}  // namespace newsrl::actors
