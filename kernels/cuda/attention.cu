// Grouped-query attention on the GPU, forward and backward, in float32 with
// the CPU table's semantics (kernels/ops.h): q [B, Tq, Hq, D], k and v
// [B, Tk, Hkv, D], query t sees keys s <= q_offset + t when causal.
//
// Written here rather than taken from a library because the op is float32
// end to end (cuDNN's fused attention takes only 16-bit inputs); with the
// matmul precision set to bf16 (kernels/ops.h), calls of more than eight
// queries and their backward go to the tensor-core kernels of attention_tc.cu
// instead. FlashAttention's
// scheme: tiles of 64 queries x 64 keys in shared memory, softmax online in
// float32, nothing of size Tq x Tk in global memory.
//   forward:  one block per (batch, query head, query tile); with at most 8
//             queries (decoding), one block per (batch, query head, query)
//             whose warps split the keys (decode_kernel);
//   backward: one block per (batch, kv head, key tile) for dk and dv (it loops
//             over the group's query heads, so no two blocks write one row)
//             and one block per (batch, query head, query tile) for dq; every
//             gradient element has one writer, so results are deterministic.
// A block has 256 threads as 16 x 16: thread (ty, tx) holds rows ty + 16 i and
// columns tx + 16 j (i, j < 4) of a 64 x 64 tile, and columns tx + 16 j of
// head_dim for the [64, D] accumulators. A [64, D] tile of q, k, v or dout sits
// in shared memory with head_dim padded with zeros to a multiple of 4 (its
// "width"), read four floats at a time, and rows ld = width + 4 floats apart so
// that the 8 rows one 128-bit load touches fall in different banks.
#include <cmath>
#include <string>

#include "kernels/cuda/attention_dims.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

