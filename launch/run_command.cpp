#include "launch/run_command.h"

#include <mpi.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "actors/grpo_training.h"
#include "actors/policy_eval.h"
#include "actors/roles.h"
#include "launch/config.h"
#include "launch/generate_keys.h"
#include "launch/grpo_command.h"
#include "launch/mpi_start.h"
#include "launch/run_report.h"
#include "launch/run_config.h"
#include "launch/stage_log.h"
#include "launch/stage_process.h"
#include "models/qwen2_config.h"
#include "news/schema.h"
#include "news/tfidf.h"
#include "runtime/cluster.h"
#include "runtime/errors.h"
#include "runtime/failure.h"
#include "runtime/placement.h"
#include "runtime/quiet_wait.h"

namespace newsrl::launch {

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

struct RunFlags {
  std::string config, out, until;
  std::vector<std::string> sets;
  bool resume = false;
  std::string from;                      // a run folder whose outputs the `reuse` stages are
  std::vector<std::string> reuse, skip;  // stages taken from `from`; stages not needed
  std::string label = "run";             // what the stage lines begin with
  std::string init;                      // GRPO's warm start; "" = the sft stage's latest checkpoint
};

// A key of a table that becomes a flag of a stage's subcommand.
struct FlagKey {
  const char* key;
  const char* flag;
};

// The subcommand flags of one table's keys that are present; the Section
// remembers them as read, so finish() reports any other key as unknown.
std::vector<std::string> flags_of(Section& section, std::initializer_list<FlagKey> keys) {
  std::vector<std::string> args;
  for (const FlagKey& k : keys) {
    const toml::node* n = section.node(k.key);
    if (n == nullptr) continue;
    if (const auto b = n->value_exact<bool>()) {
      if (*b) args.emplace_back(k.flag);
    } else if (const auto i = n->value_exact<std::int64_t>()) {
      args.insert(args.end(), {k.flag, std::to_string(*i)});
    } else if (const auto d = n->value_exact<double>()) {
      std::ostringstream text;
      text.precision(17);
      text << *d;
      args.insert(args.end(), {k.flag, text.str()});
    } else if (const auto s = n->value_exact<std::string>()) {
      args.insert(args.end(), {k.flag, *s});
    } else {
      section.bad(k.key, "should be a number, a string or a boolean");
    }
  }
  return args;
}

// Everything the pipeline needs from the config, read and checked before any
// stage starts (on every rank, so that each finds the same mistake).
struct Pipeline {
  std::string where;
  toml::table root;
  std::string preset = "micro";
  toml::table world_table;
  std::vector<std::string> tokenizer_flags, index_flags, clean_flags, baseline_flags;
  bool clean = true;
  toml::table sft_train;
  std::string sft_preset;
  std::int64_t sft_vocab = 0;  // [sft] vocab_size: the preset's vocabulary replaced (0: the preset's own)
  std::vector<std::string> baselines = {"recent-searches", "popular"};
  actors::GrpoTrainingOptions grpo;  // [grpo], [prompt], [rewards.*]; the paths are the run's
  std::string grpo_toml;              // its resolved tables, for grpo/config.toml
  actors::GenerateConfig generate;
  runtime::PlacementSpec placement;
};

Pipeline read_pipeline(const toml::table& root, const std::string& where) {
  Pipeline p;
  p.where = where;
  p.root = root;
  check_tables(root,
               {"run", "world", "tokenizer", "index", "clean", "prompt", "sft", "grpo", "rewards", "generate", "eval",
                "placement"},
               where);
  Section run(root, "run", where);
  run.get("preset", p.preset);
  run.finish();
  if (const toml::table* w = root["world"].as_table()) p.world_table = *w;

  Section tok(root, "tokenizer", where);
  p.tokenizer_flags = flags_of(tok, {{"vocab_size", "--vocab-size"}, {"min_frequency", "--min-frequency"}});
  tok.finish();
  Section index(root, "index", where);
  p.index_flags = flags_of(index, {{"kind", "--kind"}, {"dim", "--dim"}, {"flat_max", "--flat-max"}, {"seed", "--seed"}});
  index.finish();
  Section clean(root, "clean", where);
  clean.get("enabled", p.clean);
  p.clean_flags = flags_of(clean, {{"preset", "--preset"},
                                   {"epochs", "--epochs"},
                                   {"train_share", "--train-share"},
                                   {"max_tokens", "--max-tokens"},
                                   {"seed", "--seed"}});
  clean.finish();

  // [sft]: the keys of train sft's [train] (docs/configuration.md), and the model.
  Section sft(root, "sft", where);
  p.sft_preset = p.preset;
  sft.get("preset", p.sft_preset);
  sft.get("vocab_size", p.sft_vocab);
  const std::int64_t tokens = root["tokenizer"]["vocab_size"].value_or<std::int64_t>(1024);
  if (p.sft_vocab < 0 || (p.sft_vocab > 0 && p.sft_vocab < tokens)) {
    sft.bad("vocab_size", "must be 0 (the preset's) or at least [tokenizer] vocab_size (" + std::to_string(tokens) + ")");
  }
  const auto& presets = models::Qwen2Config::preset_names();
  if (p.sft_vocab > 0 && std::find(presets.begin(), presets.end(), p.sft_preset) == presets.end()) {
    sft.bad("preset", "unknown preset \"" + p.sft_preset + "\" (needed for vocab_size)");
  }
  if (const toml::table* s = root["sft"].as_table()) {
    for (const auto& [key, node] : *s) {
      const std::string k(key.str());
      static const std::vector<std::string> train_keys = {"steps",  "batch",        "seq",     "lr",
                                                          "min_lr", "warmup",       "weight_decay", "clip",
                                                          "seed",   "checkpoint_every", "keep_last", "log_every"};
      if (k == "preset" || k == "vocab_size") continue;
      if (std::find(train_keys.begin(), train_keys.end(), k) == train_keys.end()) {
        std::string known = "preset, vocab_size";
        for (const std::string& t : train_keys) known += ", " + t;
        throw runtime::ConfigError(where + " [sft] " + k + ": unknown key (known: " + known + ")");
      }
      node.visit([&](auto&& v) { p.sft_train.insert_or_assign(k, v); });
    }
  }

  Section eval(root, "eval", where);
  eval.get("baselines", p.baselines);
  for (const std::string& b : p.baselines) {
    if (b != "recent-searches" && b != "popular" && b != "labeller") {
      throw runtime::ConfigError(where + " [eval] baselines: unknown \"" + b + "\" (recent-searches, popular, labeller)");
    }
  }
  p.baseline_flags = flags_of(eval, {{"k", "--k"}, {"recent_days", "--recent-days"}, {"max_searches", "--max-searches"}});
  eval.finish();

  // [prompt] and [rewards.*] are read (and checked) here, with [grpo]; the
  // evaluation stages use the same values.
  toml::table grpo_resolved;
  p.grpo = read_grpo_config(root, where, &grpo_resolved, false);
  std::ostringstream grpo_text;
  grpo_text << "# newsrl run: the tables train grpo read from " << where << "\n" << grpo_resolved << "\n";
  p.grpo_toml = grpo_text.str();
  p.generate = read_generate_config(root, where);
  std::vector<std::string> roles = actors::role_names();
  p.placement = runtime::PlacementSpec::from_toml(root["placement"].as_table(), where + " [placement]", roles, roles);
  return p;
}

// The tokenizer's training text: every article's title and abstract and every
// event's text, one per line; lowercased when the prompt is ([prompt]
// lowercase), so that the vocabulary is spent on the text the policy reads.
void write_tokenizer_corpus(const fs::path& world, const fs::path& out, bool lowercase) {
  std::ofstream f(out);
  const auto line = [&](const std::string& text) { f << (lowercase ? news::lowercase_text(text) : text) << "\n"; };
  for (const news::Article& a : news::load_news((world / "news.jsonl").string())) {
    line(a.title);
    if (!a.abstract.empty()) line(a.abstract);
  }
  for (const news::User& u : news::load_users((world / "users.jsonl").string())) {
    for (const news::Event& e : u.events) {
      if (!e.text.empty()) line(e.text);
    }
  }
  if (!f.flush()) throw std::runtime_error("cannot write " + out.string());
}

class PipelineRun {
 public:
  PipelineRun(Pipeline p, RunFlags flags, std::string version, int rank)
      : p_(std::move(p)),
        f_(std::move(flags)),
        version_(std::move(version)),
        rank_(rank),
        out_(fs::absolute(f_.out).lexically_normal()),
        progress_(rank == 0),
        stages_(out_ / "stages.json") {}

