// Embedding lookup on the GPU (a gather of table rows by id) and its backward
// (a scatter-add into the table) without atomics: each block owns a range of
// table rows and walks every id in position order, adding the positions that
// fall in its range. Each (row, column) is then added in position order by
// one thread — the bits of the CPU backend's serial scatter.
#include "kernels/cuda/common.cuh"
#include "kernels/cuda/index_check.cuh"

namespace newsrl::kernels::cuda {

namespace {

struct GatherFn {
  float* out;
  const float* table;
  const std::int32_t* ids;
  I dim;
  __device__ void operator()(I i) const {
    const I position = i / dim, j = i - position * dim;
    out[i] = table[static_cast<I>(ids[position]) * dim + j];
  }
};

void embedding_forward(Tensor& out, const Tensor& table, const Tensor& ids) {
  const I n = ids.numel(), dim = table.dim(1);
  check_ids("embedding_forward", ids.data<std::int32_t>(), n, table.dim(0));
  if (dim == 0) return;
  for_each_index(n * dim, GatherFn{out.data<float>(), table.data<float>(), ids.data<std::int32_t>(), dim});
}

// Ids are read in tiles through shared memory; the ids of a tile are the same
// for every thread, so the branch on "is it in my range" never diverges.
constexpr int kIdTile = 1024;
// Rows per block: at least this many, and few enough blocks that each id is
// read by at most about kMaxBackwardBlocks blocks.
constexpr I kMinRowsPerBlock = 16;
constexpr I kMaxBackwardBlocks = 2048;

__global__ void embedding_backward_kernel(float* dtable, const float* dout, const std::int32_t* ids, I n, I dim,
                                          I vocab, I rows_per_block) {
  __shared__ std::int32_t tile[kIdTile];
  const I v0 = static_cast<I>(blockIdx.x) * rows_per_block, v1 = min(vocab, v0 + rows_per_block);
  for (I start = 0; start < n; start += kIdTile) {
    const I count = min(static_cast<I>(kIdTile), n - start);
    __syncthreads();  // the previous tile is no longer read
    for (I k = threadIdx.x; k < count; k += blockDim.x) tile[k] = ids[start + k];
    __syncthreads();
    for (I k = 0; k < count; ++k) {
      const I id = tile[k];
      if (id < v0 || id >= v1) continue;
      float* row = dtable + id * dim;
      const float* src = dout + (start + k) * dim;
      for (I j = threadIdx.x; j < dim; j += blockDim.x) row[j] += src[j];
    }
  }
}

void embedding_backward(Tensor& dtable, const Tensor& dout, const Tensor& ids) {
  const I n = ids.numel(), vocab = dtable.dim(0), dim = dtable.dim(1);
  check_ids("embedding_backward", ids.data<std::int32_t>(), n, vocab);
  if (n == 0 || dim == 0 || vocab == 0) return;
  const I rows_per_block = std::max(kMinRowsPerBlock, (vocab + kMaxBackwardBlocks - 1) / kMaxBackwardBlocks);
  const I blocks = (vocab + rows_per_block - 1) / rows_per_block;
  embedding_backward_kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream()>>>(
      dtable.data<float>(), dout.data<float>(), ids.data<std::int32_t>(), n, dim, vocab, rows_per_block);
  check_launch();
}

}  // namespace

void register_embedding(OpTable& t) {
  t.embedding_forward = embedding_forward;
  t.embedding_backward = embedding_backward;
}

}  // namespace newsrl::kernels::cuda