namespace {

constexpr int kTile = 64;            // queries or keys per tile
constexpr int kThreads = 256;        // 16 x 16
constexpr int kPer = kTile / 16;     // rows (or columns) of a tile per thread
constexpr int kMaxHeadDim = 128;     // larger heads have no kernel here

using Dims = AttentionDims;

__host__ __device__ inline int padded_width(int dim) { return (dim + 3) / 4 * 4; }

// Rows [row0, row0 + 64) of one head of a [B, T, H, D] tensor into shared
// memory with row stride ld; rows past `rows`, and columns from dim to the
// padded width, are zero.
__device__ __forceinline__ void load_tile(float* dst, int ld, const float* src, long long token_stride, int row0,
                                          int rows, int dim) {
  const int width = padded_width(dim);
  for (int e = threadIdx.x; e < kTile * width; e += kThreads) {
    const int r = e / width, d = e % width;
    const int row = row0 + r;
    dst[r * ld + d] = row < rows && d < dim ? src[static_cast<long long>(row) * token_stride + d] : 0.0f;
  }
}

// s[i][j] = dot(A row ty + 16 i, B row tx + 16 j) over the padded width, A
// and B tiles in shared memory with row stride ld (both multiples of 4).
__device__ __forceinline__ void tile_dots(float (&s)[kPer][kPer], const float* a, const float* b, int ld,
                                          int width) {
  const int ty = threadIdx.x / 16, tx = threadIdx.x % 16;
#pragma unroll
  for (int i = 0; i < kPer; ++i)
#pragma unroll
    for (int j = 0; j < kPer; ++j) s[i][j] = 0.0f;
  for (int d = 0; d < width; d += 4) {
    float4 av[kPer], bv[kPer];
#pragma unroll
    for (int i = 0; i < kPer; ++i) av[i] = *reinterpret_cast<const float4*>(a + (ty + 16 * i) * ld + d);
#pragma unroll
    for (int j = 0; j < kPer; ++j) bv[j] = *reinterpret_cast<const float4*>(b + (tx + 16 * j) * ld + d);
#pragma unroll
    for (int i = 0; i < kPer; ++i)
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        float x = fmaf(av[i].x, bv[j].x, s[i][j]);
        x = fmaf(av[i].y, bv[j].y, x);
        x = fmaf(av[i].z, bv[j].z, x);
        s[i][j] = fmaf(av[i].w, bv[j].w, x);
      }
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
  extern __shared__ __align__(16) float smem[];
  const int width = padded_width(p.dim), ld = width + 4;
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
    tile_dots(s, qs, kvs, ld, width);
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

// ---- forward for a few queries (decoding) ---------------------------------------

// A 64-query tile is nearly all padding when a step decodes one token per
// sequence, so few queries take this kernel instead: one block of four warps
// per (query, head, batch). Each warp walks every fourth visible key; its 32
// lanes hold head_dim columns lane + 32 c (c < kLaneCols), so reading a key's
// row is one coalesced load per c, and the dot product is a butterfly sum
// (every lane gets the same bits). The warps' running (max, sum, output) are
// merged at the end in shared memory.
constexpr int kDecodeMaxQueries = 8;  // more queries than this take the tiled kernel
constexpr int kDecodeWarps = 4;

template <int kLaneCols>
__global__ void __launch_bounds__(32 * kDecodeWarps)
    decode_kernel(float* out, float* lse, const float* q, const float* k, const float* v, Dims p) {
  __shared__ float warp_m[kDecodeWarps], warp_l[kDecodeWarps];
  __shared__ float warp_acc[kDecodeWarps][32 * kLaneCols];
  const int t = blockIdx.x, h = blockIdx.y, b = blockIdx.z;
  const int hk = h / (p.hq / p.hkv);
  const int lane = threadIdx.x % 32, warp = threadIdx.x / 32;
  const long long q_stride = static_cast<long long>(p.hq) * p.dim, k_stride = static_cast<long long>(p.hkv) * p.dim;
  const float* qr = q + (static_cast<long long>(b) * p.tq + t) * q_stride + static_cast<long long>(h) * p.dim;
  const float* kb = k + static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;
  const float* vb = v + static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;
  float qv[kLaneCols], acc[kLaneCols];
#pragma unroll
  for (int c = 0; c < kLaneCols; ++c) {
    const int d = lane + 32 * c;
    qv[c] = d < p.dim ? qr[d] : 0.0f;
    acc[c] = 0.0f;
  }
  float m = -INFINITY, l = 0.0f;
  const long long limit = visible_limit(p, t);
  for (long long s = warp; s < limit; s += kDecodeWarps) {
    const float* kr = kb + s * k_stride;
    const float* vr = vb + s * k_stride;
    float dot = 0.0f, vv[kLaneCols];
#pragma unroll
    for (int c = 0; c < kLaneCols; ++c) {
      const int d = lane + 32 * c;
      const bool in = d < p.dim;
      dot = fmaf(qv[c], in ? kr[d] : 0.0f, dot);
      vv[c] = in ? vr[d] : 0.0f;
    }
#pragma unroll
    for (int o = 16; o > 0; o /= 2) dot += __shfl_xor_sync(0xffffffffu, dot, o);
    const float score = dot * p.scale;
    const float m_new = fmaxf(m, score);
    const float rescale = expf(m - m_new);  // 0 on the first key (m = -inf)
    const float e = expf(score - m_new);
    l = l * rescale + e;
#pragma unroll
    for (int c = 0; c < kLaneCols; ++c) acc[c] = fmaf(e, vv[c], acc[c] * rescale);
    m = m_new;
  }
  if (lane == 0) {
    warp_m[warp] = m;
    warp_l[warp] = l;
  }
#pragma unroll
  for (int c = 0; c < kLaneCols; ++c) warp_acc[warp][lane + 32 * c] = acc[c];
  __syncthreads();
  if (warp != 0) return;
  float m_all = -INFINITY;
#pragma unroll
  for (int w = 0; w < kDecodeWarps; ++w) m_all = fmaxf(m_all, warp_m[w]);
  float l_all = 0.0f, weight[kDecodeWarps];
#pragma unroll
  for (int w = 0; w < kDecodeWarps; ++w) {
    weight[w] = warp_l[w] > 0.0f ? expf(warp_m[w] - m_all) : 0.0f;  // a warp with no key adds nothing
    l_all += warp_l[w] * weight[w];
  }
  const float inv = 1.0f / l_all;
  float* orow = out + (static_cast<long long>(b) * p.tq + t) * q_stride + static_cast<long long>(h) * p.dim;
#pragma unroll
  for (int c = 0; c < kLaneCols; ++c) {
    const int d = lane + 32 * c;
    if (d >= p.dim) continue;
    float o = 0.0f;
#pragma unroll
    for (int w = 0; w < kDecodeWarps; ++w) o = fmaf(warp_acc[w][d], weight[w], o);
    orow[d] = o * inv;
  }
  if (lane == 0) lse[(static_cast<long long>(b) * p.hq + h) * p.tq + t] = m_all + logf(l_all);
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
  extern __shared__ __align__(16) float smem[];
  const int width = padded_width(p.dim), ld = width + 4;
  float* ks = smem;
  float* vs = ks + kTile * ld;
  float* qs = vs + kTile * ld;
  float* gs = qs + kTile * ld;         // dout
  float* wt = gs + kTile * ld;  // Pᵀ, then dSᵀ: [keys, queries], stride 65
  float* row_lse = wt + kTile * (kTile + 1);
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
      tile_dots(s, ks, qs, ld, width);   // rows: keys, columns: queries
      tile_dots(dp, vs, gs, ld, width);  // dPᵀ = V dOᵀ
#pragma unroll
      for (int j = 0; j < kPer; ++j) {
        const int tj = tx + 16 * j, t = t0 + tj;
        const long long limit = t < p.tq ? visible_limit(p, t) : 0;
#pragma unroll
        for (int i = 0; i < kPer; ++i) {
          const int si = ty + 16 * i;
          const float pr = s0 + si < limit ? expf(s[i][j] * p.scale - row_lse[tj]) : 0.0f;
          wt[si * (kTile + 1) + tj] = pr;
          dp[i][j] = pr * (dp[i][j] - row_delta[tj]);  // dSᵀ, stored once Pᵀ has been used
        }
      }
      __syncthreads();
      tile_times_rows<kCols>(dv_acc, wt, gs, ld, p.dim);  // dV += Pᵀ dO
      __syncthreads();
#pragma unroll
      for (int j = 0; j < kPer; ++j)
#pragma unroll
        for (int i = 0; i < kPer; ++i) wt[(ty + 16 * i) * (kTile + 1) + tx + 16 * j] = dp[i][j];
      __syncthreads();
      tile_times_rows<kCols>(dk_acc, wt, qs, ld, p.dim);  // dK += dSᵀ Q (scaled below)
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
  extern __shared__ __align__(16) float smem[];
  const int width = padded_width(p.dim), ld = width + 4;
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
    tile_dots(s, qs, ks, ld, width);
    tile_dots(dp, gs, vs, ld, width);
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

std::size_t tile_bytes(int dim) { return sizeof(float) * kTile * static_cast<std::size_t>(padded_width(dim) + 4); }
constexpr std::size_t kWeightTileBytes = sizeof(float) * kTile * (kTile + 1);

void attention_forward(Tensor& out, Tensor& lse, const Tensor& q, const Tensor& k, const Tensor& v,
                       std::int64_t q_offset, float scale, bool causal) {
  Dims p = dims_of(q, k, q_offset, scale, causal, "attention_forward");
  if (out.numel() == 0) return;
  float* po = out.data<float>();
  float* pl = lse.data<float>();
  const float *pq = q.data<float>(), *pk = k.data<float>(), *pv = v.data<float>();
  void* args[] = {&po, &pl, &pq, &pk, &pv, &p};
  if (p.tq <= kDecodeMaxQueries) {
    const dim3 grid(static_cast<unsigned>(p.tq), static_cast<unsigned>(p.hq), static_cast<unsigned>(p.batch));
    const void* kernel = p.dim <= 64 ? reinterpret_cast<const void*>(decode_kernel<2>)
                                     : reinterpret_cast<const void*>(decode_kernel<4>);
    NEWSRL_CUDA_CHECK(cudaLaunchKernel(kernel, grid, dim3(32 * kDecodeWarps), args, 0, stream()));
    return;
  }
  if (matmul_precision() == MatmulPrecision::bf16) {
    attention_forward_tc(po, pl, pq, pk, pv, p);  // attention_tc.cu: the tensor cores
    return;
  }
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
  if (matmul_precision() == MatmulPrecision::bf16) {
    attention_backward_tc(pdq, pdk, pdv, pq, pk, pv, pg, pl, pdelta, p);  // attention_tc.cu: the tensor cores
    return;
  }

  void* dkv_args[] = {&pdk, &pdv, &pq, &pk, &pv, &pg, &pl, &pdelta, &p};
  const dim3 kv_grid(blocks_for(p.tk, kTile), static_cast<unsigned>(p.hkv), static_cast<unsigned>(p.batch));
  const std::size_t dkv_smem = 4 * tile_bytes(p.dim) + kWeightTileBytes + 2 * kTile * sizeof(float);
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
