// Device memory: cudaMalloc behind a per-size cache, like the CPU one in
// kernels/tensor.cpp, so a training loop that keeps its shapes allocates
// nothing after its first step (cudaMalloc and cudaFree synchronise the GPU).
#include "kernels/cuda/memory.h"

#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

namespace {

class DeviceCache {
 public:
  void* take(std::size_t bytes) {
    {
      std::lock_guard lock(mu_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        void* p = it->second.back();
        it->second.pop_back();
        cached_ -= bytes;
        return p;
      }
    }
    void* p = nullptr;
    cudaError_t rc = cudaMalloc(&p, bytes);
    if (rc == cudaErrorMemoryAllocation) {
      cudaGetLastError();
      const std::size_t released = empty();
      rc = cudaMalloc(&p, bytes);
      if (rc == cudaErrorMemoryAllocation) {
        cudaGetLastError();
        throw std::runtime_error("CUDA out of memory allocating " + std::to_string(bytes) + " bytes (after freeing " +
                                 std::to_string(released) + " cached bytes)");
      }
    }
    if (rc != cudaSuccess) {
      cudaGetLastError();
      throw std::runtime_error("cannot allocate " + std::to_string(bytes) + " bytes on the GPU: " +
                               cudaGetErrorString(rc));
    }
    return p;
  }

  void give(void* p, std::size_t bytes) {
    std::lock_guard lock(mu_);
    free_[bytes].push_back(p);
    cached_ += bytes;
  }

  // Frees every cached block; returns how many bytes that was.
  std::size_t empty() {
    std::lock_guard lock(mu_);
    NEWSRL_CUDA_CHECK(cudaStreamSynchronize(stream()));
    for (auto& [bytes, blocks] : free_) {
      for (void* p : blocks) cudaFree(p);
      blocks.clear();
    }
    const std::size_t was = cached_;
    cached_ = 0;
    return was;
  }

 private:
  std::mutex mu_;
  std::unordered_map<std::size_t, std::vector<void*>> free_;
  std::size_t cached_ = 0;
};

DeviceCache& cache() {
  static DeviceCache* c = new DeviceCache();  // outlives every tensor, even static ones
  return *c;
}

cudaMemcpyKind kind_of(Device dst, Device src) {
  if (dst == Device::cuda) return src == Device::cuda ? cudaMemcpyDeviceToDevice : cudaMemcpyHostToDevice;
  return src == Device::cuda ? cudaMemcpyDeviceToHost : cudaMemcpyHostToHost;
}

}  // namespace

std::size_t rounded_size(std::size_t bytes) {
  constexpr std::size_t kGrain = 512;  // few distinct sizes, so the cache hits
  return ((bytes == 0 ? 1 : bytes) + kGrain - 1) / kGrain * kGrain;
}

void* device_alloc(std::size_t bytes) { return cache().take(rounded_size(bytes)); }

void device_release(void* p, std::size_t bytes) noexcept {
  try {
    cache().give(p, bytes);
  } catch (...) {
    // A failing push_back (out of host memory) leaks the block rather than crash.
  }
}

void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes) {
  if (bytes == 0) return;
  NEWSRL_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, kind_of(dst_device, src_device), stream()));
  if (dst_device == Device::cpu || src_device == Device::cpu) NEWSRL_CUDA_CHECK(cudaStreamSynchronize(stream()));
}

void zero_bytes(void* dst, std::size_t bytes) {
  if (bytes == 0) return;
  NEWSRL_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream()));
}

}  // namespace newsrl::kernels::cuda
