#include <cuda_runtime.h>

#include "kernels/devices.h"

namespace newsrl::kernels {

bool cuda_built() { return true; }

std::vector<DeviceInfo> cuda_devices(std::string* why_none) {
  int n = 0;
  if (cudaError_t rc = cudaGetDeviceCount(&n); rc != cudaSuccess) {
    if (why_none) *why_none = cudaGetErrorString(rc);
    cudaGetLastError();  // clear the sticky error so later CUDA calls are not poisoned
    return {};
  }
  std::vector<DeviceInfo> out;
  for (int i = 0; i < n; ++i) {
    cudaDeviceProp p{};
    if (cudaGetDeviceProperties(&p, i) != cudaSuccess) continue;
    out.push_back(
        DeviceInfo{"cuda", i, p.name, p.totalGlobalMem, std::to_string(p.major) + "." + std::to_string(p.minor)});
  }
  if (out.empty() && why_none) *why_none = "no CUDA device";
  return out;
}

}  // namespace newsrl::kernels
