// report.md and the plots of a run folder. Every input is read and checked
// first, then the plots and the report are written, so a bad input leaves
// the previous report as it was.
#include "launch/run_report.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <sstream>
#include <stdexcept>

#include "launch/png_plot.h"

namespace newsrl::launch {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;  // keeps eval.json's method order

constexpr double kMissing = std::numeric_limits<double>::quiet_NaN();
constexpr std::size_t kWindow = 10;  // steps averaged at each end of training (fewer in a short run)

// The metric columns of eval.json, with the names the tables show.
const std::vector<std::pair<std::string, std::string>> kMetrics = {
    {"recall@5", "Recall@5"}, {"recall@10", "Recall@10"}, {"ndcg@5", "NDCG@5"}, {"ndcg@10", "NDCG@10"}, {"mrr", "MRR"}};

// The rewards of docs/rewards.md in the order the report lists them.
const std::vector<std::string> kRewardOrder = {"composite", "ret", "cov", "spec", "div", "struct"};

// The per-step training signals besides the rewards, with a short meaning.
const std::vector<std::pair<std::string, std::string>> kTrainingSignals = {
    {"kl", "KL estimate"},
    {"entropy", "entropy estimate (nats/token)"},
    {"response_length", "response length (tokens)"},
    {"clip_fraction", "clipped token share"},
    {"zero_spread", "groups with zero reward spread"},
    {"parse_failures", "outputs that do not parse"},
    {"tokens_per_s", "tokens/s"},
};

std::optional<std::string> read_text(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Json parse_json(const std::string& text, const std::string& where) {
  try {
    return Json::parse(text);
  } catch (const Json::parse_error& e) {
    throw std::invalid_argument(where + ": not valid JSON (" + std::string(e.what()) + ")");
  }
}

// A number, or NaN when the key is absent or null; anything else is an error.
double number(const Json& object, const std::string& key, const std::string& where) {
  const auto it = object.find(key);
  if (it == object.end() || it->is_null()) return kMissing;
  if (!it->is_number()) throw std::invalid_argument(where + ": \"" + key + "\" is not a number");
  return it->get<double>();
}

// One JSON object per line; blank lines are skipped.
std::vector<Json> read_jsonl(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path.string() + ": cannot read");
  std::vector<Json> rows;
  std::string line;
  for (int n = 1; std::getline(in, line); ++n) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string where = path.string() + " line " + std::to_string(n);
    Json row = parse_json(line, where);
    if (!row.is_object()) throw std::invalid_argument(where + ": not a JSON object");
    if (!row.contains("step") || !row["step"].is_number()) throw std::invalid_argument(where + ": no numeric \"step\"");
    rows.push_back(std::move(row));
  }
  return rows;
}

struct Stage {
  std::string name, status;
  double seconds = kMissing;
};

struct RunInputs {
  std::string run_dir;
  Json methods;                        // eval.json's "methods", checked
  std::optional<std::vector<Json>> grpo, sft;  // absent files: nullopt
  std::optional<std::vector<Stage>> stages;
  std::string command;                 // stages.json's "command", when the run recorded it
  std::optional<std::string> config;   // config.toml's text
};

Json read_eval(const fs::path& path) {
  const std::optional<std::string> text = read_text(path);
  if (!text) throw std::invalid_argument(path.string() + ": not found (the run has not reached its evaluation)");
  const Json root = parse_json(*text, path.string());
  if (!root.is_object() || !root.contains("methods") || !root["methods"].is_object()) {
    throw std::invalid_argument(path.string() + ": wants an object {\"methods\": {...}}");
  }
  auto check_scores = [&](const Json& scores, const std::string& where) {
    if (!scores.is_object()) throw std::invalid_argument(path.string() + ": " + where + " is not an object");
    for (const auto& [key, label] : kMetrics) number(scores, key, path.string() + " " + where);
    number(scores, "users", path.string() + " " + where);
  };
  for (const auto& [name, scores] : root["methods"].items()) {
    check_scores(scores, "methods." + name);
    if (!scores.contains("segments")) continue;
    if (!scores["segments"].is_object()) {
      throw std::invalid_argument(path.string() + ": methods." + name + ".segments is not an object");
    }
    for (const auto& [segment, seg_scores] : scores["segments"].items()) {
      check_scores(seg_scores, "methods." + name + ".segments." + segment);
    }
  }
  return root["methods"];
}

std::optional<std::vector<Json>> read_metrics_if_there(const fs::path& path) {
  if (!fs::exists(path)) return std::nullopt;
  return read_jsonl(path);
}

