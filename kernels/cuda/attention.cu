// Grouped-query attention on the GPU, forward and backward, in float32 with
// the CPU table's semantics (kernels/ops.h): q [B, Tq, Hq, D], k and v
// [B, Tk, Hkv, D], query t sees keys s <= q_offset + t when causal.
//
// Written here rather than taken from a library because the op is float32
// end to end (cuDNN's fused attention takes only 16-bit inputs). FlashAttention's
// scheme: tiles of 64 queries x 64 keys in shared memory, softmax online in
// float32, nothing of size Tq x Tk in global memory.
//   forward:  one block per (batch, query head, query tile);
//   backward: one block per (batch, kv head, key tile) for dk and dv (it loops
//             over the group's query heads, so no two blocks write one row)
//             and one block per (batch, query head, query tile) for dq; every
//             gradient element has one writer, so results are deterministic.
// A block has 256 threads as 16 x 16: thread (ty, tx) holds rows ty + 16 i and
// columns tx + 16 j (i, j < 4) of a 64 x 64 tile, and columns tx + 16 j of
// head_dim for the [64, D] accumulators.
#include <cmath>
#include <string>

#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

namespace {

constexpr int kTile = 64;            // queries or keys per tile
constexpr int kThreads = 256;        // 16 x 16
constexpr int kPer = kTile / 16;     // rows (or columns) of a tile per thread
constexpr int kMaxHeadDim = 128;     // larger heads have no kernel here

struct Dims {
  int batch, tq, tk, hq, hkv, dim;
  long long q_offset;
  float scale;
  bool causal;
};

// Keys a query at position t (0-based among the queries) may see: [0, limit).
__device__ __forceinline__ long long visible_limit(const Dims& p, long long t) {
  if (!p.causal) return p.tk;
  const long long end = p.q_offset + t + 1;
  return end < p.tk ? end : p.tk;
}

// Rows [row0, row0 + 64) of one head of a [B, T, H, D] tensor into shared
// memory with row stride ld; rows past `rows` are zero.
__device__ __forceinline__ void load_tile(float* dst, int ld, const float* src, long long token_stride, int row0,
                                          int rows, int dim) {
  for (int e = threadIdx.x; e < kTile * dim; e += kThreads) {
    const int r = e / dim, d = e % dim;
    const int row = row0 + r;
    dst[r * ld + d] = row < rows ? src[static_cast<long long>(row) * token_stride + d] : 0.0f;
  }
}

// s[i][j] = dot(A row ty + 16 i, B row tx + 16 j) over dim, A and B tiles in
// shared memory with row stride ld.
__device__ __forceinline__ void tile_dots(float (&s)[kPer][kPer], const float* a, const float* b, int ld, int dim) {
  const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
#pragma unroll
  for (int i = 0; i < kPer; ++i)
#pragma unroll
    for (int j = 0; j < kPer; ++j) s[i][j] = 0.0f;
  for (int d = 0; d < dim; ++d) {
    float av[kPer], bv[kPer];
#pragma unroll
    for (int i = 0; i < kPer; ++i) av[i] = a[(ty + 16 * i) * ld + d];
#pragma unroll
    for (int j = 0; j < kPer; ++j) bv[j] = b[(tx + 16 * j) * ld + d];
#pragma unroll
    for (int i = 0; i < kPer; ++i)
#pragma unroll
      for (int j = 0; j < kPer; ++j) s[i][j] = fmaf(av[i], bv[j], s[i][j]);
  }
}

// acc[i][c] += sum over the 64 columns r of w[row ty + 16 i][r] * m[r][tx + 16 c]:
// a [64, 64] weight tile (row stride kTile + 1) times a [64, D] tile (stride ld).
template <int kCols>
__device__ __forceinline__ void tile_times_rows(float (&acc)[kPer][kCols], const float* w, const float* m, int ld,
                                                int dim) {
  const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
  for (int r = 0; r < kTile; ++r) {
    float wv[kPer];
#pragma unroll
    for (int i = 0; i < kPer; ++i) wv[i] = w[(ty + 16 * i) * (kTile + 1) + r];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const int d = tx + 16 * c;
      if (d < dim) {
        const float mv = m[r * ld + d];
#pragma unroll
        for (int i = 0; i < kPer; ++i) acc[i][c] = fmaf(wv[i], mv, acc[i][c]);
      }
    }
  }
}

