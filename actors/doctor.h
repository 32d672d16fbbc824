// `newsrl doctor`: the check to run before a long job. Prints the placement,
// pings every actor of every role, measures round-trip latency and bandwidth
// from the driver to every rank, checks an all-reduce on every role group
// against the serial sum, and with a duration keeps measuring as a soak.
#pragma once

#include <cstddef>
#include <iosfwd>

#include "runtime/cluster.h"

namespace newsrl::actors {

struct DoctorOptions {
  double seconds = 0;                       // soak length; 0: one round
  std::size_t pings = 200;                  // round trips per rank per round
  std::size_t bandwidth_bytes = 16u << 20;  // one-way transfer per rank per round
  bool json = false;                        // one JSON object per line instead of tables
};

// Runs on every rank (spawns the probes); returns the exit code on the driver,
// and serves on the others. `spec` must not yet hold the internal role "node".
int run_doctor(runtime::Cluster& cluster, const DoctorOptions& options, std::ostream& out);

// The role the doctor adds on every rank to reach idle ranks too.
inline constexpr const char* kNodeRole = "node";

}  // namespace newsrl::actors
