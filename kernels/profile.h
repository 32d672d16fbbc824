// Time per op, for finding where a step's time goes. Off by default; while on,
// every call through an op table (kernels/ops.cpp) waits for its device before
// and after the call and adds the wall time to its op's total, so the totals
// are each op's own time, and the wall time outside ops is host work (the
// Python-free equivalent of a profiler's "CPU gaps"): sampling on the host,
// copies to and from the host, building the graph. Waiting after every op
// slows the run it measures (a GPU cannot overlap launches with work), so
// profile a separate run from the one timed for throughput.
//   kernels::profile::start();  ... the work ...  auto report = kernels::profile::stop();
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "kernels/dtype.h"

namespace newsrl::kernels::profile {

struct Entry {
  std::string op;
  std::int64_t calls = 0;
  double seconds = 0;
};

struct Report {
  double wall_seconds = 0;  // from start() to stop()
  double op_seconds = 0;    // the sum over ops; wall - op = time outside ops
  std::vector<Entry> ops;   // most time first
};

void start();     // clears the totals and turns timing on
Report stop();    // turns it off and returns the totals
bool enabled();

// "op  calls  ms  share" lines, most time first, and a line for the time outside ops.
std::string format(const Report& report, std::size_t max_rows = 25);

// Times one op call when profiling is on; does nothing otherwise.
class Scope {
 public:
  Scope(const char* op, Device device);
  ~Scope();
  Scope(const Scope&) = delete;
  Scope& operator=(const Scope&) = delete;

 private:
  const char* op_ = nullptr;  // null when profiling is off
  Device device_ = Device::cpu;
  double start_ = 0;
};

}  // namespace newsrl::kernels::profile