// Max and sum over the 16 threads that share a row (one half of a warp).
__device__ __forceinline__ float row_max(float x) {
#pragma unroll
  for (int o = 8; o > 0; o /= 2) x = fmaxf(x, __shfl_xor_sync(0xffffffffu, x, o, 16));
  return x;
}
__device__ __forceinline__ float row_sum(float x) {
#pragma unroll
  for (int o = 8; o > 0; o /= 2) x += __shfl_xor_sync(0xffffffffu, x, o, 16);
  return x;
}

// ---- forward -----------------------------------------------------------------

template <int kCols>
__global__ void __launch_bounds__(kThreads) forward_kernel(float* out, float* lse, const float* q, const float* k,
                                                           const float* v, Dims p) {
  extern __shared__ float smem[];
  const int ld = p.dim + 1;  // +1: rows of a tile fall in different banks
  float* qs = smem;
  float* kvs = qs + kTile * ld;
  float* ps = kvs + kTile * ld;  // [64, 65]
  const int t0 = blockIdx.x * kTile, h = blockIdx.y, b = blockIdx.z;
  const int hk = h / (p.hq / p.hkv);
  const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
  const long long q_stride = static_cast<long long>(p.hq) * p.dim, k_stride = static_cast<long long>(p.hkv) * p.dim;
  const float* qb = q + static_cast<long long>(b) * p.tq * q_stride + static_cast<long long>(h) * p.dim;
  const float* kb = k + static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;
  const float* vb = v + static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;

  load_tile(qs, ld, qb, q_stride, t0, p.tq, p.dim);
  float m[kPer], l[kPer], acc[kPer][kCols];
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    m[i] = -INFINITY;
    l[i] = 0.0f;
#pragma unroll
    for (int c = 0; c < kCols; ++c) acc[i][c] = 0.0f;
  }
  const int last_row = min(t0 + kTile, p.tq) - 1;
  const long long key_end = visible_limit(p, last_row);
  for (int s0 = 0; s0 < key_end; s0 += kTile) {
    __syncthreads();  // the previous tile's V is no longer read
    load_tile(kvs, ld, kb, k_stride, s0, p.tk, p.dim);
    __syncthreads();
    float s[kPer][kPer];
    tile_dots(s, qs, kvs, ld, p.dim);
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
      const long long limit = visible_limit(p, t0 + ty + 16 * i);
      float mx = -INFINITY;
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const bool seen = s0 + tx + 16 * j < limit;
        s[i][j] = seen ? s[i][j] * p.scale : -INFINITY;
        mx = fmaxf(mx, s[i][j]);
      }
      const float m_new = fmaxf(m[i], row_max(mx));  // finite: key 0 is in the first tile for every row
      const float rescale = expf(m[i] - m_new);      // 0 on the first tile (m = -inf)
      float sum = 0.0f;
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const float e = expf(s[i][j] - m_new);  // 0 where masked
        ps[(ty + 16 * i) * (kTile + 1) + tx + 16 * j] = e;
        sum += e;
      }
      l[i] = l[i] * rescale + row_sum(sum);
      m[i] = m_new;
#pragma unroll
      for (int c = 0; c < kCols; ++c) acc[i][c] *= rescale;
    }
    __syncthreads();  // K is read by every thread before V replaces it
    load_tile(kvs, ld, vb, k_stride, s0, p.tk, p.dim);
    __syncthreads();
    tile_times_rows<kCols>(acc, ps, kvs, ld, p.dim);
  }
  float* ob = out + static_cast<long long>(b) * p.tq * q_stride + static_cast<long long>(h) * p.dim;
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    const int t = t0 + ty + 16 * i;
    if (t >= p.tq) continue;
    const float inv = 1.0f / l[i];
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const int d = tx + 16 * c;
      if (d < p.dim) ob[static_cast<long long>(t) * q_stride + d] = acc[i][c] * inv;
    }
    if (tx == 0) lse[(static_cast<long long>(b) * p.hq + h) * p.tq + t] = m[i] + logf(l[i]);
  }
}

// ---- backward ----------------------------------------------------------------