void read_stages(const fs::path& path, RunInputs& in) {
  const std::optional<std::string> text = read_text(path);
  if (!text) return;
  const Json root = parse_json(*text, path.string());
  if (!root.is_object() || !root.contains("stages") || !root["stages"].is_array()) {
    throw std::invalid_argument(path.string() + ": wants an object {\"stages\": [...]}");
  }
  std::vector<Stage> stages;
  for (std::size_t i = 0; i < root["stages"].size(); ++i) {
    const Json& s = root["stages"][i];
    const std::string where = path.string() + " stages[" + std::to_string(i) + "]";
    if (!s.is_object() || !s.contains("name") || !s["name"].is_string()) {
      throw std::invalid_argument(where + ": wants an object with a \"name\" string");
    }
    Stage stage{s["name"].get<std::string>(), "", number(s, "seconds", where)};
    if (s.contains("status")) {
      if (!s["status"].is_string()) throw std::invalid_argument(where + ": \"status\" is not a string");
      stage.status = s["status"].get<std::string>();
    }
    stages.push_back(std::move(stage));
  }
  if (root.contains("command")) {
    if (!root["command"].is_string()) throw std::invalid_argument(path.string() + ": \"command\" is not a string");
    in.command = root["command"].get<std::string>();
  }
  in.stages = std::move(stages);
}

RunInputs read_inputs(const std::string& run_dir) {
  const fs::path dir(run_dir);
  if (!fs::is_directory(dir)) throw std::invalid_argument(run_dir + ": not a run folder (no such directory)");
  RunInputs in;
  in.run_dir = run_dir;
  in.methods = read_eval(dir / "eval.json");
  in.grpo = read_metrics_if_there(dir / "grpo" / "metrics.jsonl");
  in.sft = read_metrics_if_there(dir / "sft" / "metrics.jsonl");
  read_stages(dir / "stages.json", in);
  in.config = read_text(dir / "config.toml");
  return in;
}

// ---- numbers and tables ------------------------------------------------------

std::string fixed(double v, int decimals) {
  if (!std::isfinite(v)) return "n/a";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
  return buf;
}

// Decimals for a value of this size: four where small, fewer where large (tokens/s).
int decimals_for(double magnitude) { return magnitude >= 1000 ? 0 : magnitude >= 10 ? 2 : 4; }

double mean_of(const std::vector<double>& values, std::size_t begin, std::size_t end) {
  double sum = 0;
  std::size_t n = 0;
  for (std::size_t i = begin; i < end; ++i) {
    if (std::isfinite(values[i])) sum += values[i], ++n;
  }
  return n == 0 ? kMissing : sum / static_cast<double>(n);
}

// A column of the metrics rows, addressed by a key path ("reward", "ret", "mean").
std::vector<double> column(const std::vector<Json>& rows, const std::vector<std::string>& keys) {
  std::vector<double> out;
  for (const Json& row : rows) {
    const Json* node = &row;
    for (const std::string& key : keys) {
      if (!node->is_object() || !node->contains(key)) {
        node = nullptr;
        break;
      }
      node = &(*node)[key];
    }
    out.push_back(node != nullptr && node->is_number() ? node->get<double>() : kMissing);
  }
  return out;
}

std::vector<std::string> reward_names(const std::vector<Json>& rows) {
  std::vector<std::string> names;
  for (const Json& row : rows) {
    if (!row.contains("reward") || !row["reward"].is_object()) continue;
    for (const auto& [name, value] : row["reward"].items()) {
      if (std::find(names.begin(), names.end(), name) == names.end()) names.push_back(name);
    }
  }
  std::stable_sort(names.begin(), names.end(), [](const std::string& a, const std::string& b) {
    auto rank = [](const std::string& n) {
      return std::find(kRewardOrder.begin(), kRewardOrder.end(), n) - kRewardOrder.begin();
    };
    return rank(a) < rank(b);
  });
  return names;
}

// "| a | b |" and its alignment row.
std::string table_row(const std::vector<std::string>& cells) {
  std::string out = "|";
  for (const std::string& c : cells) out += " " + c + " |";
  return out + "\n";
}

std::string table_rule(std::size_t columns) {
  std::string out = "|---|";
  for (std::size_t i = 1; i < columns; ++i) out += "---:|";
  return out + "\n";
}

