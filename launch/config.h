// Reading a run's TOML config: one clear line naming the file, line and key
// for every mistake, before any work starts.
#pragma once

#include <toml++/toml.h>

#include <string>
#include <vector>

namespace newsrl::launch {

// Parses FILE; a missing file or a syntax error throws ConfigError
// "FILE line L, column C: what is wrong".
toml::table load_config(const std::string& path);

// Every top-level key must be one of `sections`; each other one is a mistake.
void check_sections(const toml::table& config, const std::string& path, const std::vector<std::string>& sections);

// The rank this process has under mpirun or srun, read before MPI starts
// (so that a config error is printed once, by rank 0); 0 when not launched.
int launch_rank();

}  // namespace newsrl::launch
