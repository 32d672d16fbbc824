#include "launch/config.h"

#include <algorithm>
#include <climits>
#include <cstdlib>
#include <filesystem>

#include "runtime/errors.h"

namespace newsrl::launch {

toml::table load_config(const std::string& path) {
  if (!std::filesystem::exists(path)) throw runtime::ConfigError(path + ": no such file");
  try {
    return toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw runtime::ConfigError(path + " line " + std::to_string(where.line) + ", column " +
                               std::to_string(where.column) + ": " + std::string(e.description()));
  }
}

Section::Section(const toml::table& root, std::string table, std::string file)
    : name_(std::move(table)), file_(std::move(file)) {
  // A dotted name ("rewards.ret") is a nested table.
  const toml::node* node = root.at_path(name_).node();
  if (node != nullptr && !node->is_table()) throw runtime::ConfigError(file_ + ": " + name_ + " should be a table");
  table_ = node ? node->as_table() : nullptr;
}

void Section::bad(const char* key, const std::string& what) const {
  throw runtime::ConfigError(file_ + " [" + name_ + "] " + key + ": " + what);
}

const toml::node* Section::find(const char* key) {
  read_.emplace_back(key);
  return table_ ? table_->get(key) : nullptr;
}

void Section::get(const char* key, std::string& value) {
  if (const toml::node* n = find(key)) {
    if (!n->is_string()) bad(key, "should be a string");
    value = n->value<std::string>().value();
  }
  resolved_.insert_or_assign(key, value);
}

void Section::get(const char* key, std::int64_t& value) {
  if (const toml::node* n = find(key)) {
    if (!n->is_integer()) bad(key, "should be an integer");
    value = n->value<std::int64_t>().value();
  }
  resolved_.insert_or_assign(key, value);
}

void Section::get(const char* key, int& value) {
  std::int64_t wide = value;
  get(key, wide);
  if (wide < INT32_MIN || wide > INT32_MAX) bad(key, "is out of range");
  value = static_cast<int>(wide);
}

void Section::get(const char* key, std::uint64_t& value) {
  std::int64_t wide = static_cast<std::int64_t>(value);
  get(key, wide);
  if (wide < 0) bad(key, "should not be negative");
  value = static_cast<std::uint64_t>(wide);
}

void Section::get(const char* key, double& value) {
  if (const toml::node* n = find(key)) {
    if (!n->is_number()) bad(key, "should be a number");
    value = n->value<double>().value();
  }
  resolved_.insert_or_assign(key, value);
}

void Section::get(const char* key, std::vector<std::string>& value) {
  if (const toml::node* n = find(key)) {
    const toml::array* list = n->as_array();
    if (list == nullptr) bad(key, "should be a list of strings");
    value.clear();
    for (const toml::node& item : *list) {
      if (!item.is_string()) bad(key, "should be a list of strings");
      value.push_back(item.value<std::string>().value());
    }
  }
  toml::array out;
  for (const std::string& v : value) out.push_back(v);
  resolved_.insert_or_assign(key, out);
}

void Section::get(const char* key, bool& value) {
  if (const toml::node* n = find(key)) {
    if (!n->is_boolean()) bad(key, "should be true or false");
    value = n->value<bool>().value();
  }
  resolved_.insert_or_assign(key, value);
}

void Section::finish() const {
  if (table_ == nullptr) return;
  for (const auto& [key, node] : *table_) {
    if (std::find(read_.begin(), read_.end(), std::string(key.str())) == read_.end()) {
      std::string known;
      for (const std::string& k : read_) known += (known.empty() ? "" : ", ") + k;
      throw runtime::ConfigError(file_ + " [" + name_ + "] " + std::string(key.str()) +
                                 ": unknown key (known: " + known + ")");
    }
  }
}

int launch_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* v = std::getenv(var)) return std::atoi(v);
  }
  return 0;
}

}  // namespace newsrl::launch
