// A run folder's report: report.md and plots/*.png, made from the files the
// run wrote (eval.json, grpo/metrics.jsonl, sft/metrics.jsonl, stages.json,
// config.toml). docs/run-folder.md lists them and what the report shows.
#pragma once

#include <string>
#include <vector>

namespace newsrl::launch {

// Writes run_dir/report.md and run_dir/plots/{eval_methods, reward_composite,
// rewards, grpo_training, sft_loss}.png and returns their paths. eval.json
// must exist; the other inputs may be absent (the report says so and their
// charts say "no data"). A malformed input throws std::invalid_argument
// naming the file (and line, for JSONL) before anything is written.
std::vector<std::string> write_run_report(const std::string& run_dir);

}  // namespace newsrl::launch