  int run() {
    const auto t0 = Clock::now();
    if (rank_ == 0) stages_.set_command(command_line());
    struct Stage {
      std::string name;
      std::function<int()> body;
      bool actors = false;  // runs on every rank (a Cluster of its own); else on rank 0 alone
    };
    const fs::path world = world_dir(), clean = clean_dir();
    const std::vector<Stage> stages = {
        {"world", [&] { return stage_world(); }},
        {"tokenizer", [&] { return stage_tokenizer(); }},
        {"index", [&] { return child("index", concat({"index", "build", "--world", world.string(), "--out", (out_ / "index").string()}, p_.index_flags)); }},
        {"clean", [&] { return stage_clean(); }},
        {"sft-data", [&] {
           return child("sft-data", concat({"data", "sft", "--world", clean.string(), "--index", index_dir().string(),
                                            "--tokenizer", tokenizer_path().string(), "--out",
                                            (out_ / "sft.jsonl").string(), "--config", (out_ / "config.toml").string()},
                                           {}));
         }},
        {"sft", [&] { return stage_sft(); }},
        {"grpo", [&] { return stage_grpo(clean); }, true},
        {"eval-baselines", [&] { return stage_baselines(clean); }},
        {"eval-sft", [&] { return stage_eval_policy("sft", latest_checkpoint(sft_run()), clean); }, true},
        {"eval-grpo", [&] { return stage_eval_policy("grpo", at("grpo") / "grpo" / "policy.h5", clean); }, true},
        {"report", [&] {
           for (const std::string& path : write_run_report(out_.string())) progress_.stage_line("  wrote " + path);
           return 0;
         }},
    };
    const int total = static_cast<int>(stages.size());
    for (int i = 0; i < total; ++i) {
      const Stage& s = stages[static_cast<std::size_t>(i)];
      const std::string label = "[" + std::to_string(i + 1) + "/" + std::to_string(total) + "] " + s.name;
      int status = 0;
      // Rank 0 decides (stages.json is its file); every rank learns whether to run.
      const bool reused = contains(f_.reuse, s.name), unneeded = contains(f_.skip, s.name);
      int skip = rank_ == 0 && stages_.done(s.name) ? 1 : 0;
      skip = runtime::quiet_broadcast(MPI_COMM_WORLD, 0, skip);
      if (reused || unneeded) {
        // Not run here: a reused stage's outputs are read from `from`.
        if (rank_ == 0) {
          progress_.stage_line(f_.label + ": " + label + (reused ? ": taken from " + f_.from : ": not needed, skipped"));
        }
      } else if (skip) {
        if (rank_ == 0) progress_.stage_line(f_.label + ": " + label + ": done before, skipped");
      } else if (rank_ == 0 || s.actors) {
        const auto s0 = Clock::now();
        if (rank_ == 0) {
          progress_.stage_line(f_.label + ": " + label + " ...");
          stage_label_ = label;
          stages_.set(s.name, "running", 0);
        }
        try {
          status = s.body();
        } catch (const std::exception& e) {
          if (rank_ == 0) progress_.stage_line(std::string("newsrl: ") + e.what());
          status = 1;
        }
        if (rank_ == 0) {
          const double secs = std::chrono::duration<double>(Clock::now() - s0).count();
          stages_.set(s.name, status == 0 ? "done" : "failed", secs);
          progress_.stage_line(f_.label + ": " + label + (status == 0 ? " done in " : " FAILED after ") + human_seconds(secs) +
                               (status == 0 ? "" : " (exit " + std::to_string(status) + "; see " +
                                                      (out_ / "logs" / (s.name + ".log")).string() +
                                                      "; --resume continues from here)"));
        }
      }
      status = runtime::quiet_broadcast(MPI_COMM_WORLD, 0, status);
      if (status != 0) return rank_ == 0 ? status : 0;
      if (!f_.until.empty() && s.name == f_.until) break;
    }
    if (rank_ == 0) {
      progress_.stage_line(f_.label + ": finished in " + human_seconds(std::chrono::duration<double>(Clock::now() - t0).count()) +
                           (f_.until.empty() ? "; " + (out_ / "eval.json").string() : ""));
    }
    return 0;
  }