// Methods x metrics, one row per (method, scores) pair: all users or one
// segment. The best value of each column is bold when two or more compete.
std::string methods_table(const std::vector<std::pair<std::string, const Json*>>& methods) {
  std::vector<double> best(kMetrics.size(), -std::numeric_limits<double>::infinity());
  std::vector<int> counted(kMetrics.size(), 0);
  for (const auto& [name, scores] : methods) {
    for (std::size_t m = 0; m < kMetrics.size(); ++m) {
      const double v = number(*scores, kMetrics[m].first, name);
      if (std::isfinite(v)) best[m] = std::max(best[m], v), ++counted[m];
    }
  }
  std::vector<std::string> header = {"method", "users"};
  for (const auto& [key, label] : kMetrics) header.push_back(label);
  std::string out = table_row(header) + table_rule(header.size());
  for (const auto& [name, scores] : methods) {
    const double users = number(*scores, "users", name);
    std::vector<std::string> cells = {name, std::isfinite(users) ? fixed(users, 0) : "n/a"};
    for (std::size_t m = 0; m < kMetrics.size(); ++m) {
      const double v = number(*scores, kMetrics[m].first, name);
      const std::string text = fixed(v, 4);
      cells.push_back(counted[m] > 1 && v == best[m] ? "**" + text + "**" : text);
    }
    out += table_row(cells);
  }
  return out;
}

// ---- the report's sections ---------------------------------------------------

std::string evaluation_section(const RunInputs& in) {
  std::ostringstream md;
  md << "## Evaluation\n\n";
  if (in.methods.empty()) {
    md << "eval.json lists no methods.\n\n";
    return md.str();
  }
  std::vector<std::pair<std::string, const Json*>> all;
  std::vector<std::string> segments;
  for (const auto& [name, scores] : in.methods.items()) {
    all.emplace_back(name, &scores);
    if (!scores.contains("segments")) continue;
    for (const auto& [segment, seg_scores] : scores["segments"].items()) {
      if (std::find(segments.begin(), segments.end(), segment) == segments.end()) segments.push_back(segment);
    }
  }
  md << "All test users; the best value of each column is bold.\n\n" << methods_table(all) << "\n";
  for (const std::string& segment : segments) {
    std::vector<std::pair<std::string, const Json*>> rows;
    for (const auto& [name, scores] : in.methods.items()) {
      if (scores.contains("segments") && scores["segments"].contains(segment)) {
        rows.emplace_back(name, &scores["segments"][segment]);
      }
    }
    std::string title = segment;
    if (!title.empty()) title[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(title[0])));
    md << "### " << title << " users\n\n";
    if (segment == "cold") md << "Users with at most 3 news events before the test window.\n\n";
    if (segment == "warm") md << "Users with more than 3 news events before the test window.\n\n";
    md << methods_table(rows) << "\n";
  }
  md << "![Evaluation: methods x metrics](plots/eval_methods.png)\n\n";
  return md.str();
}

// Per-step reward means are noisy: a long run's curves are drawn as the mean
// of the last `steps` steps (trailing, missing values left out), so a trend
// shows. 1 (no smoothing) up to 100 steps.
std::size_t smoothing_steps(std::size_t steps) { return steps <= 100 ? 1 : steps / 50; }

std::vector<double> trailing_mean(const std::vector<double>& values, std::size_t steps) {
  std::vector<double> out;
  for (std::size_t i = 0; i < values.size(); ++i) {
    out.push_back(std::isfinite(values[i]) ? mean_of(values, i + 1 - std::min(steps, i + 1), i + 1) : kMissing);
  }
  return out;
}

std::string smoothing_note(std::size_t steps) {
  return steps == 1 ? "" : ", averaged over " + std::to_string(steps) + " steps";
}

// How many steps each end of training averages: 10, or half the steps of a
// shorter run, so that the two ends do not overlap.
std::size_t window(std::size_t steps) { return std::min(kWindow, std::max<std::size_t>(1, steps / 2)); }

// "first k / last k steps" means of each column, as table rows.
std::string first_last_rows(const std::vector<std::pair<std::string, std::vector<double>>>& columns, std::size_t k) {
  std::string out;
  for (const auto& [label, values] : columns) {
    const double first = mean_of(values, 0, std::min(k, values.size()));
    const double last = mean_of(values, values.size() - std::min(k, values.size()), values.size());
    if (!std::isfinite(first) && !std::isfinite(last)) continue;
    const double change = last - first;
    const int decimals = decimals_for(std::max(std::isfinite(first) ? std::abs(first) : 0.0,
                                               std::isfinite(last) ? std::abs(last) : 0.0));
    const std::string sign = change > 0 && fixed(change, decimals) != fixed(0.0, decimals) ? "+" : "";
    out += table_row({label, fixed(first, decimals), fixed(last, decimals), sign + fixed(change, decimals)});
  }
  return out;
}

