// Device memory behind Storage(Device::cuda) and the byte copies Tensor needs.
// Plain C++ (no CUDA headers) so that kernels/tensor.cpp can call it.
#pragma once

#include <cstddef>

#include "kernels/dtype.h"

namespace newsrl::kernels::cuda {

// The size device_alloc really hands out for a request of `bytes`.
std::size_t rounded_size(std::size_t bytes);
// A block of rounded_size(bytes) on the current device, from the cache when
// one of that size waits there; throws std::runtime_error when the GPU is out
// of memory even after the cache was emptied, or there is no GPU.
void* device_alloc(std::size_t bytes);
// Gives a block back to the cache (bytes: its rounded size). Safe because all
// work is ordered on one stream: the next user of the block runs after the
// last user's kernels.
void device_release(void* p, std::size_t bytes) noexcept;
// Copies bytes between any two devices; ordered on the stream, and complete
// when it returns if either side is the host.
void copy_bytes(void* dst, Device dst_device, const void* src, Device src_device, std::size_t bytes);
void zero_bytes(void* dst, std::size_t bytes);

}  // namespace newsrl::kernels::cuda
