// `newsrl report --run DIR`: one process, no cluster; the run's own report
// stage calls write_run_report() directly.
#include "launch/report_command.h"

#include <iostream>
#include <memory>

#include "launch/run_report.h"

namespace newsrl::launch {

Runner add_report_commands(CLI::App& app) {
  auto run_dir = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand(
      "report",
      "Write a run folder's report.md (methods x metrics, cold/warm, reward curves, stage times, how to reproduce) "
      "and its plots/*.png from eval.json, grpo/ and sft/ metrics.jsonl, stages.json and config.toml");
  cmd->add_option("--run", *run_dir, "The run folder (newsrl run --out)")->required()->check(CLI::ExistingDirectory);
  return [cmd, run_dir]() -> std::optional<int> {
    if (!*cmd) return std::nullopt;
    const std::vector<std::string> written = write_run_report(*run_dir);
    for (const std::string& path : written) std::cout << "wrote " << path << "\n";
    return 0;
  };
}

}  // namespace newsrl::launch
