// The compute devices this process can see: always the CPU, and CUDA GPUs
// when newsrl was built with CUDA and a driver is present.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace newsrl::kernels {

struct DeviceInfo {
  std::string kind;  // "cpu" or "cuda"
  int index = 0;
  std::string name;
  std::uint64_t memory_bytes = 0;
  std::string capability;  // CUDA compute capability, "9.0"
};

// True when this build contains the CUDA backend.
bool cuda_built();
// CUDA devices visible to this process; empty without CUDA or a driver.
// `why_none` receives the reason when the list is empty.
std::vector<DeviceInfo> cuda_devices(std::string* why_none = nullptr);
// The CPU: model name and logical cores.
DeviceInfo cpu_device();

}  // namespace newsrl::kernels
