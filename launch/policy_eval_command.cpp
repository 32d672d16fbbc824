#include "launch/policy_eval_command.h"

#include <filesystem>
#include <fstream>
#include <functional>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <sstream>

#include "actors/policy_eval.h"
#include "actors/roles.h"
#include "launch/config.h"
#include "launch/generate_keys.h"
#include "launch/prompt_keys.h"
#include "launch/reward_keys.h"
#include "runtime/cluster.h"
#include "runtime/errors.h"

namespace newsrl::launch {

namespace {

namespace fs = std::filesystem;

struct Flags {
  std::string ckpt, world, index, tokenizer, config;
  // generate: lists (--out), rankings, metrics; eval policy: a folder (--out)
  std::string out, rankings, metrics;
  bool json = false;
  // [generate] keys given as flags (they win over the config file)
  actors::GenerateConfig flags;
  double temperature = 0;
  // [prompt] keys as `newsrl data sft` takes them (they win over the config file)
  int max_tokens = 384, max_queries = 6;
  bool reasoning = false;
  CLI::Option *max_tokens_option = nullptr, *max_queries_option = nullptr, *reasoning_option = nullptr;
  // which [generate] flags were given
  std::vector<std::pair<CLI::Option*, std::function<void(actors::GenerateConfig&)>>> given;
};

// The flags both commands take.
void add_common(CLI::App* cmd, Flags& f) {
  cmd->add_option("--ckpt", f.ckpt, "The policy checkpoint (from train sft or train grpo)")->required();
  cmd->add_option("--world", f.world, "Dataset folder: news.jsonl, users.jsonl, split.json, truth.jsonl")->required();
  cmd->add_option("--index", f.index, "Index folder from `newsrl index build` of that world")->required();
  cmd->add_option("--tokenizer", f.tokenizer, "The policy's tokenizer.json")->required();
  cmd->add_option("--config", f.config, "Run config (TOML): its [prompt], [generate], [rewards.*] and [placement] are read")
      ->check(CLI::ExistingFile);
  auto flag = [&](CLI::Option* o, std::function<void(actors::GenerateConfig&)> set) { f.given.emplace_back(o, set); };
  Flags* p = &f;
  flag(cmd->add_option("--n", f.flags.n, "Lists sampled per user; best-of-N keeps one (--select)")
           ->check(CLI::Range(1, 1024)),
       [p](actors::GenerateConfig& c) { c.n = p->flags.n; });
  flag(cmd->add_option("--temperature", f.temperature, "Sampling temperature (default: 0, greedy, for n = 1; else 1)")
           ->check(CLI::Range(0.0, 100.0)),
       [p](actors::GenerateConfig& c) { c.temperature = p->temperature; });
  flag(cmd->add_option("--top-p", f.flags.top_p, "Nucleus sampling: keep the smallest set of tokens with this mass")
           ->check(CLI::Range(0.0, 1.0)),
       [p](actors::GenerateConfig& c) { c.top_p = p->flags.top_p; });
  flag(cmd->add_option("--top-k", f.flags.top_k, "Sample from the k likeliest tokens (0: no limit)")->check(CLI::NonNegativeNumber),
       [p](actors::GenerateConfig& c) { c.top_k = p->flags.top_k; });
  flag(cmd->add_option("--max-new-tokens", f.flags.max_new_tokens, "Tokens per list at most")->check(CLI::Range(1, 8192)),
       [p](actors::GenerateConfig& c) { c.max_new_tokens = p->flags.max_new_tokens; });
  flag(cmd->add_option("--seed", f.flags.seed, "Sampling seed"), [p](actors::GenerateConfig& c) { c.seed = p->flags.seed; });
  flag(cmd->add_option("--batch", f.flags.batch, "Users per call to a rollout-worker")->check(CLI::Range(1, 4096)),
       [p](actors::GenerateConfig& c) { c.batch = p->flags.batch; });
  flag(cmd->add_option("--k", f.flags.k, "Metric cutoffs K, comma-separated"),
       [p](actors::GenerateConfig& c) { c.k = p->flags.k; });
  flag(cmd->add_option("--length", f.flags.length, "Items ranked per user (default: the largest K)")->check(CLI::Range(1, 10000)),
       [p](actors::GenerateConfig& c) { c.length = p->flags.length; });
  flag(cmd->add_option("--fallback", f.flags.fallback, "Ranking of a user whose kept list does not parse: popular or none")
           ->check(CLI::IsMember({"popular", "none"})),
       [p](actors::GenerateConfig& c) { c.fallback = p->flags.fallback; });
  flag(cmd->add_flag("--salvage", f.flags.salvage,
                     "A kept list that does not parse still ranks its user by the queries the parser read from it "
                     "(well-formed lines, repeats left out); the fallback only when there are none"),
       [p](actors::GenerateConfig& c) { c.salvage = p->flags.salvage; });
  flag(cmd->add_option("--max-users", f.flags.max_users, "Only the first users of users.jsonl (0: all)")
           ->check(CLI::NonNegativeNumber),
       [p](actors::GenerateConfig& c) { c.max_users = p->flags.max_users; });
  flag(cmd->add_option("--select", f.flags.select,
                       "Best-of-N's rule: composite (the highest composite reward) or per-reward (each reward "
                       "centred on the user's lists and scaled by its spread, as [grpo] advantage = \"per-reward\")")
           ->check(CLI::IsMember({"composite", "per-reward"})),
       [p](actors::GenerateConfig& c) { c.select = p->flags.select; });
  f.max_tokens_option = cmd->add_option("--max-tokens", f.max_tokens, "Prompt budget, tokens (overrides [prompt] max_tokens)")
                           ->check(CLI::Range(64, 1 << 20));
  f.max_queries_option =
      cmd->add_option("--max-queries", f.max_queries, "Queries per list at most (overrides [prompt] max_queries)")
          ->check(CLI::Range(1, 32));
  f.reasoning_option =
      cmd->add_flag("--reasoning", f.reasoning, "Allow a Reasoning: line in the output grammar (as `data sft --reasoning`)");
}

struct Setup {
  actors::PolicyEvalSpec spec;
  runtime::PlacementSpec placement;
  std::string resolved;  // the resolved config, as TOML
};

// Reads the config and the flags into a spec and checks every input; every
// rank does this before the cluster starts, so a mistake is one line.
Setup prepare(const Flags& f) {
  toml::table root;
  if (!f.config.empty()) root = load_config(f.config);
  const std::string where = f.config.empty() ? "(no config)" : f.config;
  Setup s;
  toml::table generate_resolved, rewards_resolved, prompt_resolved;
  s.spec.generate = read_generate_config(root, where, &generate_resolved);
  for (const auto& [option, set] : f.given) {
    if (option->count() > 0) set(s.spec.generate);
  }
  if (const std::string p = s.spec.generate.problem(); !p.empty()) throw runtime::ConfigError(where + " " + p);
  generate_resolved.insert_or_assign("temperature", s.spec.generate.temperature_in_effect());
  s.spec.rewards = read_reward_config(root, where, &rewards_resolved);
  s.spec.checkpoint = f.ckpt;
  s.spec.world = f.world;
  s.spec.index = f.index;
  s.spec.tokenizer = f.tokenizer;
  // [prompt] with the defaults of `newsrl data sft`; its flags set what they set there.
  const PromptKeys prompt = read_prompt_config(root, where, &prompt_resolved);
  s.spec.prompt = prompt.prompt;
  s.spec.limits = prompt.limits;
  if (f.max_tokens_option->count() > 0) s.spec.prompt.max_tokens = f.max_tokens;
  if (f.max_queries_option->count() > 0) s.spec.limits.max_queries = f.max_queries;
  if (f.reasoning_option->count() > 0) s.spec.limits.allow_reasoning = true;
  prompt_resolved.insert_or_assign("max_tokens", s.spec.prompt.max_tokens);
  prompt_resolved.insert_or_assign("max_queries", s.spec.limits.max_queries);

  const toml::table* placement = root["placement"].as_table();
  if (root.contains("placement") && placement == nullptr) throw runtime::ConfigError(where + ": placement should be a table");
  s.placement = runtime::PlacementSpec::from_toml(placement, f.config.empty() ? "[placement]" : f.config + " [placement]",
                                                  actors::role_names(), {});
  if (!s.placement.requests.contains("rollout")) s.placement.add_all("rollout");  // every rank samples

  actors::check_policy_eval(s.spec);

  std::ostringstream text;
  text << "# newsrl eval policy: the resolved config"
       << (f.reasoning ? " (--reasoning: the grammar allows a Reasoning: line)" : "") << "\n"
       << toml::table{{"prompt", prompt_resolved}} << "\n\n"
       << toml::table{{"generate", generate_resolved}} << "\n\n"
       << toml::table{{"rewards", rewards_resolved}} << "\n";
  s.resolved = text.str();
  return s;
}

// Generation on a cluster of this process's ranks; the summary on the driver.
std::optional<actors::PolicyEvalSummary> run(const Setup& s, const actors::PolicyEvalOutputs& outputs) {
  int argc = 1;
  char name[] = "newsrl";
  char* args[] = {name, nullptr};
  char** argv = args;
  runtime::Cluster cluster(argc, argv, s.placement);
  return actors::run_policy_eval(cluster, s.spec, outputs, std::cerr);
}

nlohmann::ordered_json generation_json(const actors::PolicyEvalSummary& r, int n) {
  nlohmann::ordered_json j;
  j["n"] = n;
  j["lists"] = r.lists;
  j["parse_failures"] = r.parse_failures;
  j["fallbacks"] = r.fallbacks;
  j["salvaged"] = r.salvaged;
  j["empty_signals"] = r.empty_signals;
  j["mean_composite"] = r.mean_composite;
  return j;
}

std::string summary_line(const actors::PolicyEvalSummary& r, const actors::GenerateConfig& g) {
  std::ostringstream out;
  out << r.users << " users, " << g.n << (g.n == 1 ? " list" : " lists") << " each (temperature "
      << g.temperature_in_effect() << "); " << r.parse_failures << " of " << r.lists << " lists did not parse; "
      << (g.salvage ? std::to_string(r.salvaged) + " users ranked by the queries salvaged from theirs; " : "")
      << r.fallbacks << " users ranked by the fallback (" << g.fallback << "); mean composite of the kept lists "
      << r.mean_composite;
  return out.str();
}

// An output whose folder does not exist would fail only after the whole run.
void check_output_folder(const std::string& path) {
  if (path.empty()) return;
  const fs::path parent = fs::path(path).parent_path();
  if (!parent.empty() && !fs::is_directory(parent)) {
    throw runtime::ConfigError(path + ": the folder " + parent.string() + " does not exist");
  }
}

int generate(const Flags& f) {
  for (const std::string* path : {&f.out, &f.rankings, &f.metrics}) check_output_folder(*path);
  const Setup s = prepare(f);
  const std::optional<actors::PolicyEvalSummary> r = run(s, {f.out, f.rankings, f.metrics});
  if (!r) return 0;
  std::cout << "wrote " << f.out << ": " << summary_line(*r, s.spec.generate) << "\n";
  if (!f.rankings.empty()) std::cout << "rankings written to " << f.rankings << "\n";
  return 0;
}

int eval_policy(const Flags& f) {
  const Setup s = prepare(f);
  actors::PolicyEvalOutputs outputs;
  if (!f.out.empty()) {
    std::error_code ec;
    fs::create_directories(f.out, ec);
    if (ec) throw runtime::ConfigError(f.out + ": cannot create the folder (" + ec.message() + ")");
    outputs = {(fs::path(f.out) / "lists.jsonl").string(), (fs::path(f.out) / "rankings.jsonl").string(),
               (fs::path(f.out) / "metrics.json").string()};
  }
  const std::optional<actors::PolicyEvalSummary> r = run(s, outputs);
  if (!r) return 0;
  if (!f.out.empty()) {
    const std::string path = (fs::path(f.out) / "config.toml").string();
    std::ofstream config(path, std::ios::trunc);
    config << s.resolved;
    if (!config) throw std::invalid_argument(path + ": write failed");
  }
  if (f.json) {
    nlohmann::ordered_json j = r->metrics;
    j["method"] = "policy";
    j["generation"] = generation_json(*r, s.spec.generate.n);
    std::cout << j.dump() << "\n";
  } else {
    std::cout << r->table << summary_line(*r, s.spec.generate) << "\n";
    if (!f.out.empty()) std::cout << "lists, rankings, metrics and config written to " << f.out << "\n";
  }
  return 0;
}

}  // namespace

Runner add_generate_command(CLI::App& app) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "generate",
      "Best-of-N query lists of a policy for every user of a dataset, on the rollout-workers (run under mpirun), with "
      "their rewards; optionally the rankings they retrieve from the test window (docs/evaluation.md)");
  add_common(cmd, *f);
  cmd->add_option("--out", f->out, "lists.jsonl: per user the kept list, its rewards, every candidate's composite")
      ->required();
  cmd->add_option("--rankings", f->rankings, "Also write the rankings (JSONL, as `eval rankings` reads)");
  cmd->add_option("--metrics", f->metrics, "Also write the metrics object (JSON, as `eval policy` prints)");
  return [=]() -> std::optional<int> {
    if (*cmd) return generate(*f);
    return std::nullopt;
  };
}

Runner add_eval_policy_command(CLI::App& eval) {
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = eval.add_subcommand(
      "policy",
      "Generate with a policy checkpoint (best-of-N), retrieve from the test window, merge, and score like `eval "
      "rankings --users` (run under mpirun; docs/evaluation.md)");
  add_common(cmd, *f);
  cmd->add_option("--out", f->out, "Folder for lists.jsonl, rankings.jsonl, metrics.json and config.toml");
  cmd->add_flag("--json", f->json, "One JSON object instead of a table");
  return [=]() -> std::optional<int> {
    if (*cmd) return eval_policy(*f);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
