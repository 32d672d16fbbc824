// `newsrl ckpt ls|diff|verify`: look inside checkpoints without Python.
// Every command that opens a checkpoint reports damage as one line naming the
// file and the first damaged dataset, and exits non-zero.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

Runner add_ckpt_commands(CLI::App& app);

}  // namespace newsrl::launch