// delta[b, h, t] = sum_d dout * out (= sum_s P dP): one warp per row.
__global__ void delta_kernel(float* delta, const float* dout, const float* out, Dims p) {
  const long long row = (blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x) / 32;
  const int lane = threadIdx.x % 32;
  const long long rows = static_cast<long long>(p.batch) * p.hq * p.tq;
  if (row >= rows) return;
  const long long t = row % p.tq, h = (row / p.tq) % p.hq, b = row / (static_cast<long long>(p.tq) * p.hq);
  const long long at = ((b * p.tq + t) * p.hq + h) * p.dim;
  float s = 0.0f;
  for (int d = lane; d < p.dim; d += 32) s = fmaf(dout[at + d], out[at + d], s);
#pragma unroll
  for (int o = 16; o > 0; o /= 2) s += __shfl_xor_sync(0xffffffffu, s, o);
  if (lane == 0) delta[row] = s;
}

// dk and dv of one key tile of one kv head, over every query of its G query heads.
template <int kCols>
__global__ void __launch_bounds__(kThreads)
    dkv_kernel(float* dk, float* dv, const float* q, const float* k, const float* v, const float* dout,
               const float* lse, const float* delta, Dims p) {
  extern __shared__ float smem[];
  const int ld = p.dim + 1;
  float* ks = smem;
  float* vs = ks + kTile * ld;
  float* qs = vs + kTile * ld;
  float* gs = qs + kTile * ld;         // dout
  float* pt = gs + kTile * ld;         // Pᵀ [keys, queries], stride 65
  float* dst = pt + kTile * (kTile + 1);  // dSᵀ
  float* row_lse = dst + kTile * (kTile + 1);
  float* row_delta = row_lse + kTile;
  const int s0 = blockIdx.x * kTile, hk = blockIdx.y, b = blockIdx.z;
  const int group = p.hq / p.hkv;
  const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
  const long long q_stride = static_cast<long long>(p.hq) * p.dim, k_stride = static_cast<long long>(p.hkv) * p.dim;
  const long long kv_at = static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;
  load_tile(ks, ld, k + kv_at, k_stride, s0, p.tk, p.dim);
  load_tile(vs, ld, v + kv_at, k_stride, s0, p.tk, p.dim);
  float dk_acc[kPer][kCols], dv_acc[kPer][kCols];
#pragma unroll
  for (int i = 0; i < kPer; ++i)
#pragma unroll
    for (int c = 0; c < kCols; ++c) dk_acc[i][c] = dv_acc[i][c] = 0.0f;
  // The first query that sees key s0: q_offset + t >= s0.
  long long first = p.causal ? s0 - p.q_offset : 0;
  first = first < 0 ? 0 : first / kTile * kTile;
  for (int h = hk * group; h < (hk + 1) * group; ++h) {
    const long long q_at = static_cast<long long>(b) * p.tq * q_stride + static_cast<long long>(h) * p.dim;
    const long long row_at = (static_cast<long long>(b) * p.hq + h) * p.tq;
    for (int t0 = static_cast<int>(first); t0 < p.tq; t0 += kTile) {
      __syncthreads();  // the previous tile's q, dout, Pᵀ and dSᵀ are no longer read
      load_tile(qs, ld, q + q_at, q_stride, t0, p.tq, p.dim);
      load_tile(gs, ld, dout + q_at, q_stride, t0, p.tq, p.dim);
      if (threadIdx.x < kTile) {
        const int t = t0 + threadIdx.x;
        row_lse[threadIdx.x] = t < p.tq ? lse[row_at + t] : 0.0f;
        row_delta[threadIdx.x] = t < p.tq ? delta[row_at + t] : 0.0f;
      }
      __syncthreads();
      float s[kPer][kPer], dp[kPer][kPer];
      tile_dots(s, ks, qs, ld, p.dim);   // rows: keys, columns: queries
      tile_dots(dp, vs, gs, ld, p.dim);  // dPᵀ = V dOᵀ
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const int tj = tx + 16 * j, t = t0 + tj;
        const long long limit = t < p.tq ? visible_limit(p, t) : 0;
#pragma unroll
        for (int i = 0; i < kPer; ++i) {
          const int si = ty + 16 * i;
          const float pr = s0 + si < limit ? expf(s[i][j] * p.scale - row_lse[tj]) : 0.0f;
          pt[si * (kTile + 1) + tj] = pr;
          dst[si * (kTile + 1) + tj] = pr * (dp[i][j] - row_delta[tj]);
        }
      }
      __syncthreads();
      tile_times_rows<kCols>(dv_acc, pt, gs, ld, p.dim);   // dV += Pᵀ dO
      tile_times_rows<kCols>(dk_acc, dst, qs, ld, p.dim);  // dK += dSᵀ Q (scaled below)
    }
  }
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    const int s = s0 + ty + 16 * i;
    if (s >= p.tk) continue;
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const int d = tx + 16 * c;
      if (d >= p.dim) continue;
      const long long at = kv_at + static_cast<long long>(s) * k_stride + d;
      dk[at] += p.scale * dk_acc[i][c];
      dv[at] += dv_acc[i][c];
    }
  }
}

