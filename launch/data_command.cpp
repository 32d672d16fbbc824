#include "launch/data_command.h"
#include "launch/sft_data_command.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>
#include <toml++/toml.h>

#include "launch/config.h"
#include "news/dataset_check.h"
#include "news/mind_import.h"
#include "news/world.h"

namespace newsrl::launch {

namespace {

std::string duration(double seconds) {
  char buf[32];
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) std::snprintf(buf, sizeof buf, "%lldh%02lldm", s / 3600, s / 60 % 60);
  else if (s >= 60) std::snprintf(buf, sizeof buf, "%lldm%02llds", s / 60, s % 60);
  else std::snprintf(buf, sizeof buf, "%llds", s);
  return buf;
}

struct CheckOptions {
  std::string dir;
  std::size_t max_shown = 20;
  std::size_t max_line_bytes = news::ReadLimits{}.max_line_bytes;
  bool json = false;
};

int data_check(const CheckOptions& o) {
  news::CheckProgress progress;
  if (isatty(STDERR_FILENO) != 0) {  // a live line (bytes, rate, ETA) when a person watches
    // A rate per file: a file starts where the previous one last reported.
    const auto t0 = std::chrono::steady_clock::now();
    progress = [start = t0, last = t0, current = std::string()](const std::string& file, std::uint64_t done,
                                                                std::uint64_t total) mutable {
      const auto now = std::chrono::steady_clock::now();
      if (file != current) current = file, start = last;
      last = now;
      const double secs = std::chrono::duration<double>(now - start).count();
      const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
      std::fprintf(stderr, "\rdata check: %s %.0f/%.0f MiB (%.0f MiB/s, ETA %s)   ", file.c_str(),
                   static_cast<double>(done) / 1048576.0, static_cast<double>(total) / 1048576.0, rate / 1048576.0,
                   rate > 0 ? duration(static_cast<double>(total - done) / rate).c_str() : "?");
      if (done >= total) std::fputc('\n', stderr);
    };
  }
  const news::CheckReport r = news::check_dataset(o.dir, o.max_shown, news::ReadLimits{o.max_line_bytes}, progress);
  const news::DatasetCounts& c = r.counts;
  for (const news::DataIssue& issue : r.shown) std::cerr << issue.str() << "\n";
  if (r.issue_count > static_cast<std::int64_t>(r.shown.size())) {
    std::cerr << "... and " << r.issue_count - static_cast<std::int64_t>(r.shown.size()) << " more problems\n";
  }
  const auto per_user = [&](std::int64_t n) { return c.users ? static_cast<double>(n) / static_cast<double>(c.users) : 0.0; };
  if (o.json) {
    nlohmann::json j = {{"dir", o.dir},
                        {"ok", r.ok()},
                        {"problems", r.issue_count},
                        {"users", c.users},
                        {"news", c.news},
                        {"events", {{"search", c.events[0]}, {"browse", c.events[1]}, {"news", c.events[2]}}},
                        {"truth_users", c.truth_users},
                        {"truth_items", c.truth_items},
                        {"cold_users", c.cold_users},
                        {"cold_share", c.cold_share()}};
    std::cout << j.dump() << "\n";
  } else {
    char line[256];
    std::cout << o.dir << ": " << (r.ok() ? "ok" : std::to_string(r.issue_count) + " problems") << "\n";
    std::snprintf(line, sizeof line, "  users %lld, news %lld\n", static_cast<long long>(c.users),
                  static_cast<long long>(c.news));
    std::cout << line;
    const char* names[] = {"search", "browse", "news"};
    for (std::size_t d = 0; d < 3; ++d) {
      std::snprintf(line, sizeof line, "  %-6s events %lld (%.1f per user)\n", names[d],
                    static_cast<long long>(c.events[d]), per_user(c.events[d]));
      std::cout << line;
    }
    std::snprintf(line, sizeof line, "  truth users %lld (%lld clicks), cold users %lld (%.1f%%)\n",
                  static_cast<long long>(c.truth_users), static_cast<long long>(c.truth_items),
                  static_cast<long long>(c.cold_users), 100.0 * c.cold_share());
    std::cout << line;
  }
  return r.ok() ? 0 : 1;
}

// ---- newsrl world -------------------------------------------------------------------

struct WorldOptions {
  std::string config_path, out, taxonomy;
  std::optional<std::int64_t> users, news;
  std::optional<std::uint64_t> seed;
  bool quiet = false;
};

// Reads the [world] table of a TOML file into `c`: unknown keys and wrong types
// are errors naming the file, line and key.
void read_world_table(const std::string& path, news::WorldConfig& c) {
  const toml::table file = load_config(path);
  const toml::table* world = file["world"].as_table();
  if (!world) throw std::invalid_argument(path + ": no [world] table (docs/world.md lists its keys)");
  for (const auto& [key, node] : *world) {
    const std::string name(key.str());
    const std::string where = path + " line " + std::to_string(node.source().begin.line) + ": [world] " + name;
    const auto& keys = news::world_keys();
    const auto it = std::find_if(keys.begin(), keys.end(), [&](const news::WorldKey& k) { return name == k.name; });
    if (it == keys.end()) {
      std::string known;
      for (const auto& k : keys) known += std::string(known.empty() ? "" : ", ") + k.name;
      throw std::invalid_argument(where + ": unknown key (known: " + known + ")");
    }
    std::visit(
        [&](auto field) {
          using T = std::remove_reference_t<decltype(c.*field)>;
          if constexpr (std::is_same_v<T, std::string>) {
            if (!node.is_string()) throw std::invalid_argument(where + ": must be a string");
            c.*field = *node.value<std::string>();
          } else if constexpr (std::is_same_v<T, double>) {
            if (!node.is_number()) throw std::invalid_argument(where + ": must be a number");
            c.*field = *node.value<double>();
          } else {
            if (!node.is_integer()) throw std::invalid_argument(where + ": must be an integer");
            const std::int64_t v = *node.value<std::int64_t>();
            if (std::is_unsigned_v<T> && v < 0) throw std::invalid_argument(where + ": must not be negative");
            c.*field = static_cast<T>(v);
          }
        },
        it->field);
  }
}

int world(const WorldOptions& o) {
  news::WorldConfig c;
  if (!o.config_path.empty()) read_world_table(o.config_path, c);
  if (o.users) c.users = *o.users;
  if (o.news) c.news = *o.news;
  if (o.seed) c.seed = *o.seed;
  if (!o.taxonomy.empty()) c.taxonomy = o.taxonomy;
  const std::string source = o.config_path.empty() ? "" : o.config_path + ": ";
  if (const auto problems = c.problems(); !problems.empty()) throw std::invalid_argument(source + problems.front());
  const news::Taxonomy taxonomy = c.taxonomy.empty() ? news::Taxonomy::builtin() : news::Taxonomy::load(c.taxonomy);

  // A live line (rate, ETA) when a person watches; nothing in logs.
  const bool live = !o.quiet && isatty(STDERR_FILENO) != 0;
  const auto t0 = std::chrono::steady_clock::now();
  news::WorldProgress progress;
  if (live) {
    // A rate per phase: a phase starts where the previous one last reported.
    progress = [phase_start = t0, last = t0, current = std::string("news")](const char* phase, std::int64_t done,
                                                                            std::int64_t total) mutable {
      const auto now = std::chrono::steady_clock::now();
      if (current != phase) current = phase, phase_start = last;
      last = now;
      const double secs = std::chrono::duration<double>(now - phase_start).count();
      const double rate = secs > 0 ? static_cast<double>(done) / secs : 0.0;
      std::fprintf(stderr, "\rworld: %s %lld/%lld (%.0f/s, ETA %s)   ", phase, static_cast<long long>(done),
                   static_cast<long long>(total), rate,
                   rate > 0 ? duration(static_cast<double>(total - done) / rate).c_str() : "?");
      if (done == total) std::fputc('\n', stderr);
    };
  }
  const news::WorldStats s = news::generate_world(c, taxonomy, o.out, progress);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const auto per_user = [&](std::int64_t n) { return static_cast<double>(n) / static_cast<double>(s.users); };
  char line[512];
  std::snprintf(line, sizeof line,
                "wrote %s: %lld users, %lld news (%lld in the test week); per user %.1f search, %.1f browse, "
                "%.1f news; cold %.1f%%; %lld test users, %.1f clicks each; %.1fs\n",
                o.out.c_str(), static_cast<long long>(s.users), static_cast<long long>(s.news),
                static_cast<long long>(s.news_test), per_user(s.events[0]), per_user(s.events[1]),
                per_user(s.events[2]), 100.0 * per_user(s.cold_users), static_cast<long long>(s.truth_users),
                s.truth_users ? static_cast<double>(s.truth_clicks) / static_cast<double>(s.truth_users) : 0.0, secs);
  std::cout << line;
  return 0;
}

// ---- newsrl import-mind -------------------------------------------------------------

struct MindOptions {
  news::MindImportOptions import;
  bool salt_given = false;
};

int import_mind(const MindOptions& m) {
  if (!m.salt_given) {
    std::cerr << "import-mind: using the default salt; pass --salt with a secret for real user ids\n";
  }
  const news::MindImportReport r = news::import_mind(m.import);
  for (const news::DataIssue& issue : r.bad_rows_shown) std::cerr << issue.str() << "\n";
  if (r.bad_rows > static_cast<std::int64_t>(r.bad_rows_shown.size())) {
    std::cerr << "... and " << r.bad_rows - static_cast<std::int64_t>(r.bad_rows_shown.size()) << " more\n";
  }
  if (!r.written) {
    std::cerr << "import-mind: " << r.bad_rows
              << " malformed rows; nothing written (--skip-bad-rows imports the rest)\n";
    return 1;
  }
  std::cout << "wrote " << m.import.out_dir << ": " << r.users << " users, " << r.history_clicks + r.train_clicks
            << " news events (" << r.history_clicks << " from histories), " << r.truth_users << " test users with "
            << r.truth_items << " clicks; train " << news::format_time(r.split.train.start) << " .. "
            << news::format_time(r.split.train.end) << ", test .. " << news::format_time(r.split.test.end) << "\n";
  if (r.test_clicks_on_older_news > 0) {
    std::cout << "  " << r.test_clicks_on_older_news
              << " test-window clicks on articles first seen before the test window left out of truth.jsonl\n";
  }
  if (r.missing_ids > 0) {
    std::cout << "  " << r.missing_ids << " news ids missing from " << m.import.news_tsv << " (used "
              << r.missing_id_uses << " times, skipped), e.g.";
    for (const std::string& id : r.missing_examples) std::cout << " " << id;
    std::cout << "\n";
  }
  if (r.bad_rows > 0) std::cout << "  " << r.bad_rows << " malformed rows skipped\n";
  return 0;
}

}  // namespace

