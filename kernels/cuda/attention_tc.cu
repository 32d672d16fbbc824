// Grouped-query attention on the tensor cores: the products QKᵀ, PV, dO Vᵀ,
// Pᵀ dO, dSᵀ Q and dS K in bfloat16 with float32 accumulation (WMMA 16x16x16
// fragments), the softmax, its statistics and every input and output in
// float32. attention.cu takes this path when the process's matmul precision
// is bf16 (kernels::set_matmul_precision) and a call has more than eight
// queries; the scheme is the float32 kernels' (FlashAttention's): 64 x 64
// tiles, the softmax online, nothing of size Tq x Tk in global memory.
//   forward:  one block per (query tile, query head, batch);
//   backward: one block per (key tile, query head, batch) for that head's
//             share of dk and dv, looping over the query tiles that see its
//             keys, then a kernel that adds the shares of each kv head's
//             query heads in order; one block per (query tile, query head,
//             batch) for dq. Every element has one writer (no atomics).
// A block is four warps; warp w owns rows 16 w .. 16 w + 15 of a 64-row tile.
// Tiles of q, k, v and dout are rounded to bf16 as they are loaded into
// shared memory, head_dim zero-padded to a multiple of 16. The forward keeps
// its output rows in shared memory in float32, so that the online softmax can
// rescale them between tiles (a fragment's element-to-row map is opaque).
#include <cuda_bf16.h>
#include <mma.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>

#include "kernels/cuda/attention_dims.cuh"
#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