// dq of one query tile of one query head, over every key it sees.
template <int kCols>
__global__ void __launch_bounds__(kThreads)
    dq_kernel(float* dq, const float* q, const float* k, const float* v, const float* dout, const float* lse,
              const float* delta, Dims p) {
  extern __shared__ float smem[];
  const int ld = p.dim + 1;
  float* qs = smem;
  float* gs = qs + kTile * ld;
  float* ks = gs + kTile * ld;
  float* vs = ks + kTile * ld;
  float* ds = vs + kTile * ld;  // dS [queries, keys], stride 65
  const int t0 = blockIdx.x * kTile, h = blockIdx.y, b = blockIdx.z;
  const int hk = h / (p.hq / p.hkv);
  const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
  const long long q_stride = static_cast<long long>(p.hq) * p.dim, k_stride = static_cast<long long>(p.hkv) * p.dim;
  const long long q_at = static_cast<long long>(b) * p.tq * q_stride + static_cast<long long>(h) * p.dim;
  const long long kv_at = static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;
  const long long row_at = (static_cast<long long>(b) * p.hq + h) * p.tq;
  load_tile(qs, ld, q + q_at, q_stride, t0, p.tq, p.dim);
  load_tile(gs, ld, dout + q_at, q_stride, t0, p.tq, p.dim);
  float my_lse[kPer], my_delta[kPer];
  long long limit[kPer];
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    const int t = t0 + ty + 16 * i;
    my_lse[i] = t < p.tq ? lse[row_at + t] : 0.0f;
    my_delta[i] = t < p.tq ? delta[row_at + t] : 0.0f;
    limit[i] = t < p.tq ? visible_limit(p, t) : 0;
  }
  float acc[kPer][kCols];
#pragma unroll
  for (int i = 0; i < kPer; ++i)
#pragma unroll
    for (int c = 0; c < kCols; ++c) acc[i][c] = 0.0f;
  const long long key_end = visible_limit(p, min(t0 + kTile, p.tq) - 1);
  for (int s0 = 0; s0 < key_end; s0 += kTile) {
    __syncthreads();
    load_tile(ks, ld, k + kv_at, k_stride, s0, p.tk, p.dim);
    load_tile(vs, ld, v + kv_at, k_stride, s0, p.tk, p.dim);
    __syncthreads();
    float s[kPer][kPer], dp[kPer][kPer];
    tile_dots(s, qs, ks, ld, p.dim);
    tile_dots(dp, gs, vs, ld, p.dim);
#pragma unroll
    for (int i = 0; i < kPer; ++i) {
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const int sj = tx + 16 * j;
        const float pr = s0 + sj < limit[i] ? expf(s[i][j] * p.scale - my_lse[i]) : 0.0f;
        ds[(ty + 16 * i) * (kTile + 1) + sj] = pr * (dp[i][j] - my_delta[i]);
      }
    }
    __syncthreads();
    tile_times_rows<kCols>(acc, ds, ks, ld, p.dim);  // dQ += dS K (scaled below)
  }
#pragma unroll
  for (int i = 0; i < kPer; ++i) {
    const int t = t0 + ty + 16 * i;
    if (t >= p.tq) continue;
#pragma unroll
    for (int c = 0; c < kCols; ++c) {
      const int d = tx + 16 * c;
      if (d < p.dim) dq[q_at + static_cast<long long>(t) * q_stride + d] += p.scale * acc[i][c];
    }
  }
}

// ---- launching ---------------------------------------------------------------