std::string grpo_section(const RunInputs& in) {
  std::ostringstream md;
  md << "## GRPO training\n\n";
  if (!in.grpo) {
    md << "No GRPO metrics: grpo/metrics.jsonl is absent.\n\n";
    return md.str();
  }
  const std::vector<Json>& rows = *in.grpo;
  if (rows.empty()) {
    md << "grpo/metrics.jsonl holds no steps.\n\n";
    return md.str();
  }
  const std::size_t k = window(rows.size());
  md << rows.size() << " steps, " << fixed(column(rows, {"step"}).front(), 0) << " to "
     << fixed(column(rows, {"step"}).back(), 0) << ". Means over the first " << k << " and the last " << k
     << " steps:\n\n";
  std::vector<std::pair<std::string, std::vector<double>>> rewards;
  for (const std::string& name : reward_names(rows)) rewards.emplace_back(name, column(rows, {"reward", name, "mean"}));
  md << table_row({"reward", "first " + std::to_string(k), "last " + std::to_string(k), "change"}) << table_rule(4)
     << first_last_rows(rewards, k) << "\n";
  if (smoothing_steps(rows.size()) > 1) {
    md << "The reward charts show the mean of the last " << smoothing_steps(rows.size())
       << " steps at each step, so that the trend shows through the noise of single steps.\n\n";
  }
  md << "![Composite reward, mean and one standard deviation over each step's samples](plots/reward_composite.png)\n\n";
  md << "![Each reward's mean per step](plots/rewards.png)\n\n";
  std::vector<std::pair<std::string, std::vector<double>>> signals;
  for (const auto& [key, label] : kTrainingSignals) signals.emplace_back(label, column(rows, {key}));
  md << table_row({"signal", "first " + std::to_string(k), "last " + std::to_string(k), "change"}) << table_rule(4)
     << first_last_rows(signals, k) << "\n";
  md << "![KL, entropy, response length and clip fraction per step](plots/grpo_training.png)\n\n";
  return md.str();
}

std::string sft_section(const RunInputs& in) {
  std::ostringstream md;
  md << "## Warm start (SFT)\n\n";
  if (!in.sft) {
    md << "No SFT metrics: sft/metrics.jsonl is absent.\n\n";
    return md.str();
  }
  if (in.sft->empty()) {
    md << "sft/metrics.jsonl holds no steps.\n\n";
    return md.str();
  }
  const std::size_t k = window(in.sft->size());
  md << in.sft->size() << " steps. Means over the first " << k << " and the last " << k << " steps:\n\n"
     << table_row({"signal", "first " + std::to_string(k), "last " + std::to_string(k), "change"}) << table_rule(4)
     << first_last_rows({{"loss", column(*in.sft, {"loss"})}, {"tokens/s", column(*in.sft, {"tokens_per_s"})}}, k)
     << "\n![SFT loss per step](plots/sft_loss.png)\n\n";
  return md.str();
}

std::string stages_section(const RunInputs& in) {
  std::ostringstream md;
  md << "## Stages\n\n";
  if (!in.stages) {
    md << "No stage times: stages.json is absent.\n\n";
    return md.str();
  }
  md << table_row({"stage", "status", "seconds"}) << "|---|---|---:|\n";
  double total = 0;
  for (const Stage& s : *in.stages) {
    // `newsrl run` writes this page from inside its own report stage.
    if (s.name == "report" && s.status == "running") {
      md << table_row({s.name, "writing this page", ""});
      continue;
    }
    md << table_row({s.name, s.status.empty() ? "n/a" : s.status, fixed(s.seconds, 1)});
    if (std::isfinite(s.seconds)) total += s.seconds;
  }
  md << table_row({"**total**", "", fixed(total, 1)}) << "\n";
  return md.str();
}

std::string reproduce_section(const RunInputs& in) {
  std::ostringstream md;
  md << "## Reproduce\n\n";
  const std::string config = (fs::path(in.run_dir) / "config.toml").string();
  if (!in.config) {
    md << "config.toml is absent, so this folder does not say how it was made.\n\n";
    return md.str();
  }
  if (!in.command.empty()) {
    md << "The run was started with:\n\n```\n" << in.command << "\n```\n\n";
  }
  md << "The resolved config (every default written out) runs it again. The same config, seed and rank count give "
        "the same results on CPU, so put the original's rank count where this says 1:\n\n```\n"
        "launch/mpirun.sh 1 build/bin/newsrl run --config "
     << config << " --out " << in.run_dir << "-again\nbuild/bin/newsrl report --run " << in.run_dir
     << "-again\n```\n\n<details><summary>config.toml</summary>\n\n```toml\n"
     << *in.config << (in.config->empty() || in.config->back() != '\n' ? "\n" : "") << "```\n\n</details>\n";
  return md.str();
}

