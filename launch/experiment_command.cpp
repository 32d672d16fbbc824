// The command line of `newsrl experiment …` and the five experiments' plans:
// which pipeline parts make the shared prefix, which parts train, which
// evaluate, and what the rows of the table are.
#include "launch/experiment_command.h"

#include <mpi.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>

#include "actors/distill_training.h"
#include "actors/roles.h"
#include "launch/distill_command.h"
#include "launch/experiment.h"
#include "launch/grpo_command.h"
#include "launch/mpi_start.h"
#include "launch/run_command.h"
#include "launch/run_config.h"
#include "models/qwen2_config.h"
#include "runtime/cluster.h"
#include "runtime/errors.h"
#include "runtime/failure.h"
#include "runtime/placement.h"

namespace newsrl::launch {

namespace {

namespace fs = std::filesystem;

const std::vector<std::string> kRewards = {"ret", "cov", "spec", "div", "struct"};
// The pipeline stages an experiment part takes from a shared prefix.
const std::vector<std::string> kPrefixToData = {"world", "tokenizer", "index", "clean", "sft-data"};
const std::vector<std::string> kPrefixToClean = {"world", "tokenizer", "index", "clean"};
const std::vector<std::string> kPrefixToSft = {"world", "tokenizer", "index", "clean", "sft-data", "sft"};
// scaling's presets under --budget small when --sizes is not given (docs/experiments.md, "Budget").
const std::vector<std::string> kSmallBudgetSizes = {"nano", "micro", "mini"};

struct ExperimentFlags {
  std::string config, out;
  std::vector<std::string> sets;
  bool resume = false;
  ExperimentOptions options;
  std::vector<CLI::Option*> choices;  // options that --resume takes from experiment.json instead
  CLI::Option* sizes = nullptr;       // scaling's --sizes, whose default depends on --budget
};

// A copy of `root` with table.key = value.
template <typename T>
toml::table with(toml::table root, const std::string& table, const std::string& key, T value) {
  if (root[table].as_table() == nullptr) root.insert_or_assign(table, toml::table{});
  root[table].as_table()->insert_or_assign(key, value);
  return root;
}

// --budget small caps the steps and the evaluated users (docs/experiments.md;
// experiment distill also caps the supervised teacher's users at 200);
// `full` keeps the config as written. --set comes after, so it wins.
void apply_budget(toml::table& root, const std::string& budget) {
  if (budget == "full") return;
  auto cap = [&](const std::string& table, const std::string& key, std::int64_t limit, bool zero_is_all) {
    const std::optional<std::int64_t> v = root[table][key].value_exact<std::int64_t>();
    if (root[table].node() != nullptr && root[table].as_table() == nullptr) return;  // the reader reports it
    if (root[table][key].node() != nullptr && !v) return;
    const std::int64_t capped = !v || (zero_is_all && *v == 0) ? limit : std::min(*v, limit);
    root = with(root, table, key, capped);
  };
  cap("sft", "steps", 300, false);
  cap("grpo", "steps", 30, false);
  if (root["distill"]["steps"].node() != nullptr) cap("distill", "steps", 30, false);  // else [grpo]'s
  cap("generate", "max_users", 200, true);
}

// A copy of `root` with [rewards.<reward>] weight = 0 (its other keys kept).
toml::table without_reward(const toml::table& root, const std::string& reward) {
  toml::table t;
  if (const toml::table* old = root["rewards"][reward].as_table()) t = *old;
  t.insert_or_assign("weight", 0.0);
  return with(root, "rewards", reward, t);
}

std::int64_t preset_vocab(const std::string& preset) { return models::Qwen2Config::preset(preset).vocab_size; }

// The tokenizer's vocabulary, made no larger than every preset's (a
// tokenizer serves a model whose vocabulary holds all its ids).
toml::table fit_tokenizer(const toml::table& root, const std::vector<std::string>& presets) {
  std::int64_t vocab = root["tokenizer"]["vocab_size"].value_or<std::int64_t>(1024);
  for (const std::string& p : presets) vocab = std::min(vocab, preset_vocab(p));
  return with(root, "tokenizer", "vocab_size", vocab);
}

void check_preset(const std::string& flag, const std::string& name) {
  const auto& names = models::Qwen2Config::preset_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    std::string known;
    for (const std::string& n : names) known += (known.empty() ? "" : ", ") + n;
    throw runtime::ConfigError(flag + ": unknown preset \"" + name + "\" (" + known + ")");
  }
}

template <typename T>
void check_unique(const std::string& flag, const std::vector<T>& values) {
  if (values.empty()) throw runtime::ConfigError(flag + ": give at least one value");
  std::set<T> seen(values.begin(), values.end());
  if (seen.size() != values.size()) throw runtime::ConfigError(flag + ": a value is given twice");
}

// Checks the options of `o.kind` (one line, exit 2).
void check_options(const ExperimentOptions& o) {
  if (o.kind == "best-of-n") {
    check_unique("--n", o.n);
    for (int n : o.n) {
      if (n < 1 || n > 4096) throw runtime::ConfigError("--n: " + std::to_string(n) + " is not between 1 and 4096");
    }
  } else if (o.kind == "scaling") {
    check_unique("--sizes", o.sizes);
    for (const std::string& s : o.sizes) check_preset("--sizes", s);
    if (o.eval_n < 0 || o.eval_n > 4096) throw runtime::ConfigError("--eval-n: should be between 0 and 4096");
  } else if (o.kind == "ablation") {
    check_unique("--without", o.without);
    for (const std::string& r : o.without) {
      if (std::find(kRewards.begin(), kRewards.end(), r) == kRewards.end()) {
        throw runtime::ConfigError("--without: unknown reward \"" + r + "\" (ret, cov, spec, div, struct)");
      }
    }
  } else if (o.kind == "throughput" || o.kind == "distill") {
    if (o.teacher.empty()) check_preset("--teacher-preset", o.teacher_preset);
    if (o.student.empty() && o.student_init.empty()) check_preset("--student-preset", o.student_preset);
  }
}

// A model of `vocab` ids beside a given checkpoint must hold the config's
// tokenizer, the one that checkpoint was trained with (one line, exit 2).
void check_holds_tokenizer(const std::string& what, std::int64_t vocab, const toml::table& root,
                           const std::string& advice) {
  const std::int64_t tokens = root["tokenizer"]["vocab_size"].value_or<std::int64_t>(1024);
  if (tokens > vocab) {
    throw runtime::ConfigError(what + ": its vocabulary (" + std::to_string(vocab) +
                               ") is smaller than [tokenizer] vocab_size (" + std::to_string(tokens) +
                               "), the tokenizer of the checkpoint given; " + advice);
  }
}

// throughput with one checkpoint given: the fresh init beside it must hold
// the config's tokenizer, which the checkpoint was trained with.
void check_fresh_init(const ExperimentOptions& o, const toml::table& root) {
  if (o.kind != "throughput" || o.teacher.empty() == o.student.empty()) return;
  const bool fresh_student = o.student.empty();
  const std::string& preset = fresh_student ? o.student_preset : o.teacher_preset;
  check_holds_tokenizer(std::string(fresh_student ? "--student-preset " : "--teacher-preset ") + preset,
                        preset_vocab(preset), root, "choose a larger preset");
}

// distill: the configs of the shared prefix, the teacher's and the
// student's warm start. Both models get one vocabulary (train distill
// refuses two): a given checkpoint's (--teacher, --student-init; the
// config's tokenizer, which it was trained with, is kept and must fit it),
// else the tokenizer's, fitted to both presets ([sft] vocab_size).
struct DistillConfigs {
  toml::table shared, teacher, student;
  std::int64_t vocab = 0;
};

DistillConfigs distill_configs(const ExperimentOptions& o, const toml::table& root, const std::string& where) {
  DistillConfigs c;
  c.shared = root;
  c.shared.erase("distill");  // the students' table: no pipeline part reads it
  std::string given;
  for (const auto& [path, flag] : {std::pair{o.teacher, "--teacher"}, std::pair{o.student_init, "--student-init"}}) {
    if (path.empty()) continue;
    const std::int64_t v = checkpoint_model_config(path, flag, where).vocab_size;
    if (c.vocab != 0 && v != c.vocab) {
      throw runtime::ConfigError("--teacher has a vocabulary of " + std::to_string(c.vocab) + " ids, --student-init " +
                                 std::to_string(v) + ": student and teacher must share a tokenizer");
    }
    c.vocab = v;
    given = flag;
  }
  if (c.vocab == 0) {
    c.shared = fit_tokenizer(c.shared, {o.teacher_preset, o.student_preset});
    c.vocab = c.shared["tokenizer"]["vocab_size"].value_or<std::int64_t>(1024);
  } else {
    check_holds_tokenizer(given, c.vocab, c.shared, "give the config that checkpoint was trained with");
  }
  auto model = [&](const std::string& preset) {
    return with(with(with(c.shared, "run", "preset", preset), "sft", "preset", preset), "sft", "vocab_size", c.vocab);
  };
  c.teacher = model(o.teacher_preset);
  c.student = model(o.student_preset);
  return c;
}

// distill: the students' training options. [distill] of the config (its
// `mode` is each row's own), whose steps, prompts_per_step, max_new_tokens
// and checkpoint_every default to [grpo]'s, so that the distilled students
// get the budget of the student trained without a teacher; `resolved`
// receives [prompt], [grpo], [rewards] and [distill] with every value in effect.
actors::DistillTrainingOptions distill_options(const toml::table& root, const std::string& where,
                                               toml::table* resolved = nullptr) {
  actors::DistillTrainingOptions d;
  toml::table config = root;
  config.erase("distill");
  toml::table tables;
  d.base = read_grpo_config(config, where, &tables, false);
  toml::table table;
  if (const toml::node* n = root["distill"].node()) {
    if (n->as_table() == nullptr) throw runtime::ConfigError(where + " [distill]: should be a table");
    table = *n->as_table();
  }
  if (table.contains("mode")) {
    throw runtime::ConfigError(where + " [distill] mode: set by the experiment (one row per mode); remove it");
  }
  auto fill = [&](const char* key, std::int64_t value) {
    if (!table.contains(key)) table.insert(key, value);
  };
  fill("steps", d.base.steps);
  fill("prompts_per_step", d.base.prompts_per_step);
  fill("max_new_tokens", d.base.max_new_tokens);
  fill("checkpoint_every", d.base.checkpoint_every);
  config.insert_or_assign("distill", table);
  toml::table distill_table;
  read_distill_config(config, where, d, nullptr, &distill_table);
  if (const std::string problem = actors::check_distill_options(d); !problem.empty()) {
    throw runtime::ConfigError(where + " " + problem);
  }
  if (resolved != nullptr) {
    *resolved = tables;
    resolved->insert_or_assign("distill", distill_table);
  }
  return d;
}

// Every config a part will run, for the checks before anything starts.
std::vector<toml::table> part_configs(const ExperimentOptions& o, const toml::table& root, const std::string& where) {
  if (o.kind == "distill") {
    const DistillConfigs c = distill_configs(o, root, where);
    distill_options(root, where);
    return {c.shared, c.teacher, c.student};
  }
  std::vector<toml::table> configs = {root};
  if (o.kind == "scaling") {
    const toml::table shared = fit_tokenizer(root, o.sizes);
    for (const std::string& size : o.sizes)
      configs.push_back(with(with(shared, "run", "preset", size), "sft", "preset", size));
  } else if (o.kind == "ablation") {
    for (const std::string& r : o.without) configs.push_back(without_reward(root, r));
  }
  return configs;
}

// ---- the five plans -------------------------------------------------------

// A pipeline part: `config` to stage `until`, the `reuse` stages read from `from`.
PipelineJob job_of(const toml::table& config, const std::string& where, const std::string& until,
                   const fs::path& from = {}, const std::vector<std::string>& reuse = {}) {
  PipelineJob job;
  job.config = config;
  job.where = where;
  job.until = until;
  job.from = from.string();
  job.reuse = reuse;
  return job;
}

int best_of_n(Experiment& e) {
  const ExperimentOptions& o = e.options();
  const fs::path base = e.dir() / "base";
  if (int s = e.pipeline("base", job_of(e.config(), e.where(), o.ckpt.empty() ? "grpo" : "clean")); s != 0) return s;
  const std::string policy = o.ckpt.empty() ? (base / "grpo" / "policy.h5").string() : o.ckpt;
  // Every N samples at the same temperature ([generate] temperature, else 1),
  // so N = 1 is one sampled list, not the greedy one.
  const double temperature = e.config()["generate"]["temperature"].value_or(1.0);
  std::vector<ExperimentRow> rows;
  for (int n : o.n) {
    const std::string part = "n-" + std::to_string(n);
    if (int s = e.evaluate(part, policy, base, e.config(),
                           [&](actors::GenerateConfig& g) {
                             g.n = n;
                             g.temperature = temperature;
                           });
        s != 0) {
      return s;
    }
    rows.push_back({part, {{"name", std::to_string(n)}, {"x", n}}});
  }
  char temperature_text[32];
  std::snprintf(temperature_text, sizeof temperature_text, "%g", temperature);
  const std::string from = o.ckpt.empty() ? "the base run's GRPO policy (base/grpo/policy.h5)" : "`" + o.ckpt + "`";
  const std::string select = e.config()["generate"]["select"].value_or(std::string("composite"));
  const std::string rule =
      select == "per-reward" ? "the per-reward rule (`[generate] select = \"per-reward\"`)" : "the highest composite reward";
  const std::string note = "Policy: " + from + ". Each N keeps one of N lists sampled at temperature " +
                           std::string(temperature_text) + ", by " + rule + ".";
  return e.report(rows, {note});
}

int scaling(Experiment& e) {
  const ExperimentOptions& o = e.options();
  const toml::table shared = fit_tokenizer(e.config(), o.sizes);
  if (int s = e.pipeline("shared", job_of(shared, e.where(), "sft-data")); s != 0) return s;
  std::vector<ExperimentRow> rows;
  for (const std::string& size : o.sizes) {
    const toml::table config = with(with(shared, "run", "preset", size), "sft", "preset", size);
    if (int s = e.pipeline(size, job_of(config, e.where(), "grpo", e.dir() / "shared", kPrefixToData)); s != 0) {
      return s;
    }
    const std::string part = "eval-" + size;
    if (int s = e.evaluate(part, (e.dir() / size / "grpo" / "policy.h5").string(), e.dir() / "shared", config,
                           [&](actors::GenerateConfig& g) {
                             if (o.eval_n > 0) g.n = o.eval_n;
                           });
        s != 0) {
      return s;
    }
    const std::int64_t params = models::Qwen2Config::preset(size).parameter_count();
    rows.push_back(
        {part, {{"name", size}, {"preset", size}, {"parameters", params}, {"x", static_cast<double>(params) / 1e6}}});
  }
  const std::int64_t vocab = shared["tokenizer"]["vocab_size"].value_or<std::int64_t>(0);
  return e.report(rows, {"Every size: the same world, tokenizer (" + std::to_string(vocab) +
                         " tokens, no more than the smallest preset's vocabulary), index, cleaning and SFT data "
                         "(shared/), then SFT and GRPO with the config's [sft] and [grpo] (run.preset = the size)."});
}

int ablation(Experiment& e) {
  const ExperimentOptions& o = e.options();
  // With --init the base stops at the cleaned world and every variant's GRPO starts from that checkpoint.
  if (int s = e.pipeline("base", job_of(e.config(), e.where(), o.init.empty() ? "sft" : "clean")); s != 0) return s;
  std::vector<std::pair<std::string, std::string>> variants = {{"full", ""}};
  for (const std::string& r : o.without) variants.emplace_back("no-" + r, r);
  std::vector<ExperimentRow> rows;
  for (const auto& [name, removed] : variants) {
    const toml::table variant = removed.empty() ? e.config() : without_reward(e.config(), removed);
    PipelineJob job = job_of(variant, e.where(), "grpo", e.dir() / "base", o.init.empty() ? kPrefixToSft : kPrefixToClean);
    if (!o.init.empty()) {
      job.skip = {"sft-data", "sft"};
      job.init = o.init;
    }
    if (int s = e.pipeline(name, job); s != 0) return s;
    // Evaluated with the full reward config: the same selection rule for every variant.
    const std::string part = "eval-" + name;
    if (int s = e.evaluate(part, (e.dir() / name / "grpo" / "policy.h5").string(), e.dir() / "base", e.config(),
                           [](actors::GenerateConfig&) {});
        s != 0) {
      return s;
    }
    rows.push_back({part, {{"name", name}, {"removed", removed}}});
  }
  const std::string warm_start = o.init.empty() ? "base/sft" : "`" + o.init + "`";
  return e.report(rows, {"Every row: GRPO from the same warm start (" + warm_start +
                         ") with the config's [grpo]; `no-X` sets [rewards.X] weight = 0 for training. All rows are "
                         "evaluated with the full reward config."});
}

int throughput(Experiment& e) {
  const ExperimentOptions& o = e.options();
  // With two fresh inits the tokenizer is fitted to both presets; a given
  // checkpoint keeps the config's tokenizer (the one it was trained with), and
  // a fresh init beside it must hold that vocabulary (check_fresh_init).
  const toml::table config = o.teacher.empty() && o.student.empty()
                                 ? fit_tokenizer(e.config(), {o.teacher_preset, o.student_preset})
                                 : e.config();
  if (int s = e.pipeline("base", job_of(config, e.where(), "clean")); s != 0) return s;
  std::vector<ExperimentRow> rows;
  std::vector<std::string> notes;
  for (const auto& [role, given, preset] : {std::tuple{std::string("teacher"), o.teacher, o.teacher_preset},
                                            std::tuple{std::string("student"), o.student, o.student_preset}}) {
    std::string ckpt = given;
    if (ckpt.empty()) {
      ckpt = (e.dir() / "init" / (role + ".h5")).string();
      fs::create_directories(e.dir() / "init");
      if (int s = e.child("init-" + role,
                          {"model", "init", "--preset", preset, "--seed", std::to_string(o.init_seed), "--out", ckpt});
          s != 0) {
        return s;
      }
      notes.push_back("The " + role + " is a fresh initialisation of the `" + preset + "` preset (seed " +
                      std::to_string(o.init_seed) +
                      "): its lists are noise that runs to max_new_tokens; the speed is "
                      "the model's, the quality columns mean nothing.");
    } else {
      notes.push_back("The " + role + " is `" + given + "`.");
    }
    if (int s = e.evaluate(role, ckpt, e.dir() / "base", config,
                           [](actors::GenerateConfig& g) {
                             g.n = 1;
                             g.temperature = 0.0;
                           });
        s != 0) {
      return s;
    }
    rows.push_back({role, {{"name", role}, {"preset", given.empty() ? preset : ""}}});
  }
  notes.push_back(
      "Both through `newsrl eval policy`'s path (rollout-workers, greedy, N = 1, then scoring and "
      "retrieval), one after the other on the same ranks of this machine.");
  return e.report(rows, notes);
}

// The last checkpoint of a training run folder (checkpoints/latest names it).
std::string latest_checkpoint(const fs::path& run) {
  std::ifstream in(run / "checkpoints" / "latest");
  std::string name;
  if (!(in >> name)) throw std::runtime_error((run / "checkpoints").string() + ": no latest checkpoint");
  return (run / "checkpoints" / name).string();
}

int distill(Experiment& e) {
  const ExperimentOptions& o = e.options();
  const DistillConfigs configs = distill_configs(o, e.config(), e.where());
  const fs::path shared = e.dir() / "shared";
  if (int s = e.pipeline("shared", job_of(configs.shared, e.where(), "sft-data")); s != 0) return s;
  std::string teacher = o.teacher;
  if (teacher.empty()) {
    if (int s = e.pipeline("teacher", job_of(configs.teacher, e.where(), "grpo", shared, kPrefixToData)); s != 0) {
      return s;
    }
    teacher = (e.dir() / "teacher" / "grpo" / "policy.h5").string();
  }
  if (o.student_init.empty()) {
    if (int s = e.pipeline("student", job_of(configs.student, e.where(), "sft", shared, kPrefixToData)); s != 0) {
      return s;
    }
  }
  // Read when a part needs it: the student's warm start exists once its part is done.
  auto warm_start = [&] {
    return o.student_init.empty() ? latest_checkpoint(e.dir() / "student" / "sft") : o.student_init;
  };
  std::vector<ExperimentRow> rows;
  auto evaluate = [&](const std::string& name, const std::function<std::string()>& checkpoint, bool student) {
    const std::string part = "eval-" + name;
    const int s = e.evaluate(part, checkpoint(), shared, configs.shared, [](actors::GenerateConfig&) {});
    rows.push_back({part, {{"name", name}, {"student", student}}});
    return s;
  };
  if (int s = evaluate(
          "teacher", [&] { return teacher; }, false);
      s != 0)
    return s;
  if (int s = evaluate("student-sft", warm_start, false); s != 0) return s;

  toml::table tables;
  const actors::DistillTrainingOptions recipe = distill_options(e.config(), e.where(), &tables);
  // Under --budget small the supervised teacher writes lists for at most 200 users, as many as are evaluated.
  const std::int64_t supervised_users = o.budget == "small" ? 200 : 0;
  for (const std::string mode : {"on-policy", "supervised", "none"}) {
    const int s = e.part(
        mode,
        [&] {
          actors::DistillTrainingOptions d = recipe;
          d.mode = mode;
          d.teacher = teacher;
          d.base.init = warm_start();
          d.base.world = e.clean_world(shared, configs.shared).string();
          d.base.index = (shared / "index").string();
          d.base.tokenizer = (shared / "tokenizer.json").string();
          if (mode == "supervised" && supervised_users > 0 &&
              (d.base.max_users == 0 || d.base.max_users > supervised_users)) {
            d.base.max_users = supervised_users;
          }
          toml::table resolved = tables;
          resolved.insert_or_assign("model", toml::table{{"init", d.base.init}});
          resolved.insert_or_assign("data", toml::table{{"world", d.base.world},
                                                        {"index", d.base.index},
                                                        {"tokenizer", d.base.tokenizer},
                                                        {"max_users", d.base.max_users}});
          if (mode != "none") resolved.insert_or_assign("teacher", toml::table{{"checkpoint", teacher}});
          resolved["distill"].as_table()->insert_or_assign("mode", mode);
          std::ostringstream text;
          text << "# newsrl experiment distill: the resolved config of the " << mode << " student\n"
               << resolved << "\n";
          const fs::path run = e.dir() / mode;
          const bool resume =
              mode == "supervised" ? fs::exists(run / "config.toml") : fs::exists(run / "checkpoints" / "latest");
          runtime::Cluster cluster(MPI_COMM_WORLD, e.placement());
          return actors::train_distill(cluster, d, run.string(), resume, text.str(), e.version(), std::cerr);
        },
        true);
    if (s != 0) return s;
    if (int s2 = evaluate(
            mode, [&] { return (e.dir() / mode / "student.h5").string(); }, true);
        s2 != 0)
      return s2;
  }

  const auto count = [](std::int64_t v) { return std::to_string(v); };
  const auto number = [](double v) {  // 1, 0.7: as the config writes it
    std::ostringstream text;
    text << v;
    return text.str();
  };
  std::vector<std::string> notes = {
      "Teacher: " +
          (o.teacher.empty() ? "SFT + GRPO of the `" + o.teacher_preset + "` preset (teacher/)"
                             : "`" + o.teacher + "`") +
          "; student warm start (`student-sft`): " +
          (o.student_init.empty() ? "SFT of the `" + o.student_preset + "` preset (student/)"
                                  : "`" + o.student_init + "`") +
          ". Both models have a vocabulary of " + count(configs.vocab) + " ids and share the tokenizer of shared/.",
      "Budget of each student from the warm start: `on-policy` " + count(recipe.steps) + " steps of " +
          count(recipe.prompts_per_step) + " users x " + count(recipe.samples_per_prompt) + " lists at temperature " +
          number(recipe.temperature) + ", reverse KL (`" + recipe.kl +
          "`) against the teacher; `supervised` the teacher's " +
          (recipe.teacher_temperature > 0 ? "best-of-" + count(recipe.best_of) + " list at temperature " +
                                                number(recipe.teacher_temperature) +
                                                (recipe.best_of > 1 ? " (by " + recipe.select + ")" : "")
                                          : std::string("greedy list")) +
          " for " +
          (supervised_users > 0 ? "at most " + count(supervised_users) + " training users" : "every training user") +
          ", then " + count(recipe.steps) + " SFT steps of " + count(recipe.batch) + " examples; `none` " +
          count(recipe.base.steps) + " GRPO steps of " + count(recipe.base.prompts_per_step) + " users x " +
          count(recipe.base.group) + " lists ([grpo]), no teacher.",
      "Every row is evaluated with the same [generate] settings. \"Teacher's gain kept\" = (student − student-sft) / "
      "(teacher − student-sft) on Recall@10; n/a when the teacher is no better than the warm start."};
  return e.report(rows, notes);
}

int run_experiment(const ExperimentFlags& f, const char* version) {
  const fs::path out = fs::absolute(f.out).lexically_normal();
  ExperimentOptions options = f.options;
  toml::table root;
  std::string where;
  if (f.resume) {
    if (!fs::exists(out / "experiment.json")) {
      throw runtime::ConfigError(out.string() + ": nothing to resume (no experiment.json)");
    }
    if (!f.config.empty() || !f.sets.empty()) {
      throw runtime::ConfigError("--resume continues with the config saved in " + (out / "config.toml").string() +
                                 "; give only --out (a new --out starts another experiment)");
    }
    for (const CLI::Option* opt : f.choices) {
      if (opt->count() > 0) {
        throw runtime::ConfigError("--resume continues with the options saved in " +
                                   (out / "experiment.json").string() + "; " + opt->get_name() + " cannot change");
      }
    }
    std::ifstream in(out / "experiment.json");
    const nlohmann::json saved = nlohmann::json::parse(in, nullptr, false);
    if (saved.is_discarded()) throw runtime::ConfigError((out / "experiment.json").string() + ": not valid JSON");
    options = ExperimentOptions::from_json(saved, (out / "experiment.json").string());
    if (options.kind != f.options.kind) {
      throw runtime::ConfigError(out.string() + " holds a " + options.kind + " experiment, not " + f.options.kind);
    }
    where = (out / "config.toml").string();
    root = load_run_config(where, {});
  } else {
    if (fs::exists(out / "experiment.json") || fs::exists(out / "stages.json")) {
      throw runtime::ConfigError(out.string() +
                                 " already holds an experiment: --resume continues it, or choose another --out");
    }
    where = f.config.empty() ? "(no config)" : f.config;
    root = load_run_config(f.config, {});
    apply_budget(root, options.budget);
    for (const std::string& s : f.sets) apply_override(root, s);
    // The small preset's SFT and GRPO alone take about 40 minutes on one core at this budget.
    if (f.sizes != nullptr && f.sizes->count() == 0 && options.budget == "small") options.sizes = kSmallBudgetSizes;
  }
  if (options.kind == "distill" && options.teacher_preset.empty()) {
    options.teacher_preset = root["run"]["preset"].value_or(std::string("micro"));
  }
  for (std::string* path : {&options.ckpt, &options.teacher, &options.student, &options.student_init, &options.init}) {
    if (!path->empty()) *path = fs::absolute(*path).lexically_normal().string();
  }
  check_options(options);
  check_fresh_init(options, root);
  if (!options.init.empty()) {
    check_holds_tokenizer("--init", checkpoint_model_config(options.init, "--init", where).vocab_size, root,
                          "give the config that checkpoint was trained with");
  }
  for (const toml::table& config : part_configs(options, root, where)) check_run_config(config, where);

  const MpiRank mpi = start_mpi();
  const int rank = mpi.rank, size = mpi.size;
  const std::vector<std::string> roles = actors::role_names();
  const runtime::PlacementSpec spec =
      runtime::PlacementSpec::from_toml(root["placement"].as_table(), where + " [placement]", roles, roles);
  const runtime::Placement placement = runtime::Placement::resolve(spec, size);
  runtime::install_failure_handlers(rank, placement);
  runtime::set_job_running(true);
  if (rank == 0) {
    fs::create_directories(out / "logs");
    if (!f.resume) {
      std::ofstream(out / "config.toml") << "# newsrl experiment " << options.kind << " " << version
                                         << ": the config of this experiment (budget and --set applied)\n"
                                         << root << "\n";
      std::ofstream(out / "experiment.json") << options.to_json().dump(1) << "\n";
    }
  }
  Experiment e(out, root, where, options, version, rank, spec);
  int status = 0;
  if (options.kind == "best-of-n") status = best_of_n(e);
  if (options.kind == "scaling") status = scaling(e);
  if (options.kind == "ablation") status = ablation(e);
  if (options.kind == "throughput") status = throughput(e);
  if (options.kind == "distill") status = distill(e);
  if (rank == 0 && status == 0)
    std::cerr << "experiment " << options.kind << ": " << (out / "report.md").string() << "\n";
  runtime::set_job_running(false);
  runtime::uninstall_failure_handlers();
  MPI_Finalize();
  return rank == 0 ? status : 0;
}

// --teacher, --teacher-preset and --student-preset (with --student where
// the experiment evaluates a given student): one definition and meaning for
// every experiment that has a teacher and a student. `made` says what the
// experiment does without a checkpoint ("a fresh init of"), `preset_of` what
// the presets are of.
void add_model_flags(CLI::App& c, ExperimentFlags& f, const std::string& made, const std::string& preset_of,
                     bool student) {
  ExperimentOptions& o = f.options;
  f.choices.push_back(
      c.add_option("--teacher", o.teacher, "Teacher checkpoint (default: " + made + " --teacher-preset)")
          ->check(CLI::ExistingFile));
  if (student) {
    f.choices.push_back(
        c.add_option("--student", o.student, "Student checkpoint (default: " + made + " --student-preset)")
            ->check(CLI::ExistingFile));
  }
  f.choices.push_back(c.add_option("--teacher-preset", o.teacher_preset,
                                   "Preset of the teacher's " + preset_of +
                                       (o.teacher_preset.empty() ? " (default: [run] preset of the config)" : ""))
                          ->capture_default_str());
  f.choices.push_back(c.add_option("--student-preset", o.student_preset, "Preset of the student's " + preset_of)
                          ->capture_default_str());
}

}  // namespace

