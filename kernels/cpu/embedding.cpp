// Embedding lookup (a gather of table rows by token id) and its backward (a scatter-add into the table).
#include <algorithm>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>
#include <vector>

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;

// Throws on the first id outside [0, vocab), before anything is written, so a bad batch leaves no half-updated output.
void check_ids(const char* op, const std::int32_t* ids, I n, I vocab) {
  for (I i = 0; i < n; ++i) {
    if (ids[i] < 0 || ids[i] >= vocab) {
      throw std::invalid_argument(std::string(op) + ": id " + std::to_string(ids[i]) + " at position " +
                                  std::to_string(i) + " is outside the vocabulary of " + std::to_string(vocab));
    }
  }
}

void embedding_forward(Tensor& out, const Tensor& table, const Tensor& ids) {
  const std::int32_t* id = ids.data<std::int32_t>();
  const float* tab = table.data<float>();
  float* o = out.data<float>();
  const I n = ids.numel(), vocab = table.dim(0), dim = table.dim(1);
  check_ids("embedding_forward", id, n, vocab);
  const std::size_t row_bytes = static_cast<std::size_t>(dim) * sizeof(float);
#pragma omp parallel for schedule(static) if (n * dim >= kParallelWork)
  for (I i = 0; i < n; ++i) std::memcpy(o + i * dim, tab + static_cast<I>(id[i]) * dim, row_bytes);
}

// Positions that share an id add into one table row. Grouping positions by id
// (a stable sort keeps each group in position order) gives every table row to
// one thread, which adds its positions in order: the same bits as a serial
// scatter whatever the thread count, with no atomics.
void embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids) {
  const std::int32_t* id = ids.data<std::int32_t>();
  const float* g = dout.data<float>();
  float* dt = dtable.data<float>();
  const I n = ids.numel(), vocab = dtable.dim(0), dim = dtable.dim(1);
  check_ids("embedding_backward", id, n, vocab);

  // Reused between calls (a training step allocates nothing once warm); ties
  // sort by position, which keeps each id's positions in order without
  // stable_sort's temporary buffer.
  // (References, not the thread-local names: OpenMP's threads below must see this thread's buffers.)
  thread_local std::vector<I> order_buffer, start_buffer;
  std::vector<I>& order = order_buffer;
  std::vector<I>& group_start = start_buffer;  // offsets into order where a new id begins, then n
  order.resize(static_cast<std::size_t>(n));
  group_start.clear();
  std::iota(order.begin(), order.end(), I{0});
  std::sort(order.begin(), order.end(), [id](I a, I b) { return id[a] < id[b] || (id[a] == id[b] && a < b); });
  for (I k = 0; k < n; ++k) {
    if (k == 0 || id[order[static_cast<std::size_t>(k)]] != id[order[static_cast<std::size_t>(k - 1)]]) {
      group_start.push_back(k);
    }
  }
  group_start.push_back(n);
  const I groups = static_cast<I>(group_start.size()) - 1;

  // Dynamic: frequent ids (padding, common tokens) make some groups much longer than others.
#pragma omp parallel for schedule(dynamic, 16)
  for (I q = 0; q < groups; ++q) {
    const I k0 = group_start[static_cast<std::size_t>(q)], k1 = group_start[static_cast<std::size_t>(q + 1)];
    float* row = dt + static_cast<I>(id[order[static_cast<std::size_t>(k0)]]) * dim;
    for (I k = k0; k < k1; ++k) {
      const float* src = g + order[static_cast<std::size_t>(k)] * dim;
      for (I j = 0; j < dim; ++j) row[j] += src[j];
    }
  }
}

}  // namespace

void register_embedding(OpTable& t) {
  t.embedding_forward = embedding_forward;
  t.embedding_backward = embedding_backward;
}

}  // namespace newsrl::kernels::cpu