Runner add_data_commands(CLI::App& app) {
  auto check = std::make_shared<CheckOptions>();
  CLI::App* data = app.add_subcommand("data", "News datasets: check them, and make the warm start's examples (sft)");
  data->require_subcommand(1);
  CLI::App* check_cmd = data->add_subcommand(
      "check",
      "Validate a dataset folder (news.jsonl, users.jsonl, split.json, truth.jsonl): every problem with its file and "
      "line, then counts. Exit 0 when valid, 1 when not.");
  check_cmd->add_option("dir", check->dir, "Dataset folder")->required();
  check_cmd->add_option("--max-errors", check->max_shown, "List at most this many problems (all are counted)")
      ->check(CLI::Range(0, 1000000));
  check_cmd->add_option("--max-line-bytes", check->max_line_bytes, "Longest line accepted, bytes")
      ->check(CLI::Range(std::size_t{64}, std::size_t{1} << 30));
  check_cmd->add_flag("--json", check->json, "Print the counts as one JSON object");

  auto w = std::make_shared<WorldOptions>();
  CLI::App* world_cmd = app.add_subcommand(
      "world",
      "Generate a synthetic cross-domain world (news, users with search/browse/news events, a test week of future "
      "clicks) into a dataset folder. Deterministic for a seed. Keys: docs/world.md");
  world_cmd->add_option("--config", w->config_path, "TOML file with a [world] table")->check(CLI::ExistingFile);
  world_cmd->add_option("--out", w->out, "Output folder (created; files inside are replaced)")->required();
  world_cmd->add_option("--users", w->users, "Number of users (overrides [world] users; default 2000)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{100'000'000}));
  world_cmd->add_option("--news", w->news, "Number of articles (overrides [world] news; default 5000)")
      ->check(CLI::Range(std::int64_t{10}, std::int64_t{100'000'000}));
  world_cmd->add_option("--seed", w->seed, "Random seed (overrides [world] seed; default 1)");
  world_cmd->add_option("--taxonomy", w->taxonomy, "Taxonomy JSON instead of the built-in one")
      ->check(CLI::ExistingFile);
  world_cmd->add_flag("--quiet", w->quiet, "No progress line");

  auto mind = std::make_shared<MindOptions>();
  CLI::App* mind_cmd = app.add_subcommand(
      "import-mind",
      "Import MIND (Microsoft News Dataset) news.tsv and behaviors.tsv into a dataset folder: history and clicked "
      "impressions become news events, the last --test-days become the test window (truth.jsonl), user ids are "
      "hashed with a salted keyed hash. See docs/data-format.md");
  mind_cmd->add_option("--news", mind->import.news_tsv, "MIND news.tsv")->required()->check(CLI::ExistingFile);
  mind_cmd->add_option("--behaviors", mind->import.behaviors_tsv, "MIND behaviors.tsv")
      ->required()
      ->check(CLI::ExistingFile);
  mind_cmd->add_option("--out", mind->import.out_dir, "Output dataset folder (created)")->required();
  mind_cmd->add_option("--test-days", mind->import.test_days, "The last days of impressions that form the test window")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{365}));
  mind_cmd->add_option("--history-days", mind->import.history_days,
                       "The train window starts this many days before the first impression (history clicks lie there)")
      ->check(CLI::Range(std::int64_t{1}, std::int64_t{3650}));
  mind_cmd->add_option("--salt", mind->import.salt, "Secret salt of the user-id hash (default: a fixed public one)")
      ->each([mind](const std::string&) { mind->salt_given = true; });
  mind_cmd->add_flag("--skip-bad-rows", mind->import.skip_bad_rows,
                     "Skip malformed rows (listed and counted) instead of writing nothing");
  mind_cmd->add_option("--max-errors", mind->import.max_shown, "List at most this many malformed rows")
      ->check(CLI::Range(0, 1000000));

  const Runner sft = add_sft_data_command(*data);

  return [=]() -> std::optional<int> {
    if (std::optional<int> status = sft()) return status;
    if (*check_cmd) return data_check(*check);
    if (*mind_cmd) return import_mind(*mind);
    if (*world_cmd) return world(*w);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
