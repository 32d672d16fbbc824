// `newsrl report --run DIR`: (re)writes a run folder's report.md and
// plots/*.png from the files the run left there (launch/run_report.h).
#pragma once

#include <CLI/CLI.hpp>

#include "launch/command.h"

namespace newsrl::launch {

// Adds the subcommand to `app`; the Runner runs it when it was chosen.
Runner add_report_commands(CLI::App& app);

}  // namespace newsrl::launch
