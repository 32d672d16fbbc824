// The config of `newsrl run`: one TOML file for the whole pipeline, with
// `--set table.key=value` overrides from the command line applied on top.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

namespace newsrl::launch {

// Applies one override "table.key=value" (any depth: "rewards.ret.weight=0").
// The value is read as a TOML value (7, 0.5, true, "x", [1, 2]); text that is
// not one is taken as a string. Throws ConfigError on a malformed assignment
// or when the path runs through a value that is not a table.
void apply_override(toml::table& root, const std::string& assignment);

// Loads `path` (or an empty table when it is empty) and applies `overrides` in order.
toml::table load_run_config(const std::string& path, const std::vector<std::string>& overrides);

// Throws ConfigError naming the first top-level table of `root` that is not in `known`.
void check_tables(const toml::table& root, const std::vector<std::string>& known, const std::string& where);

}  // namespace newsrl::launch