Runner add_experiment_commands(CLI::App& app, const char* version) {
  CLI::App* group =
      app.add_subcommand("experiment",
                         "The paper's comparisons on our data, each in one experiment folder (report.md, results.json, "
                         "plots/*.png), resumable. docs/experiments.md");
  group->require_subcommand(1);
  struct Kind {
    const char* name;
    const char* help;
  };
  const std::vector<Kind> kinds = {
      {"best-of-n",
       "One policy, N sampled lists per user, the best kept ([generate] select): quality and cost per N (Fig. 3)"},
      {"scaling", "The same SFT + GRPO recipe at each model size, evaluated at one N (Fig. 2)"},
      {"ablation", "GRPO from one warm start with the full reward and with each reward removed (Table 5)"},
      {"throughput", "Users per second of a teacher and a student, N = 1, through eval policy's path (Table 6)"},
      {"distill",
       "A teacher (SFT + GRPO), the student's warm start, and the student trained on-policy, supervised and without "
       "a teacher, side by side (Table 3)"},
  };
  std::vector<std::pair<CLI::App*, std::shared_ptr<ExperimentFlags>>> commands;
  for (const Kind& k : kinds) {
    auto f = std::make_shared<ExperimentFlags>();
    f->options.kind = k.name;
    CLI::App* c = group->add_subcommand(k.name, k.help);
    c->add_option("--config", f->config, "Run config (TOML) of the shared recipe, as for newsrl run (docs/run.md)")
        ->check(CLI::ExistingFile);
    c->add_option("--out", f->out, "Experiment folder (report.md, results.json, timings.json, plots/, parts)")
        ->required();
    c->add_option("--set", f->sets, "Override a config key: table.key=value (repeatable), after the budget");
    c->add_flag("--resume", f->resume, "Continue the experiment in --out: finished parts skipped, training resumed");
    ExperimentOptions& o = f->options;
    f->choices.push_back(c->add_option("--budget", o.budget,
                                       "small: at most 300 SFT steps, 30 GRPO steps, 200 evaluated users; full: the "
                                       "config as written")
                             ->check(CLI::IsMember({"small", "full"}))
                             ->capture_default_str());
    const std::string name = k.name;
    if (name == "best-of-n") {
      f->choices.push_back(
          c->add_option("--n", o.n, "Lists sampled per user, comma-separated")->delimiter(',')->capture_default_str());
      f->choices.push_back(c->add_option("--ckpt", o.ckpt,
                                         "The policy (a checkpoint of a run of the same config); "
                                         "default: this experiment's own SFT + GRPO run")
                               ->check(CLI::ExistingFile));
    } else if (name == "scaling") {
      f->sizes = c->add_option("--sizes", o.sizes,
                               "Model presets, comma-separated (default: nano,micro,mini,small; nano,micro,mini "
                               "under --budget small)")
                     ->delimiter(',');
      f->choices.push_back(f->sizes);
      f->choices.push_back(c->add_option("--eval-n", o.eval_n, "N of the evaluation; 0: [generate] n of the config")
                               ->capture_default_str());
    } else if (name == "ablation") {
      f->choices.push_back(c->add_option("--without", o.without, "The rewards removed one at a time, comma-separated")
                               ->delimiter(',')
                               ->capture_default_str());
      f->choices.push_back(c->add_option("--init", o.init,
                                         "Every variant's warm start, a checkpoint of a run of the same config "
                                         "(default: SFT here)")
                               ->check(CLI::ExistingFile));
    } else if (name == "throughput") {
      add_model_flags(*c, *f, "a fresh init of", "fresh init", true);
      f->choices.push_back(c->add_option("--init-seed", o.init_seed, "Seed of the fresh inits")->capture_default_str());
    } else {
      o.teacher_preset = "";  // the config's [run] preset (resolved before experiment.json is written)
      add_model_flags(*c, *f, "SFT + GRPO here of", "SFT", false);
      f->choices.push_back(c->add_option("--student-init", o.student_init,
                                         "The student's warm start, a checkpoint of a run of the same config "
                                         "(default: SFT here of --student-preset)")
                               ->check(CLI::ExistingFile));
    }
    commands.emplace_back(c, f);
  }
  return [=]() -> std::optional<int> {
    if (!*group) return std::nullopt;
    for (const auto& [c, f] : commands) {
      if (*c) return run_experiment(*f, version);
    }
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
