// The [generate] table of a run config (docs/evaluation.md) read into an
// actors::GenerateConfig, for `newsrl generate`, `newsrl eval policy` and
// `newsrl run`. Unknown keys, wrong types and impossible values are one line
// naming the file, table and key.
#pragma once

#include <toml++/toml.h>

#include <string>

#include "actors/policy_eval.h"

namespace newsrl::launch {

// Reads root's [generate] (absent: every default) and validates it. When
// `resolved` is given, it receives the table with every value in effect.
actors::GenerateConfig read_generate_config(const toml::table& root, const std::string& where,
                                            toml::table* resolved = nullptr);

}  // namespace newsrl::launch