 private:
  static bool contains(const std::vector<std::string>& names, const std::string& name) {
    return std::find(names.begin(), names.end(), name) != names.end();
  }
  // The folder that holds a stage's outputs: `from` when the stage is reused.
  fs::path at(const std::string& stage) const { return contains(f_.reuse, stage) ? fs::path(f_.from) : out_; }
  fs::path world_dir() const { return at("world") / "world"; }
  fs::path tokenizer_path() const { return at("tokenizer") / "tokenizer.json"; }
  fs::path index_dir() const { return at("index") / "index"; }
  fs::path clean_dir() const { return p_.clean ? at("clean") / "clean" : world_dir(); }
  fs::path sft_data() const { return at("sft-data") / "sft.jsonl"; }
  fs::path sft_run() const { return at("sft") / "sft"; }

  static std::vector<std::string> concat(std::vector<std::string> a, const std::vector<std::string>& b) {
    a.insert(a.end(), b.begin(), b.end());
    return a;
  }

  // Runs `newsrl args` for stage `name`, its output in logs/<name>.log.
  int child(const std::string& name, const std::vector<std::string>& args,
            const std::function<void(const std::string&)>& on_line = {}) {
    fs::create_directories(out_ / "logs");
    const auto s0 = Clock::now();
    const int status = run_newsrl_child(args, (out_ / "logs" / (name + ".log")).string(), [&](const std::string& line) {
      if (on_line) on_line(line);
      const double secs = std::chrono::duration<double>(Clock::now() - s0).count();
      progress_.live(f_.label + " " + stage_label_ + " " + human_seconds(secs) + " | " + line);
    });
    progress_.clear();
    return status;
  }

