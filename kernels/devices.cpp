#include "kernels/devices.h"

#include <unistd.h>

#include <fstream>

namespace newsrl::kernels {

#ifndef NEWSRL_HAVE_CUDA
bool cuda_built() { return false; }
std::vector<DeviceInfo> cuda_devices(std::string* why_none) {
  if (why_none) *why_none = "built without CUDA";
  return {};
}
#endif

DeviceInfo cpu_device() {
  DeviceInfo d;
  d.kind = "cpu";
  d.name = "cpu";
  std::ifstream in("/proc/cpuinfo");
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("model name", 0) == 0) {
      if (auto pos = line.find(':'); pos != std::string::npos) d.name = line.substr(pos + 2);
      break;
    }
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  if (pages > 0 && page > 0) d.memory_bytes = static_cast<std::uint64_t>(pages) * static_cast<std::uint64_t>(page);
  d.capability = std::to_string(sysconf(_SC_NPROCESSORS_ONLN)) + " cores";
  return d;
}

}  // namespace newsrl::kernels
