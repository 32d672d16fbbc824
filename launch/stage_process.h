// One single-process stage of `newsrl run` (world, tokenizer, index, clean,
// data sft, train sft, the heuristic baselines) runs as a child `newsrl`
// subcommand: the same code and flags a user runs by hand, its output kept in
// the run's logs/, and a failure contained in the child. The child is told
// nothing of mpirun (the launcher's variables are removed), so it uses every
// core while the other ranks sleep.
#pragma once

#include <functional>
#include <string>
#include <vector>

namespace newsrl::launch {

// Runs this binary with `args`; everything it prints goes to `log_path`
// (appended). Each line or progress update (text ended by \n or \r) is passed
// to `on_line`. Returns the child's exit status (128 + signal when killed by one).
int run_newsrl_child(const std::vector<std::string>& args, const std::string& log_path,
                     const std::function<void(const std::string& line)>& on_line);

}  // namespace newsrl::launch