namespace {

using bf16_t = __nv_bfloat16;
namespace wmma = nvcuda::wmma;
using FragA = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16_t, wmma::row_major>;
using FragATransposed = wmma::fragment<wmma::matrix_a, 16, 16, 16, bf16_t, wmma::col_major>;
using FragB = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16_t, wmma::row_major>;
using FragBTransposed = wmma::fragment<wmma::matrix_b, 16, 16, 16, bf16_t, wmma::col_major>;
using FragC = wmma::fragment<wmma::accumulator, 16, 16, 16, float>;

constexpr int kTile = 64;
constexpr int kWarps = 4;
constexpr int kThreads = 32 * kWarps;
constexpr int kLdScore = kTile + 4;  // float [64, 64] tiles (scores, dP)
constexpr int kLdProb = kTile + 8;   // bf16 [64, 64] tiles (P, dS)

__host__ __device__ inline int pad16(int dim) { return (dim + 15) / 16 * 16; }
__host__ __device__ inline int ld_half(int dim) { return pad16(dim) + 8; }   // bf16 [64, D] tiles
__host__ __device__ inline int ld_float(int dim) { return pad16(dim) + 4; }  // float [64, D] tiles

// Rows [row0, row0 + 64) of one head of a [B, T, H, D] tensor (rows
// `stride` floats apart) into a bf16 tile; rows past `rows` and columns past
// dim are zero.
__device__ void load_tile(bf16_t* dst, const float* src, long long stride, int row0, int rows, int dim) {
  const int dp = pad16(dim), ld = ld_half(dim);
  if (dim % 4 == 0 && stride % 4 == 0 && reinterpret_cast<std::uintptr_t>(src) % 16 == 0) {
    // Four floats a load (every row starts 16-byte aligned), two bf16 pairs a store.
    const int quads = dp / 4;
    for (int e = threadIdx.x; e < kTile * quads; e += kThreads) {
      const int r = e / quads, d = 4 * (e % quads);
      const int row = row0 + r;
      float4 x = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
      if (row < rows && d < dim) x = *reinterpret_cast<const float4*>(src + static_cast<long long>(row) * stride + d);
      __nv_bfloat162* out = reinterpret_cast<__nv_bfloat162*>(dst + r * ld + d);
      out[0] = __floats2bfloat162_rn(x.x, x.y);
      out[1] = __floats2bfloat162_rn(x.z, x.w);
    }
    return;
  }
  for (int e = threadIdx.x; e < kTile * dp; e += kThreads) {
    const int r = e / dp, d = e % dp;
    const int row = row0 + r;
    const float x = row < rows && d < dim ? src[static_cast<long long>(row) * stride + d] : 0.0f;
    dst[r * ld + d] = __float2bfloat16_rn(x);
  }
}

// out[16, 64] (row stride kLdScore) = a[16 rows of this warp, D] bᵀ, b a [64, D] tile.
__device__ void rows_times_tile_transposed(float* out, const bf16_t* a, const bf16_t* b, int dim) {
  const int dp = pad16(dim), ld = ld_half(dim);
  for (int n = 0; n < kTile / 16; ++n) {
    FragC c;
    wmma::fill_fragment(c, 0.0f);
    for (int f = 0; f < dp / 16; ++f) {
      FragA fa;
      FragBTransposed fb;
      wmma::load_matrix_sync(fa, a + f * 16, ld);
      wmma::load_matrix_sync(fb, b + n * 16 * ld + f * 16, ld);
      wmma::mma_sync(c, fa, fb, c);
    }
    wmma::store_matrix_sync(out + n * 16, c, kLdScore, wmma::mem_row_major);
  }
}

// Block layout of shared memory, in the order the kernels carve it.
struct Smem {
  static std::size_t half_tile(int dim) { return sizeof(bf16_t) * kTile * static_cast<std::size_t>(ld_half(dim)); }
  static constexpr std::size_t kScoreTile = sizeof(float) * kTile * kLdScore;
  static constexpr std::size_t kProbTile = sizeof(bf16_t) * kTile * kLdProb;
  static std::size_t float_tile(int dim) { return sizeof(float) * kTile * static_cast<std::size_t>(ld_float(dim)); }
};

// ---- forward -----------------------------------------------------------------

__global__ void __launch_bounds__(kThreads) forward_kernel(float* out, float* lse, const float* q, const float* k,
                                                           const float* v, AttentionDims p) {
  extern __shared__ __align__(128) unsigned char smem[];
  const int ldh = ld_half(p.dim), ldo = ld_float(p.dim), dp = pad16(p.dim);
  bf16_t* qs = reinterpret_cast<bf16_t*>(smem);
  bf16_t* ks = qs + kTile * ldh;
  bf16_t* vs = ks + kTile * ldh;
  float* ss = reinterpret_cast<float*>(vs + kTile * ldh);  // [64, kLdScore]
  bf16_t* ps = reinterpret_cast<bf16_t*>(ss + kTile * kLdScore);  // [64, kLdProb]
  float* os = reinterpret_cast<float*>(ps + kTile * kLdProb);  // [64, ldo]

  const int t0 = blockIdx.x * kTile, h = blockIdx.y, b = blockIdx.z;
  const int hk = h / (p.hq / p.hkv);
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32, r0 = 16 * warp;
  const long long q_stride = static_cast<long long>(p.hq) * p.dim, k_stride = static_cast<long long>(p.hkv) * p.dim;
  const float* qb = q + static_cast<long long>(b) * p.tq * q_stride + static_cast<long long>(h) * p.dim;
  const float* kb = k + static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;
  const float* vb = v + static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;

  load_tile(qs, qb, q_stride, t0, p.tq, p.dim);
  for (int e = threadIdx.x; e < kTile * ldo; e += kThreads) os[e] = 0.0f;
  // Lane pairs share a row: lane / 2 is the row within the warp's 16, lane % 2 the half of the 64 keys.
  const int row = r0 + lane / 2, half = lane % 2;
  const long long limit = visible_limit(p, t0 + row);
  float m = -INFINITY, l = 0.0f;
  const long long key_end = visible_limit(p, min(t0 + kTile, p.tq) - 1);
  for (int s0 = 0; s0 < key_end; s0 += kTile) {
    __syncthreads();  // the previous tiles of K and V are no longer read (and Q and O are ready)
    load_tile(ks, kb, k_stride, s0, p.tk, p.dim);
    load_tile(vs, vb, k_stride, s0, p.tk, p.dim);
    __syncthreads();
    rows_times_tile_transposed(ss + r0 * kLdScore, qs + r0 * ldh, ks, p.dim);
    __syncwarp();
    float* srow = ss + row * kLdScore + 32 * half;
    float mx = -INFINITY;
    for (int j = 0; j < 32; ++j) {
      const float x = s0 + 32 * half + j < limit ? srow[j] * p.scale : -INFINITY;
      srow[j] = x;
      mx = fmaxf(mx, x);
    }
    const float m_new = fmaxf(m, fmaxf(mx, __shfl_xor_sync(0xffffffffu, mx, 1)));  // finite: key 0 is in tile 0
    const float rescale = expf(m - m_new);  // 0 on the first tile (m = -inf)
    float sum = 0.0f;
    bf16_t* prow = ps + row * kLdProb + 32 * half;
    for (int j = 0; j < 32; ++j) {
      const float e = expf(srow[j] - m_new);  // 0 where masked
      prow[j] = __float2bfloat16_rn(e);
      sum += e;
    }
    l = l * rescale + sum + __shfl_xor_sync(0xffffffffu, sum, 1);
    m = m_new;
    for (int d = half; d < dp; d += 2) os[row * ldo + d] *= rescale;
    __syncwarp();
    // O rows of this warp += P V.
    for (int f = 0; f < dp / 16; ++f) {
      FragC c;
      wmma::load_matrix_sync(c, os + r0 * ldo + f * 16, ldo, wmma::mem_row_major);
      for (int kk = 0; kk < kTile / 16; ++kk) {
        FragA fa;
        FragB fb;
        wmma::load_matrix_sync(fa, ps + r0 * kLdProb + kk * 16, kLdProb);
        wmma::load_matrix_sync(fb, vs + kk * 16 * ldh + f * 16, ldh);
        wmma::mma_sync(c, fa, fb, c);
      }
      wmma::store_matrix_sync(os + r0 * ldo + f * 16, c, ldo, wmma::mem_row_major);
    }
    __syncwarp();
  }
  const int t = t0 + row;
  if (t >= p.tq) return;
  const float inv = 1.0f / l;
  float* orow = out + static_cast<long long>(b) * p.tq * q_stride + static_cast<long long>(t) * q_stride +
                static_cast<long long>(h) * p.dim;
  for (int d = half; d < p.dim; d += 2) orow[d] = os[row * ldo + d] * inv;
  if (half == 0) lse[(static_cast<long long>(b) * p.hq + h) * p.tq + t] = m + logf(l);
}

// ---- backward ----------------------------------------------------------------

// The scores' gradient for this warp's 16 rows of a query tile against a key
// tile: P = exp(scale S - lse) where visible, dS = P (dP - delta), written as
// bf16 (and P too when `ps` is given). ss holds S, dps holds dP = dO Vᵀ.
__device__ void score_gradients(bf16_t* ps, bf16_t* dss, const float* ss, const float* dps, const float* lse_s,
                                const float* delta_s, int t0, int s0, const AttentionDims& p) {
  const int warp = threadIdx.x / 32, lane = threadIdx.x % 32;
  const int row = 16 * warp + lane / 2, half = lane % 2;
  const int t = t0 + row;
  const long long limit = t < p.tq ? visible_limit(p, t) : 0;  // rows past the queries see nothing
  for (int j = 0; j < 32; ++j) {
    const int col = 32 * half + j;
    const float prob = s0 + col < limit ? expf(ss[row * kLdScore + col] * p.scale - lse_s[row]) : 0.0f;
    const float ds = prob * (dps[row * kLdScore + col] - delta_s[row]);
    if (ps != nullptr) ps[row * kLdProb + col] = __float2bfloat16_rn(prob);
    dss[row * kLdProb + col] = __float2bfloat16_rn(ds);
  }
}

// lse and delta of rows [t0, t0 + 64) of one head into shared memory (0 past the queries).
__device__ void load_row_stats(float* lse_s, float* delta_s, const float* lse, const float* delta, long long base,
                               int t0, int tq) {
  for (int r = threadIdx.x; r < kTile; r += kThreads) {
    const int t = t0 + r;
    lse_s[r] = t < tq ? lse[base + t] : 0.0f;
    delta_s[r] = t < tq ? delta[base + t] : 0.0f;
  }
}

// Adds (or, with `add` false, writes) scale * a [64, D] float tile (rows
// 16 w.. of each warp's fragments, staged in shared memory) into rows
// [row0, row0 + 64) of one head of a [B, T, H, D] tensor.
template <int kFrags>
__device__ void add_fragments(float* dst, long long stride, int row0, int rows, float* staging, FragC (&acc)[kFrags],
                              float scale, bool add, const AttentionDims& p) {
  const int warp = threadIdx.x / 32, ldo = ld_float(p.dim), dp = pad16(p.dim);
#pragma unroll
  for (int f = 0; f < kFrags; ++f) {
    if (f * 16 < dp) wmma::store_matrix_sync(staging + 16 * warp * ldo + f * 16, acc[f], ldo, wmma::mem_row_major);
  }
  __syncthreads();
  for (int e = threadIdx.x; e < kTile * p.dim; e += kThreads) {
    const int r = e / p.dim, d = e % p.dim;
    if (row0 + r >= rows) continue;
    float& x = dst[static_cast<long long>(row0 + r) * stride + d];
    x = add ? x + scale * staging[r * ldo + d] : scale * staging[r * ldo + d];
  }
  __syncthreads();
}

// Shared memory of the two backward kernels, carved in one order: bf16 tiles
// of K, V, Q and dout, float tiles of the scores and of dP, bf16 tiles of dS
// (and of P, for dk and dv), then lse and delta of the query rows.
struct BackwardTiles {
  bf16_t *ks, *vs, *qs, *dos;
  float *ss, *dps;
  bf16_t *dss, *ps;
  float *lse_s, *delta_s;

