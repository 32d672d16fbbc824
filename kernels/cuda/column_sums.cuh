// Deterministic column sums for parameter gradients (bias, norm weights):
// grad[j] += sum over rows r of term(r, j), in double, without float atomics.
// Rows are cut into at most kMaxChunks chunks fixed by the row count alone;
// one kernel sums each (chunk, column) in row order, a second adds the
// chunks of a column in chunk order. Same inputs, same bits, on any GPU.
#pragma once

#include "kernels/cuda/common.cuh"

namespace newsrl::kernels::cuda {

inline constexpr I kMaxChunks = 128;
inline constexpr I kMinChunkRows = 32;

template <class Term>
__global__ void column_chunk_kernel(double* partial, I rows, I cols, I chunk_rows, Term term) {
  const I j = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x;
  const I chunk = blockIdx.y;
  if (j >= cols) return;
  const I r0 = chunk * chunk_rows, r1 = min(rows, r0 + chunk_rows);
  double acc = 0;
  for (I r = r0; r < r1; ++r) acc += term(r, j);
  partial[chunk * cols + j] = acc;
}

static __global__ void column_total_kernel(float* grad, const double* partial, I chunks, I cols) {
  const I j = static_cast<I>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (j >= cols) return;
  double s = 0;
  for (I c = 0; c < chunks; ++c) s += partial[c * cols + j];
  grad[j] += static_cast<float>(s);
}

// term: a copyable functor with `__device__ double operator()(I r, I j) const`.
template <class Term>
void add_column_sums(float* grad, I rows, I cols, Term term) {
  if (rows <= 0 || cols <= 0) return;
  const I chunk_rows = std::max(kMinChunkRows, (rows + kMaxChunks - 1) / kMaxChunks);
  const I chunks = (rows + chunk_rows - 1) / chunk_rows;  // <= kMaxChunks
  Tensor partial = scratch(static_cast<std::size_t>(chunks * cols) * sizeof(double));
  double* p = static_cast<double*>(partial.raw());
  const unsigned col_blocks = static_cast<unsigned>((cols + kThreads - 1) / kThreads);
  column_chunk_kernel<<<dim3(col_blocks, static_cast<unsigned>(chunks)), kThreads, 0, stream()>>>(p, rows, cols,
                                                                                                   chunk_rows, term);
  check_launch();
  column_total_kernel<<<col_blocks, kThreads, 0, stream()>>>(grad, p, chunks, cols);
  check_launch();
}

}  // namespace newsrl::kernels::cuda
