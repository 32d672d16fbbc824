// `newsrl model init|forward|generate|bench`: the engine from the command
// line, for users and for tests that check it from outside.
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// Adds the subcommands to `app`; the Runner runs whichever was chosen.
Runner add_model_commands(CLI::App& app);

}  // namespace newsrl::launch
