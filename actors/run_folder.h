// What the training loops share about a run folder and their progress line:
// the crash-test hook, cutting metrics.jsonl back to a checkpoint's step on
// resume, and durations written for people.
#pragma once

#include <cstdint>
#include <string>

namespace newsrl::actors {

// A test hook: NEWSRL_KILL_AT_STEP=N asks a loop to kill its process with
// SIGKILL in the middle of step N, as a crash would; -1 when unset.
std::int64_t kill_at_step();

// Keeps the lines of metrics.jsonl up to `step` (a resumed run rewrites the
// rest); a line cut short by a crash ends what is kept.
void truncate_metrics(const std::string& path, std::int64_t step);

// "1h02m03s", "4m05s", "0m07s".
std::string clock_text(double seconds);

}  // namespace newsrl::actors
