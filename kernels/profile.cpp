#include "kernels/profile.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <map>
#include <mutex>

#ifdef NEWSRL_HAVE_CUDA
#include "kernels/cuda/cuda_ops.h"
#endif

namespace newsrl::kernels::profile {

namespace {

std::atomic<bool> on{false};
std::mutex mu;
std::map<std::string, Entry>* totals = new std::map<std::string, Entry>();  // never destroyed
double started = 0;

double now() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

// Waits until the device has finished everything queued so far.
void wait(Device d) {
#ifdef NEWSRL_HAVE_CUDA
  if (d == Device::cuda) NEWSRL_CUDA_CHECK(cudaStreamSynchronize(cuda::stream()));
#else
  (void)d;
#endif
}

}  // namespace

void start() {
  std::lock_guard lock(mu);
  totals->clear();
  started = now();
  on = true;
}

bool enabled() { return on; }

Report stop() {
  std::lock_guard lock(mu);
  on = false;
  Report r;
  r.wall_seconds = now() - started;
  for (const auto& [name, e] : *totals) {
    r.ops.push_back(e);
    r.op_seconds += e.seconds;
  }
  std::sort(r.ops.begin(), r.ops.end(), [](const Entry& a, const Entry& b) { return a.seconds > b.seconds; });
  return r;
}

std::string format(const Report& report, std::size_t max_rows) {
  std::string out;
  char line[160];
  const double wall = report.wall_seconds > 0 ? report.wall_seconds : 1;
  std::snprintf(line, sizeof(line), "%-24s %8s %10s %6s\n", "op", "calls", "ms", "share");
  out += line;
  for (std::size_t i = 0; i < report.ops.size() && i < max_rows; ++i) {
    const Entry& e = report.ops[i];
    std::snprintf(line, sizeof(line), "%-24s %8lld %10.2f %5.1f%%\n", e.op.c_str(), static_cast<long long>(e.calls),
                  e.seconds * 1e3, 100 * e.seconds / wall);
    out += line;
  }
  if (report.ops.size() > max_rows) {
    double rest = 0;
    for (std::size_t i = max_rows; i < report.ops.size(); ++i) rest += report.ops[i].seconds;
    std::snprintf(line, sizeof(line), "%-24s %8s %10.2f %5.1f%%\n", "(other ops)", "", rest * 1e3, 100 * rest / wall);
    out += line;
  }
  const double outside = report.wall_seconds - report.op_seconds;
  std::snprintf(line, sizeof(line), "%-24s %8s %10.2f %5.1f%%\n", "(outside ops)", "", outside * 1e3,
                100 * outside / wall);
  out += line;
  std::snprintf(line, sizeof(line), "%-24s %8s %10.2f\n", "(wall)", "", report.wall_seconds * 1e3);
  out += line;
  return out;
}

Scope::Scope(const char* op, Device device) {
  if (!on.load(std::memory_order_relaxed)) return;
  wait(device);  // so that the time below is this op's alone
  op_ = op;
  device_ = device;
  start_ = now();
}

Scope::~Scope() {
  if (op_ == nullptr) return;
  try {
    wait(device_);
  } catch (...) {
    // The op's own error is reported by the op; a profile never throws from here.
  }
  const double seconds = now() - start_;
  std::lock_guard lock(mu);
  Entry& e = (*totals)[op_];
  e.op = op_;
  e.calls += 1;
  e.seconds += seconds;
}

}  // namespace newsrl::kernels::profile