  int stage_world() {
    fs::create_directories(out_ / "stages");
    const fs::path config = out_ / "stages" / "world.toml";
    toml::table t;
    t.insert("world", p_.world_table);
    std::ofstream(config) << "# the [world] table of " << p_.where << "\n" << t << "\n";
    return child("world", {"world", "--config", config.string(), "--out", (out_ / "world").string()});
  }

  int stage_tokenizer() {
    const fs::path corpus = out_ / "tokenizer-corpus.txt";
    write_tokenizer_corpus(world_dir(), corpus, p_.grpo.prompt.lowercase);
    return child("tokenizer", concat({"tokenizer", "train", "--input", corpus.string(), "--out",
                                      (out_ / "tokenizer.json").string()},
                                     p_.tokenizer_flags));
  }

  int stage_clean() {
    if (!p_.clean) return 0;
    const std::string tok = tokenizer_path().string();
    if (int s = child("clean", concat({"clean", "train", "--world", world_dir().string(), "--tokenizer", tok,
                                       "--out", (out_ / "cleaner.h5").string()},
                                      p_.clean_flags));
        s != 0) {
      return s;
    }
    return child("clean", {"clean", "apply", "--world", world_dir().string(), "--tokenizer", tok, "--model",
                           (out_ / "cleaner.h5").string(), "--out", (out_ / "clean").string()});
  }

  int stage_sft() {
    fs::create_directories(out_ / "stages");
    const fs::path config = out_ / "stages" / "sft.toml";
    toml::table model{{"preset", p_.sft_preset}};
    if (p_.sft_vocab > 0) {
      // The preset's shapes with another vocabulary, as a model config file.
      models::Qwen2Config shapes = models::Qwen2Config::preset(p_.sft_preset);
      shapes.vocab_size = p_.sft_vocab;
      const fs::path json = out_ / "stages" / "sft-model.json";
      std::ofstream(json) << shapes.to_json().dump(1) << "\n";
      model = toml::table{{"config", json.string()}};
    }
    toml::table train = p_.sft_train;
    train.insert_or_assign("data", sft_data().string());
    toml::table t{{"model", model}, {"train", train}};
    std::ofstream(config) << "# train sft: the [sft] table of " << p_.where << "\n" << t << "\n";
    const bool resume = fs::exists(out_ / "sft" / "checkpoints");
    std::vector<std::string> args = {"train", "sft", "--config", config.string(), "--run", (out_ / "sft").string()};
    if (resume) args.push_back("--resume");
    return child("sft", args);
  }