  __device__ BackwardTiles(unsigned char* smem, int dim, bool with_p) {
    const int ldh = ld_half(dim);
    ks = reinterpret_cast<bf16_t*>(smem);
    vs = ks + kTile * ldh;
    qs = vs + kTile * ldh;
    dos = qs + kTile * ldh;
    ss = reinterpret_cast<float*>(dos + kTile * ldh);
    dps = ss + kTile * kLdScore;
    dss = reinterpret_cast<bf16_t*>(dps + kTile * kLdScore);
    ps = with_p ? dss + kTile * kLdProb : nullptr;
    lse_s = reinterpret_cast<float*>(dss + (with_p ? 2 : 1) * kTile * kLdProb);
    delta_s = lse_s + kTile;
  }

  static std::size_t bytes(int dim, bool with_p) {
    return 4 * Smem::half_tile(dim) + 2 * Smem::kScoreTile + (with_p ? 2 : 1) * Smem::kProbTile +
           2 * sizeof(float) * kTile;
  }
};

// One block per (key tile, query head, batch): that head's share of dk and
// dv for the tile's keys, written to dk_part and dv_part [B, Tk, Hq, D]
// (reduce_group_kernel adds the group's shares into dk and dv): a block per
// query head rather than per kv head gives Hq / Hkv times as many blocks.
template <int kFrags>
__global__ void __launch_bounds__(kThreads)
    dkv_kernel(float* dk_part, float* dv_part, const float* q, const float* k, const float* v, const float* dout,
               const float* lse, const float* delta, AttentionDims p) {
  extern __shared__ __align__(128) unsigned char smem[];
  const int ldh = ld_half(p.dim), dp = pad16(p.dim);
  const BackwardTiles tiles(smem, p.dim, true);
  bf16_t *ks = tiles.ks, *vs = tiles.vs, *qs = tiles.qs, *dos = tiles.dos, *ps = tiles.ps, *dss = tiles.dss;
  float *ss = tiles.ss, *dps = tiles.dps, *lse_s = tiles.lse_s, *delta_s = tiles.delta_s;

  const int s0 = blockIdx.x * kTile, h = blockIdx.y, b = blockIdx.z;
  const int hk = h / (p.hq / p.hkv), warp = threadIdx.x / 32, r0 = 16 * warp;
  const long long q_stride = static_cast<long long>(p.hq) * p.dim, k_stride = static_cast<long long>(p.hkv) * p.dim;
  const long long k_off = static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;
  load_tile(ks, k + k_off, k_stride, s0, p.tk, p.dim);
  load_tile(vs, v + k_off, k_stride, s0, p.tk, p.dim);

  FragC dk_acc[kFrags], dv_acc[kFrags];
#pragma unroll
  for (int f = 0; f < kFrags; ++f) {
    wmma::fill_fragment(dk_acc[f], 0.0f);
    wmma::fill_fragment(dv_acc[f], 0.0f);
  }
  // The first query that sees key s0 is s0 - q_offset (causal); earlier tiles see none of these keys.
  long long first = p.causal ? s0 - p.q_offset : 0;
  first = first < 0 ? 0 : first;
  const int t_first = static_cast<int>(first / kTile) * kTile;
  {
    const long long q_off = static_cast<long long>(b) * p.tq * q_stride + static_cast<long long>(h) * p.dim;
    const long long stat_base = (static_cast<long long>(b) * p.hq + h) * p.tq;
    for (int t0 = t_first; t0 < p.tq; t0 += kTile) {
      __syncthreads();  // the previous tile's Q, dO, P and dS are no longer read
      load_tile(qs, q + q_off, q_stride, t0, p.tq, p.dim);
      load_tile(dos, dout + q_off, q_stride, t0, p.tq, p.dim);
      load_row_stats(lse_s, delta_s, lse, delta, stat_base, t0, p.tq);
      __syncthreads();
      // This warp's 16 query rows: S = Q Kᵀ, dP = dO Vᵀ, then P and dS.
      rows_times_tile_transposed(ss + r0 * kLdScore, qs + r0 * ldh, ks, p.dim);
      rows_times_tile_transposed(dps + r0 * kLdScore, dos + r0 * ldh, vs, p.dim);
      __syncwarp();
      score_gradients(ps, dss, ss, dps, lse_s, delta_s, t0, s0, p);
      __syncthreads();  // every row of P and dS is written
      // This warp's 16 key rows: dV += Pᵀ dO, dK += dSᵀ Q (the scale comes at the end).
#pragma unroll
      for (int f = 0; f < kFrags; ++f) {
        if (f * 16 >= dp) continue;
        for (int kk = 0; kk < kTile / 16; ++kk) {
          FragATransposed fa;
          FragB fb;
          wmma::load_matrix_sync(fa, ps + kk * 16 * kLdProb + r0, kLdProb);
          wmma::load_matrix_sync(fb, dos + kk * 16 * ldh + f * 16, ldh);
          wmma::mma_sync(dv_acc[f], fa, fb, dv_acc[f]);
          wmma::load_matrix_sync(fa, dss + kk * 16 * kLdProb + r0, kLdProb);
          wmma::load_matrix_sync(fb, qs + kk * 16 * ldh + f * 16, ldh);
          wmma::mma_sync(dk_acc[f], fa, fb, dk_acc[f]);
        }
      }
    }
  }
  __syncthreads();
  // ss and dps together hold a float [64, D] tile (64 x 132 floats <= 2 x 64 x 68).
  const long long part_off = static_cast<long long>(b) * p.tk * q_stride + static_cast<long long>(h) * p.dim;
  add_fragments(dv_part + part_off, q_stride, s0, p.tk, ss, dv_acc, 1.0f, false, p);
  add_fragments(dk_part + part_off, q_stride, s0, p.tk, ss, dk_acc, p.scale, false, p);
}

// grad[b, s, hk, d] += the sum over the group's query heads of part[b, s, h, d],
// in head order.
__global__ void reduce_group_kernel(float* grad, const float* part, long long n, int hkv, int group, int dim) {
  for (long long i = blockIdx.x * static_cast<long long>(blockDim.x) + threadIdx.x; i < n;
       i += static_cast<long long>(gridDim.x) * blockDim.x) {
    const long long d = i % dim, row = i / dim;  // row = (b * Tk + s) * hkv + hk
    const long long hk = row % hkv, token = row / hkv;
    const float* src = part + (token * hkv * group + hk * group) * dim + d;
    float sum = 0.0f;
    for (int g = 0; g < group; ++g) sum += src[static_cast<long long>(g) * dim];
    grad[i] += sum;
  }
}

template <int kFrags>
__global__ void __launch_bounds__(kThreads)
    dq_kernel(float* dq, const float* q, const float* k, const float* v, const float* dout, const float* lse,
              const float* delta, AttentionDims p) {
  extern __shared__ __align__(128) unsigned char smem[];
  const int ldh = ld_half(p.dim), dp = pad16(p.dim);
  const BackwardTiles tiles(smem, p.dim, false);
  bf16_t *ks = tiles.ks, *vs = tiles.vs, *qs = tiles.qs, *dos = tiles.dos, *dss = tiles.dss;
  float *ss = tiles.ss, *dps = tiles.dps, *lse_s = tiles.lse_s, *delta_s = tiles.delta_s;

  const int t0 = blockIdx.x * kTile, h = blockIdx.y, b = blockIdx.z;
  const int hk = h / (p.hq / p.hkv), warp = threadIdx.x / 32, r0 = 16 * warp;
  const long long q_stride = static_cast<long long>(p.hq) * p.dim, k_stride = static_cast<long long>(p.hkv) * p.dim;
  const long long q_off = static_cast<long long>(b) * p.tq * q_stride + static_cast<long long>(h) * p.dim;
  const long long k_off = static_cast<long long>(b) * p.tk * k_stride + static_cast<long long>(hk) * p.dim;
  load_tile(qs, q + q_off, q_stride, t0, p.tq, p.dim);
  load_tile(dos, dout + q_off, q_stride, t0, p.tq, p.dim);
  load_row_stats(lse_s, delta_s, lse, delta, (static_cast<long long>(b) * p.hq + h) * p.tq, t0, p.tq);

  FragC dq_acc[kFrags];
#pragma unroll
  for (int f = 0; f < kFrags; ++f) wmma::fill_fragment(dq_acc[f], 0.0f);
  const long long key_end = visible_limit(p, min(t0 + kTile, p.tq) - 1);
  for (int s0 = 0; s0 < key_end; s0 += kTile) {
    __syncthreads();  // the previous K and V are no longer read (and Q, dO and the stats are ready)
    load_tile(ks, k + k_off, k_stride, s0, p.tk, p.dim);
    load_tile(vs, v + k_off, k_stride, s0, p.tk, p.dim);
    __syncthreads();
    rows_times_tile_transposed(ss + r0 * kLdScore, qs + r0 * ldh, ks, p.dim);
    rows_times_tile_transposed(dps + r0 * kLdScore, dos + r0 * ldh, vs, p.dim);
    __syncwarp();
    score_gradients(nullptr, dss, ss, dps, lse_s, delta_s, t0, s0, p);
    __syncwarp();
    // This warp's 16 query rows: dQ += dS K (the scale comes at the end).
#pragma unroll
    for (int f = 0; f < kFrags; ++f) {
      if (f * 16 >= dp) continue;
      for (int kk = 0; kk < kTile / 16; ++kk) {
        FragA fa;
        FragB fb;
        wmma::load_matrix_sync(fa, dss + r0 * kLdProb + kk * 16, kLdProb);
        wmma::load_matrix_sync(fb, ks + kk * 16 * ldh + f * 16, ldh);
        wmma::mma_sync(dq_acc[f], fa, fb, dq_acc[f]);
      }
    }
  }
  __syncthreads();
  add_fragments(dq + q_off, q_stride, t0, p.tq, ss, dq_acc, p.scale, true, p);
}

template <class Kernel>
void launch(Kernel kernel, dim3 grid, std::size_t smem, void** args) {
  NEWSRL_CUDA_CHECK(cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel),
                                         cudaFuncAttributeMaxDynamicSharedMemorySize, static_cast<int>(smem)));
  NEWSRL_CUDA_CHECK(cudaLaunchKernel(reinterpret_cast<const void*>(kernel), grid, dim3(kThreads), args, smem, stream()));
}

}  // namespace

