// Checks token ids (embedding) and targets (cross-entropy) on the device before
// a kernel indexes with them: an id outside the table would read or write
// outside its memory. The first bad position comes back to the host (one
// small copy and a wait), so the op throws the CPU backend's one-line message
// before anything is written.
#pragma once

#include <stdexcept>
#include <string>

#include "kernels/cuda/common.cuh"
#include "kernels/ops.h"

namespace newsrl::kernels::cuda {

// first[0] = the smallest i with ids[i] outside [0, limit) (and not kIgnoreIndex when allow_ignore).
static __global__ void find_bad_index_kernel(unsigned long long* first, const std::int32_t* ids, I n, I limit,
                                             bool allow_ignore) {
  for (I i = global_thread(); i < n; i += grid_threads()) {
    const std::int32_t id = ids[i];
    const bool ok = (id >= 0 && id < limit) || (allow_ignore && id == kIgnoreIndex);
    if (!ok) atomicMin(first, static_cast<unsigned long long>(i));  // an integer minimum: order-free
  }
}

struct BadIndex {
  I position = -1;  // -1: every id is fine
  std::int32_t value = 0;
};

inline BadIndex find_bad_index(const std::int32_t* ids, I n, I limit, bool allow_ignore) {
  if (n <= 0) return {};
  Tensor slot = scratch(sizeof(unsigned long long));
  auto* first = static_cast<unsigned long long*>(slot.raw());
  NEWSRL_CUDA_CHECK(cudaMemsetAsync(first, 0xff, sizeof(unsigned long long), stream()));
  find_bad_index_kernel<<<grid_size(n), kThreads, 0, stream()>>>(first, ids, n, limit, allow_ignore);
  check_launch();
  const unsigned long long at = read_back(first);
  if (at >= static_cast<unsigned long long>(n)) return {};
  return BadIndex{static_cast<I>(at), read_back(ids + at)};
}

// Throws the CPU backend's message for a bad embedding id.
inline void check_ids(const char* op, const std::int32_t* ids, I n, I vocab) {
  const BadIndex bad = find_bad_index(ids, n, vocab, false);
  if (bad.position < 0) return;
  throw std::invalid_argument(std::string(op) + ": id " + std::to_string(bad.value) + " at position " +
                              std::to_string(bad.position) + " is outside the vocabulary of " + std::to_string(vocab));
}

// Throws the CPU backend's message for a bad cross-entropy target.
inline void check_targets(const char* op, const std::int32_t* targets, I rows, I vocab) {
  const BadIndex bad = find_bad_index(targets, rows, vocab, true);
  if (bad.position < 0) return;
  throw std::invalid_argument(std::string(op) + ": target " + std::to_string(bad.value) + " in row " +
                              std::to_string(bad.position) + " is outside the vocabulary [0, " +
                              std::to_string(vocab) + ") and is not the ignore index " +
                              std::to_string(kIgnoreIndex));
}

}  // namespace newsrl::kernels::cuda
