#include "launch/run_config.h"

#include <algorithm>

#include "launch/config.h"
#include "runtime/errors.h"

namespace newsrl::launch {

namespace {

std::vector<std::string> split_path(const std::string& path) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (true) {
    const std::size_t dot = path.find('.', start);
    parts.push_back(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace

void apply_override(toml::table& root, const std::string& assignment) {
  const std::size_t eq = assignment.find('=');
  const std::string where = "--set " + assignment;
  if (eq == std::string::npos || eq == 0) {
    throw runtime::ConfigError(where + ": expected table.key=value (e.g. world.seed=7)");
  }
  const std::vector<std::string> path = split_path(assignment.substr(0, eq));
  for (const std::string& p : path) {
    if (p.empty() || p.find_first_of(" \t\"'[]") != std::string::npos) {
      throw runtime::ConfigError(where + ": \"" + assignment.substr(0, eq) + "\" is not a key path like world.seed");
    }
  }
  if (path.size() < 2) throw runtime::ConfigError(where + ": name a table and a key (e.g. world.seed=7)");
  const std::string text = assignment.substr(eq + 1);
  toml::table parsed;
  bool is_toml = true;
  try {
    parsed = toml::parse("value = " + text);
  } catch (const toml::parse_error&) {
    is_toml = false;
  }
  toml::table* table = &root;
  for (std::size_t i = 0; i + 1 < path.size(); ++i) {
    toml::node* next = table->get(path[i]);
    if (next == nullptr) {
      table->insert(path[i], toml::table{});
      next = table->get(path[i]);
    }
    if (!next->is_table()) throw runtime::ConfigError(where + ": " + path[i] + " is a value, not a table");
    table = next->as_table();
  }
  if (is_toml) {
    parsed.get("value")->visit([&](auto&& value) { table->insert_or_assign(path.back(), value); });
  } else {
    table->insert_or_assign(path.back(), text);
  }
}

toml::table load_run_config(const std::string& path, const std::vector<std::string>& overrides) {
  toml::table root = path.empty() ? toml::table{} : load_config(path);
  for (const std::string& o : overrides) apply_override(root, o);
  return root;
}

void check_tables(const toml::table& root, const std::vector<std::string>& known, const std::string& where) {
  for (const auto& [key, node] : root) {
    const std::string name(key.str());
    if (std::find(known.begin(), known.end(), name) == known.end()) {
      std::string list;
      for (const std::string& k : known) list += (list.empty() ? "" : ", ") + k;
      throw runtime::ConfigError(where + ": unknown table [" + name + "] (known: " + list + ")");
    }
    if (!node.is_table()) throw runtime::ConfigError(where + ": " + name + " should be a table [" + name + "]");
  }
}

}  // namespace newsrl::launch
