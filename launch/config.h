// Reading a run's TOML config: one clear line naming the file, line and key
// for every mistake, before any work starts.
#pragma once

#include <toml++/toml.h>

#include <string>

namespace newsrl::launch {

// Parses FILE; a missing file or a syntax error throws ConfigError
// "FILE line L, column C: what is wrong".
toml::table load_config(const std::string& path);

// The rank this process has under mpirun or srun, read before MPI starts
// (so that a config error is printed once, by rank 0); 0 when not launched.
int launch_rank();

}  // namespace newsrl::launch