void attention_forward_tc(float* out, float* lse, const float* q, const float* k, const float* v,
                          const AttentionDims& dims) {
  AttentionDims p = dims;
  void* args[] = {&out, &lse, &q, &k, &v, &p};
  const dim3 grid(blocks_for(p.tq, kTile), static_cast<unsigned>(p.hq), static_cast<unsigned>(p.batch));
  const std::size_t smem =
      3 * Smem::half_tile(p.dim) + Smem::kScoreTile + Smem::kProbTile + Smem::float_tile(p.dim);
  launch(forward_kernel, grid, smem, args);
}

void attention_backward_tc(float* dq, float* dk, float* dv, const float* q, const float* k, const float* v,
                           const float* dout, const float* lse, const float* delta, const AttentionDims& dims) {
  AttentionDims p = dims;
  const std::int64_t part_size = static_cast<std::int64_t>(p.batch) * p.tk * p.hq * p.dim;
  Tensor dk_part = Tensor::empty({part_size}, DType::f32, Device::cuda);
  Tensor dv_part = Tensor::empty({part_size}, DType::f32, Device::cuda);
  float* pdk = dk_part.data<float>();
  float* pdv = dv_part.data<float>();
  void* dkv_args[] = {&pdk, &pdv, &q, &k, &v, &dout, &lse, &delta, &p};
  const dim3 kv_grid(blocks_for(p.tk, kTile), static_cast<unsigned>(p.hq), static_cast<unsigned>(p.batch));
  const std::size_t dkv_smem = BackwardTiles::bytes(p.dim, true);
  void* dq_args[] = {&dq, &q, &k, &v, &dout, &lse, &delta, &p};
  const dim3 q_grid(blocks_for(p.tq, kTile), static_cast<unsigned>(p.hq), static_cast<unsigned>(p.batch));
  const std::size_t dq_smem = BackwardTiles::bytes(p.dim, false);
  if (pad16(p.dim) <= 64) {
    launch(dkv_kernel<4>, kv_grid, dkv_smem, dkv_args);
    launch(dq_kernel<4>, q_grid, dq_smem, dq_args);
  } else {
    launch(dkv_kernel<8>, kv_grid, dkv_smem, dkv_args);
    launch(dq_kernel<8>, q_grid, dq_smem, dq_args);
  }
  const long long n = static_cast<long long>(p.batch) * p.tk * p.hkv * p.dim;
  const unsigned blocks = static_cast<unsigned>(std::min<long long>((n + 255) / 256, 8192));
  if (n == 0) return;
  reduce_group_kernel<<<blocks, 256, 0, stream()>>>(dk, pdk, n, p.hkv, p.hq / p.hkv, p.dim);
  reduce_group_kernel<<<blocks, 256, 0, stream()>>>(dv, pdv, n, p.hkv, p.hq / p.hkv, p.dim);
  NEWSRL_CUDA_CHECK(cudaGetLastError());
  // dk_part and dv_part go back to the cache; their next user is ordered after these kernels.
}

}  // namespace newsrl::kernels::cuda
