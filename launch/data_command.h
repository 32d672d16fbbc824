// `newsrl data check`, `newsrl world` and `newsrl import-mind`: making and
// checking news datasets (docs/data-format.md, docs/world.md).
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// Adds the subcommands to `app`; the Runner runs whichever was chosen.
Runner add_data_commands(CLI::App& app);

}  // namespace newsrl::launch
