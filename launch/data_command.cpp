#include "launch/data_command.h"

#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "news/dataset_check.h"

namespace newsrl::launch {

namespace {

struct CheckOptions {
  std::string dir;
  std::size_t max_shown = 20;
  std::size_t max_line_bytes = news::ReadLimits{}.max_line_bytes;
  bool json = false;
};

int data_check(const CheckOptions& o) {
  const news::CheckReport r = news::check_dataset(o.dir, o.max_shown, news::ReadLimits{o.max_line_bytes});
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

}  // namespace

Runner add_data_commands(CLI::App& app) {
  auto check = std::make_shared<CheckOptions>();
  CLI::App* data = app.add_subcommand("data", "Check news datasets");
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

  return [=]() -> std::optional<int> {
    if (*check_cmd) return data_check(*check);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