  // The last checkpoint of a training run folder (checkpoints/latest names it).
  static fs::path latest_checkpoint(const fs::path& run) {
    std::ifstream in(run / "checkpoints" / "latest");
    std::string name;
    if (!(in >> name)) throw std::runtime_error((run / "checkpoints").string() + ": no latest checkpoint");
    return run / "checkpoints" / name;
  }

  // Dr.GRPO from the warm start, on every rank: rollout-, reward-workers and learners.
  int stage_grpo(const fs::path& clean) {
    actors::GrpoTrainingOptions o = p_.grpo;
    o.init = f_.init.empty() ? latest_checkpoint(sft_run()).string() : f_.init;
    o.world = clean.string();
    o.index = index_dir().string();
    o.tokenizer = tokenizer_path().string();
    check_grpo_inputs(o, p_.where);
    const fs::path run = out_ / "grpo";
    const bool resume = fs::exists(run / "checkpoints" / "latest");
    runtime::Cluster cluster(MPI_COMM_WORLD, p_.placement);
    return actors::train_grpo(cluster, o, run.string(), resume, p_.grpo_toml, version_, std::cerr);
  }

  // A policy's lists for every user, retrieved from the test week and scored
  // like the baselines; eval.json gets the metrics under `method`.
  int stage_eval_policy(const std::string& method, const fs::path& checkpoint, const fs::path& clean) {
    actors::PolicyEvalSpec spec;
    spec.checkpoint = checkpoint.string();
    spec.world = clean.string();
    spec.index = index_dir().string();
    spec.tokenizer = tokenizer_path().string();
    spec.prompt = p_.grpo.prompt;
    spec.limits = p_.grpo.limits;
    spec.rewards = p_.grpo.rewards;
    spec.generate = p_.generate;
    actors::check_policy_eval(spec);
    const fs::path dir = out_ / "eval" / method;
    if (rank_ == 0) fs::create_directories(dir);
    actors::PolicyEvalOutputs outputs{(dir / "lists.jsonl").string(), (dir / "rankings.jsonl").string(),
                                      (dir / "metrics.json").string()};
    runtime::Cluster cluster(MPI_COMM_WORLD, p_.placement);
    const nlohmann::json metrics = actors::evaluate_policy(cluster, spec, outputs, std::cerr);
    if (rank_ == 0) merge_eval({{method, metrics}});
    return 0;
  }

  int stage_baselines(const fs::path& clean) {
    nlohmann::json methods = nlohmann::json::object();
    for (const std::string& m : p_.baselines) {
      std::string json_line;
      std::vector<std::string> args = {"eval", "heuristic", "--world", clean.string(), "--index", index_dir().string(),
                                       "--method", m, "--json"};
      if (m == "labeller") {
        // The labeller sees what the run's prompt shows: its tokenizer and
        // [prompt], as the sft-data stage gives them to `data sft`.
        args = concat(args, {"--tokenizer", tokenizer_path().string(), "--config", (out_ / "config.toml").string()});
      }
      const int s = child("eval-baselines", concat(args, p_.baseline_flags),
                          [&](const std::string& line) {
                            if (!line.empty() && line.front() == '{') json_line = line;
                          });
      if (s != 0) return s;
      methods[m] = nlohmann::json::parse(json_line);
    }
    merge_eval(methods);
    return 0;
  }

  // eval.json holds {"methods": {...}}; each evaluation adds its methods.
  void merge_eval(const nlohmann::json& methods) {
    using Json = nlohmann::ordered_json;
    const fs::path path = out_ / "eval.json";
    Json old = Json::object();
    if (fs::exists(path)) {
      std::ifstream in(path);
      Json read = Json::parse(in, nullptr, false);
      if (!read.is_discarded() && read.contains("methods")) old = read["methods"];
    }
    for (const auto& [name, m] : methods.items()) old[name] = m;
    // The policies first, then the baselines (the report keeps this order).
    Json ordered = Json::object();
    for (const char* name : {"grpo", "sft"}) {
      if (old.contains(name)) ordered[name] = old[name];
    }
    for (const auto& [name, m] : old.items()) {
      if (!ordered.contains(name)) ordered[name] = m;
    }
    const Json eval = {{"methods", ordered}};
    const fs::path tmp = path.string() + ".tmp";
    std::ofstream(tmp) << eval.dump(2) << "\n";
    fs::rename(tmp, path);
  }

