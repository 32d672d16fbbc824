#include "launch/config.h"

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

int launch_rank() {
  for (const char* var : {"OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "SLURM_PROCID"}) {
    if (const char* v = std::getenv(var)) return std::atoi(v);
  }
  return 0;
}

}  // namespace newsrl::launch
