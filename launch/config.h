// Reading a run's TOML config: one clear line naming the file, line and key
// for every mistake, before any work starts.
#pragma once

#include <toml++/toml.h>

#include <cstdint>
#include <string>
#include <vector>

namespace newsrl::launch {

// Parses FILE; a missing file or a syntax error throws ConfigError
// "FILE line L, column C: what is wrong".
toml::table load_config(const std::string& path);

// Reads one table of a run config ("[train]") into typed values. Each get()
// names a key it knows and leaves the value at its default when the key is
// absent; a value of the wrong type, or (in finish()) a key nobody read — a
// typo — throws ConfigError "FILE [table] key: what is wrong". resolved()
// is the table with every value in effect, defaults included, for the
// config.toml a run writes beside its outputs.
class Section {
 public:
  // `table` may be dotted ("rewards.ret") for a nested table.
  Section(const toml::table& root, std::string table, std::string file);
  void get(const char* key, std::string& value);
  void get(const char* key, std::int64_t& value);
  void get(const char* key, int& value);
  void get(const char* key, std::uint64_t& value);
  void get(const char* key, double& value);
  void get(const char* key, bool& value);
  void get(const char* key, std::vector<std::string>& value);
  // The raw value of a key read by the caller itself (nullptr when absent).
  const toml::node* node(const char* key) { return find(key); }
  void finish() const;
  const toml::table& resolved() const { return resolved_; }
  // Throws ConfigError "FILE [table] key: what".
  [[noreturn]] void bad(const char* key, const std::string& what) const;

 private:
  const toml::node* find(const char* key);
  const toml::table* table_ = nullptr;
  std::string name_, file_;
  std::vector<std::string> read_;
  toml::table resolved_;
};

// The rank this process has under mpirun or srun, read before MPI starts
// (so that a config error is printed once, by rank 0); 0 when not launched.
int launch_rank();

}  // namespace newsrl::launch
