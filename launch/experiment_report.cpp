// An experiment's outputs from its evaluation parts' summaries: results.json
// (every number that repeats exactly with the same config and seed),
// timings.json (wall-clock seconds of this machine), report.md (one table)
// and plots/*.png.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <map>
#include <sstream>

#include "launch/experiment.h"
#include "launch/png_plot.h"
#include "runtime/errors.h"

namespace newsrl::launch {

namespace {

namespace fs = std::filesystem;
using Json = nlohmann::ordered_json;

const std::vector<std::pair<std::string, std::string>> kMetrics = {
    {"recall@5", "Recall@5"}, {"recall@10", "Recall@10"}, {"ndcg@5", "NDCG@5"}, {"ndcg@10", "NDCG@10"}, {"mrr", "MRR"}};

Json read_json(const fs::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error(path.string() + ": missing (its part did not finish)");
  Json j = Json::parse(in, nullptr, false);
  if (j.is_discarded()) throw std::runtime_error(path.string() + ": not valid JSON");
  return j;
}

void write_atomically(const fs::path& path, const std::string& text) {
  const fs::path tmp = path.string() + ".tmp";
  {
    std::ofstream out(tmp);
    out << text;
    if (!out.flush()) throw std::runtime_error("cannot write " + tmp.string());
  }
  fs::rename(tmp, path);
}

double number(const Json& j, const std::string& key) {
  return j.contains(key) && j[key].is_number() ? j[key].get<double>() : NAN;
}

std::string fixed(double v, int digits) {
  if (!std::isfinite(v)) return "–";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

// A checkpoint path as the report shows it: relative to the experiment when inside it.
std::string shown_path(const std::string& path, const fs::path& dir) {
  const std::string rel = fs::path(path).lexically_relative(dir).string();
  return !rel.empty() && rel.rfind("..", 0) != 0 ? rel : path;
}

// ablation: each reward's mean over the first and the last fifth of a
// variant's GRPO steps (at least one step each), from its metrics.jsonl; a
// reward the variant does not compute (weight 0) is absent. A step logged
// twice (a resumed run) counts once, as last logged.
const std::vector<std::string> kTrainingRewards = {"composite", "ret", "cov", "spec", "div", "struct"};

Json training_rewards(const fs::path& metrics) {
  std::ifstream in(metrics);
  if (!in) throw std::runtime_error(metrics.string() + ": missing (its part did not finish)");
  std::map<std::int64_t, Json> steps;
  for (std::string line; std::getline(in, line);) {
    Json j = Json::parse(line, nullptr, false);
    if (j.is_discarded() || !j.contains("step") || !j.contains("reward")) continue;
    steps[j["step"].get<std::int64_t>()] = j["reward"];
  }
  if (steps.empty()) throw std::runtime_error(metrics.string() + ": no step logged");
  const std::size_t n = steps.size(), span = std::max<std::size_t>(1, n / 5);
  std::vector<Json> ordered;
  for (auto& [step, reward] : steps) ordered.push_back(std::move(reward));
  auto mean = [&](std::size_t from, const std::string& name) {
    double sum = 0;
    for (std::size_t i = from; i < from + span; ++i) {
      if (!ordered[i].contains(name)) return Json(nullptr);
      sum += ordered[i][name]["mean"].get<double>();
    }
    return Json(sum / static_cast<double>(span));
  };
  Json first = Json::object(), last = Json::object();
  for (const std::string& name : kTrainingRewards) {
    if (!ordered.front().contains(name)) continue;
    first[name] = mean(0, name);
    last[name] = mean(n - span, name);
  }
  return {{"steps", n}, {"steps_per_fifth", span}, {"first", first}, {"last", last}};
}

}  // namespace

void Experiment::write_report(const std::vector<ExperimentRow>& rows, const std::vector<std::string>& notes) {
  Json results_rows = Json::array(), timing_rows = Json::array();
  for (const ExperimentRow& row : rows) {
    const Json s = read_json(dir_ / row.part / "summary.json");
    Json r = row.keys;
    r["part"] = row.part;
    r["checkpoint"] = shown_path(s.at("checkpoint").get<std::string>(), dir_);
    for (const char* key : {"n", "temperature", "max_new_tokens", "users", "users_with_lists", "lists",
                            "parse_failures", "fallbacks", "generated_tokens", "mean_composite"}) {
      r[key] = s.at(key);
    }
    const double with_lists = number(s, "users_with_lists");
    r["tokens_per_user"] = with_lists > 0 ? number(s, "generated_tokens") / with_lists : NAN;
    r["metrics"] = s.at("metrics");
    if (options_.kind == "ablation") {
      r["training"] = training_rewards(dir_ / row.keys.value("name", "") / "grpo" / "metrics.jsonl");
    }
    results_rows.push_back(r);
    const double secs = number(s, "seconds");
    Json t;
    t["name"] = row.keys.value("name", row.part);
    t["seconds"] = secs;
    t["seconds_per_user"] = with_lists > 0 ? secs / with_lists : NAN;
    t["users_per_second"] = secs > 0 ? with_lists / secs : NAN;
    t["tokens_per_second"] = secs > 0 ? number(s, "generated_tokens") / secs : NAN;
    timing_rows.push_back(t);
  }
  // distill: the share of the teacher's gain over the student's warm start
  // that each student keeps, on Recall@10 (null when there is no gain).
  if (options_.kind == "distill") {
    double teacher = NAN, warm = NAN;
    for (const Json& r : results_rows) {
      if (r.value("name", "") == "teacher") teacher = number(r["metrics"], "recall@10");
      if (r.value("name", "") == "student-sft") warm = number(r["metrics"], "recall@10");
    }
    for (Json& r : results_rows) {
      if (!r.value("student", false)) continue;
      const double kept = (number(r["metrics"], "recall@10") - warm) / (teacher - warm);
      r["gain_kept"] = teacher > warm && std::isfinite(kept) ? Json(kept) : Json(nullptr);
    }
  }
  Json results;
  results["experiment"] = options_.kind;
  results["budget"] = options_.budget;
  results["rows"] = results_rows;
  Json timings;
  timings["experiment"] = options_.kind;
  timings["note"] = "wall-clock seconds of generation, scoring and retrieval on the machine that ran the experiment";
  timings["rows"] = timing_rows;

  // The plots first: a failure leaves the previous results in place.
  fs::create_directories(dir_ / "plots");
  std::vector<std::string> plots;
  auto names = [&] {
    std::vector<std::string> v;
    for (const Json& r : results_rows) v.push_back(r.value("name", ""));
    return v;
  };
  auto metric_series = [&](const std::string& key, const std::string& label) {
    Series s{label, {}, {}, {}};
    for (const Json& r : results_rows) {
      s.x.push_back(number(r, "x"));
      s.y.push_back(number(r["metrics"], key));
    }
    return s;
  };
  auto timing_series = [&](const std::string& key, const std::string& label) {
    Series s{label, {}, {}, {}};
    for (std::size_t i = 0; i < results_rows.size(); ++i) {
      s.x.push_back(number(results_rows[i], "x"));
      s.y.push_back(key == "tokens_per_user" ? number(results_rows[i], key) : number(timing_rows[i], key));
    }
    return s;
  };
  const std::string kind = options_.kind;
  if (kind == "best-of-n") {
    write_line_charts(
        (dir_ / "plots" / "best_of_n.png").string(),
        {{"Quality vs N",
          "N (lists sampled per user)",
          "metric",
          {metric_series("recall@10", "Recall@10"), metric_series("ndcg@10", "NDCG@10")}},
         {"Cost per user vs N", "N", "seconds per user", {timing_series("seconds_per_user", "s/user")}},
         {"Tokens per user vs N", "N", "tokens per user", {timing_series("tokens_per_user", "tokens/user")}}},
        3);
    plots.push_back("plots/best_of_n.png");
  } else if (kind == "scaling") {
    write_line_chart((dir_ / "plots" / "scaling.png").string(), "Quality vs model size", "parameters (millions)",
                     "metric", {metric_series("recall@10", "Recall@10"), metric_series("ndcg@10", "NDCG@10")});
    plots.push_back("plots/scaling.png");
  } else if (kind == "ablation" || kind == "distill") {
    std::vector<std::string> categories;
    for (const auto& m : kMetrics) categories.push_back(m.second);
    std::vector<BarSeries> bars;
    for (const Json& r : results_rows) {
      BarSeries b{r.value("name", ""), {}};
      for (const auto& m : kMetrics) b.values.push_back(number(r["metrics"], m.first));
      bars.push_back(b);
    }
    const std::string title = kind == "ablation" ? "GRPO with each reward removed" : "Teacher, warm start and students";
    write_bar_chart((dir_ / "plots" / (kind + ".png")).string(), title, "metric", categories, bars);
    plots.push_back("plots/" + kind + ".png");
  } else if (kind == "throughput") {
    std::vector<BarSeries> bars;
    for (std::size_t i = 0; i < results_rows.size(); ++i) {
      bars.push_back({names()[i], {number(timing_rows[i], "users_per_second")}});
    }
    write_bar_chart((dir_ / "plots" / "throughput.png").string(), "Users per second, N = 1", "users/s", {"users/s"},
                    bars);
    plots.push_back("plots/throughput.png");
  }

  std::ostringstream md;
  md << "# Experiment `" << kind << "`\n\n";
  const nlohmann::json& log = stages_.json();
  if (log.contains("command")) md << "Command: `" << log["command"].get<std::string>() << "`\n\n";
  md << "Budget: `" << options_.budget << "`; config: `config.toml` (every --set and the budget applied).\n\n";
  md << "| " << (kind == "best-of-n" ? "N" : "row");
  for (const auto& m : kMetrics) md << " | " << m.second;
  const bool gain = kind == "distill";
  md << (gain ? " | teacher's gain kept" : "") << " | lists parsed | tokens/user | s/user | users/s |\n|---";
  for (std::size_t i = 0; i < kMetrics.size() + 4 + (gain ? 1 : 0); ++i) md << "|---:";
  md << "|\n";
  for (std::size_t i = 0; i < results_rows.size(); ++i) {
    const Json& r = results_rows[i];
    const Json& t = timing_rows[i];
    md << "| " << r.value("name", "");
    for (const auto& m : kMetrics) md << " | " << fixed(number(r["metrics"], m.first), 4);
    if (gain) {
      const bool student = r.value("student", false);
      md << " | "
         << (!student                     ? ""
             : r["gain_kept"].is_number() ? fixed(100.0 * number(r, "gain_kept"), 1) + "%"
                                          : "n/a");
    }
    const double lists = number(r, "lists");
    md << " | " << (lists > 0 ? fixed(100.0 * (lists - number(r, "parse_failures")) / lists, 1) + "%" : "–");
    md << " | " << fixed(number(r, "tokens_per_user"), 1) << " | " << fixed(number(t, "seconds_per_user"), 4) << " | "
       << fixed(number(t, "users_per_second"), 2) << " |\n";
  }
  md << "\nMetrics over " << (results_rows.empty() ? 0 : results_rows[0]["metrics"].value("users", 0))
     << " test users with future clicks (docs/metrics.md). Seconds are wall clock of generation, scoring and retrieval "
        "on this machine "
        "(timings.json); every other number is in results.json and repeats exactly with the same config and seed.\n";
  if (kind == "ablation") {
    const Json& first = results_rows.empty() ? Json() : results_rows[0]["training"];
    const int span = first.is_object() ? first.value("steps_per_fifth", 0) : 0;
    md << "\nTraining: each reward's mean over the first and the last fifth of the GRPO steps (" << span
       << (span == 1 ? " step" : " steps")
       << " each; grpo/metrics.jsonl of each row). A removed reward is not computed (–); each row's "
          "composite is over its own rewards.\n\n| row";
    for (const std::string& name : kTrainingRewards) md << " | " << name;
    md << " |\n|---";
    for (std::size_t i = 0; i < kTrainingRewards.size(); ++i) md << "|---";
    md << "|\n";
    for (const Json& r : results_rows) {
      const Json& t = r["training"];
      md << "| " << r.value("name", "");
      for (const std::string& name : kTrainingRewards) {
        md << " | "
           << (t["first"].contains(name)
                   ? fixed(number(t["first"], name), 3) + " → " + fixed(number(t["last"], name), 3)
                   : "–");
      }
      md << " |\n";
    }
  }
  for (const std::string& n : notes) md << "\n" << n << "\n";
  if (!plots.empty()) {
    md << "\n";
    for (const std::string& p : plots) md << "![" << p << "](" << p << ")\n";
  }
  write_atomically(dir_ / "results.json", results.dump(1) + "\n");
  write_atomically(dir_ / "timings.json", timings.dump(1) + "\n");
  write_atomically(dir_ / "report.md", md.str());
}

}  // namespace newsrl::launch