  Pipeline p_;
  RunFlags f_;
  std::string version_;
  int rank_;
  fs::path out_;
  Progress progress_;
  StageLog stages_;
  std::string stage_label_;
};

int run_pipeline(const RunFlags& flags, const char* version) {
  const fs::path out = fs::absolute(flags.out).lexically_normal();
  const fs::path saved = out / "config.toml";
  std::string config_path = flags.config;
  if (config_path.empty() && flags.resume) {
    if (!fs::exists(saved)) throw runtime::ConfigError(out.string() + ": nothing to resume (no config.toml)");
    config_path = saved.string();
  }
  if (!flags.resume && fs::exists(out / "stages.json")) {
    throw runtime::ConfigError(out.string() + " already holds a run: --resume continues it, or choose another --out");
  }
  const std::string where = config_path.empty() ? "(no config)" : config_path;
  const toml::table root = load_run_config(config_path, flags.sets);
  Pipeline p = read_pipeline(root, where);

  const MpiRank mpi = start_mpi();
  const int rank = mpi.rank, size = mpi.size;
  const runtime::Placement placement = runtime::Placement::resolve(p.placement, size);
  runtime::install_failure_handlers(rank, placement);
  runtime::set_job_running(true);

  if (rank == 0) {
    fs::create_directories(out / "logs");
    if (!fs::exists(saved) || !flags.config.empty() || !flags.sets.empty()) {
      std::ofstream(saved) << "# newsrl run " << version << ": the config of this run (with every --set applied)\n"
                           << root << "\n";
    }
  }
  PipelineRun pipeline(std::move(p), flags, version, rank);
  const int status = pipeline.run();
  runtime::set_job_running(false);
  runtime::uninstall_failure_handlers();
  MPI_Finalize();
  return status;
}

}  // namespace

int run_pipeline_job(const PipelineJob& job, const std::string& version) {
  const fs::path out = fs::absolute(job.out).lexically_normal();
  Pipeline p = read_pipeline(job.config, job.where);
  int rank = 0;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  if (rank == 0) {
    fs::create_directories(out / "logs");
    std::ofstream(out / "config.toml") << "# newsrl " << version << ": the config of this part (" << job.label
                                       << ")\n"
                                       << job.config << "\n";
  }
  RunFlags flags;
  flags.out = out.string();
  flags.until = job.until;
  flags.resume = true;
  flags.from = job.from.empty() ? "" : fs::absolute(job.from).lexically_normal().string();
  flags.reuse = job.reuse;
  flags.skip = job.skip;
  flags.label = job.label;
  flags.init = job.init;
  PipelineRun pipeline(std::move(p), flags, version, rank);
  return runtime::quiet_broadcast(MPI_COMM_WORLD, 0, pipeline.run());
}

void check_run_config(const toml::table& root, const std::string& where) { read_pipeline(root, where); }

Runner add_run_commands(CLI::App& app, const char* version) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* run = app.add_subcommand(
      "run",
      "The whole pipeline in one job: world -> tokenizer -> index -> noise cleaning -> warm start (SFT) -> GRPO -> "
      "evaluation against the baselines -> report, into one run folder. Stages already done are skipped with "
      "--resume. Keys: docs/run.md");
  run->add_option("--config", f->config, "Run config (TOML), e.g. launch/configs/quickstart.toml")
      ->check(CLI::ExistingFile);
  run->add_option("--out", f->out, "Run folder (config.toml, stages.json, logs/, eval.json, report.md, ...)")
      ->required();
  run->add_option("--set", f->sets, "Override a config key: table.key=value (repeatable), e.g. --set world.seed=7");
  run->add_flag("--resume", f->resume, "Continue the run in --out: skip finished stages, resume training stages");
  run->add_option("--until", f->until, "Stop after this stage (world, tokenizer, index, clean, sft-data, sft, ...)");
  return [=]() -> std::optional<int> {
    if (!*run) return std::nullopt;
    return run_pipeline(*f, version);
  };
}

}  // namespace newsrl::launch