Dims dims_of(const Tensor& q, const Tensor& k, std::int64_t q_offset, float scale, bool causal, const char* op) {
  if (q.dim(3) > kMaxHeadDim) {
    throw std::runtime_error(std::string(op) + ": head_dim " + std::to_string(q.dim(3)) +
                             " has no cuda kernel (at most " + std::to_string(kMaxHeadDim) + ")");
  }
  if (q.dim(1) > (1 << 30) || k.dim(1) > (1 << 30)) throw std::runtime_error(std::string(op) + ": too many tokens");
  return Dims{static_cast<int>(q.dim(0)), static_cast<int>(q.dim(1)), static_cast<int>(k.dim(1)),
              static_cast<int>(q.dim(2)), static_cast<int>(k.dim(2)), static_cast<int>(q.dim(3)),
              static_cast<long long>(q_offset), scale, causal};
}

template <class Kernel>
void launch(Kernel kernel, dim3 grid, std::size_t smem, void** args) {
  // Above 48 KiB of shared memory a kernel must ask for it.
  NEWSRL_CUDA_CHECK(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel),
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  NEWSRL_CUDA_CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(kernel), grid, dim3(kThreads), args, smem, stream()));
}

std::size_t tile_bytes(int dim) { return sizeof(float) * kTile * static_cast<std::size_t>(dim + 1); }
constexpr std::size_t kWeightTileBytes = sizeof(float) * kTile * (kTile + 1);

void attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                       std::int64_t q_offset, float scale, bool causal) {
  Dims p = dims_of(q, k, q_offset, scale, causal, "attention_forward");
  if (out.numel() == 0) return;
  float* po = out.data<float>();
  float* pl = lse.data<float>();
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  void* args[] = {&po, &pl, &pq, &pk, &pv, &p};
  const dim3 grid(blocks_for(p.tq, kTile), static_cast<unsigned>(p.hq), static_cast<unsigned>(p.batch));
  const std::size_t smem = 2 * tile_bytes(p.dim) + kWeightTileBytes;
  if (p.dim <= 64) {
    launch(forward_kernel<4>, grid, smem, args);
  } else {
    launch(forward_kernel<8>, grid, smem, args);
  }
}

void attention_backward(Tensor& dq, Tensor& dk, Tensor& dv, const Tensor& dout, const Tensor& q, const Tensor& k,
                        const Tensor& v, const Tensor& out, const Tensor& lse, std::int64_t q_offset, float scale,
                        bool causal) {
  Dims p = dims_of(q, k, q_offset, scale, causal, "attention_backward");
  if (q.numel() == 0) return;
  Tensor delta = Tensor::empty({q.dim(0), q.dim(2), q.dim(1)}, DType::f32, Device::cuda);
  float* pdelta = delta.data<float>();
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  const float *pg = dout.data<float>(), *po = out.data<float>(), *pl = lse.data<float>();
  float *pdq = dq.data<float>(), *pdk = dk.data<float>(), *pdv = dv.data<float>();
  delta_kernel<<<blocks_for(delta.numel() * 32, kThreads), kThreads, 0, stream()>>>(pdelta, pg, po, p);
  NEWSRL_CUDA_CHECK(cudaGetLastError());

  void* dkv_args[] = {&pdk, &pdv, &pq, &pk, &pv, &pg, &pl, &pdelta, &p};
  const dim3 kv_grid(blocks_for(p.tk, kTile), static_cast<unsigned>(p.hkv), static_cast<unsigned>(p.batch));
  const std::size_t dkv_smem = 4 * tile_bytes(p.dim) + 2 * kWeightTileBytes + 2 * kTile * sizeof(float);
  void* dq_args[] = {&pdq, &pq, &pk, &pv, &pg, &pl, &pdelta, &p};
  const dim3 q_grid(blocks_for(p.tq, kTile), static_cast<unsigned>(p.hq), static_cast<unsigned>(p.batch));
  const std::size_t dq_smem = 4 * tile_bytes(p.dim) + kWeightTileBytes;
  if (p.dim <= 64) {
    launch(dkv_kernel<4>, kv_grid, dkv_smem, dkv_args);
    launch(dq_kernel<4>, q_grid, dq_smem, dq_args);
  } else {
    launch(dkv_kernel<8>, kv_grid, dkv_smem, dkv_args);
    launch(dq_kernel<8>, q_grid, dq_smem, dq_args);
  }
}

}  // namespace

void register_attention(OpTable& t) {
  t.attention_forward = attention_forward;
  t.attention_backward = attention_backward;
}

}  // namespace newsrl::kernels::cuda