// ---- plots -------------------------------------------------------------------

Series series_of(const std::string& name, const std::vector<Json>& rows, const std::vector<std::string>& keys) {
  return Series{name, column(rows, {"step"}), column(rows, keys), {}};
}

std::vector<std::string> write_plots(const RunInputs& in) {
  const fs::path plots = fs::path(in.run_dir) / "plots";
  std::vector<std::string> written;
  auto path = [&](const char* file) {
    written.push_back((plots / file).string());
    return written.back();
  };

  std::vector<std::string> categories;
  for (const auto& [key, label] : kMetrics) categories.push_back(label);
  std::vector<BarSeries> bars;
  for (const auto& [name, scores] : in.methods.items()) {
    BarSeries b{name, {}};
    for (const auto& [key, label] : kMetrics) b.values.push_back(number(scores, key, name));
    bars.push_back(std::move(b));
  }
  write_bar_chart(path("eval_methods.png"), "Evaluation: all test users", "score", categories, bars);

  const std::vector<Json> none;
  const std::vector<Json>& grpo = in.grpo ? *in.grpo : none;
  const std::size_t smooth = smoothing_steps(grpo.size());
  std::vector<Series> composite;
  std::vector<Series> rewards;
  for (const std::string& name : reward_names(grpo)) {
    Series s = series_of(name, grpo, {"reward", name, "mean"});
    s.y = trailing_mean(s.y, smooth);
    if (name == "composite") {
      s.band = trailing_mean(column(grpo, {"reward", "composite", "std"}), smooth);
      composite.push_back(std::move(s));
    } else {
      rewards.push_back(std::move(s));
    }
  }
  write_line_chart(path("reward_composite.png"), "GRPO composite reward (mean +/- std" + smoothing_note(smooth) + ")",
                   "step", "reward", composite);
  write_line_chart(path("rewards.png"), "GRPO rewards (mean per step" + smoothing_note(smooth) + ")", "step",
                   "reward", rewards);

  std::vector<LineChart> training;
  for (const char* key : {"kl", "entropy", "response_length", "clip_fraction"}) {
    const Series s = series_of(key, grpo, {key});
    const bool any = std::any_of(s.y.begin(), s.y.end(), [](double v) { return std::isfinite(v); });
    training.push_back(LineChart{key, "step", "", any ? std::vector<Series>{s} : std::vector<Series>{}});
  }
  write_line_charts(path("grpo_training.png"), training, 2);

  std::vector<Series> loss;
  if (in.sft && !in.sft->empty()) loss.push_back(series_of("loss", *in.sft, {"loss"}));
  write_line_chart(path("sft_loss.png"), "SFT warm start: loss", "step", "loss", loss);
  return written;
}

// The folder's own name, also for "runs/quick/" and ".".
std::string run_name(const std::string& run_dir) {
  fs::path p = fs::absolute(fs::path(run_dir)).lexically_normal();
  if (p.filename().empty()) p = p.parent_path();
  return p.filename().string();
}

void write_file_atomically(const fs::path& path, const std::string& text) {
  const fs::path temporary = path.string() + ".tmp";
  {
    std::ofstream out(temporary, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    if (!out) throw std::invalid_argument(path.string() + ": cannot write");
  }
  std::error_code ec;
  fs::rename(temporary, path, ec);
  if (ec) throw std::invalid_argument(path.string() + ": cannot write (" + ec.message() + ")");
}

}  // namespace

std::vector<std::string> write_run_report(const std::string& run_dir) {
  const RunInputs in = read_inputs(run_dir);
  std::vector<std::string> written = write_plots(in);
  std::ostringstream md;
  md << "# Run report: " << run_name(run_dir) << "\n\n"
     << "Made by `newsrl report --run " << run_dir << "` from the files in this folder (docs/run-folder.md).\n\n"
     << evaluation_section(in) << grpo_section(in) << sft_section(in) << stages_section(in) << reproduce_section(in);
  const fs::path report = fs::path(run_dir) / "report.md";
  write_file_atomically(report, md.str());
  written.push_back(report.string());
  return written;
}

}  // namespace newsrl::launch
