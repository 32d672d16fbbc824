#include "kernels/cpu/few_rows.h"

#include <algorithm>
#include <cstring>

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

using I = std::int64_t;

#if defined(__AVX512F__)
constexpr int kLanes = 16;
#elif defined(__AVX__)
constexpr int kLanes = 8;
#else
constexpr int kLanes = 4;
#endif
typedef float vf __attribute__((vector_size(kLanes * 4)));
typedef std::uint16_t vh __attribute__((vector_size(kLanes * 2)));
typedef std::uint32_t vu __attribute__((vector_size(kLanes * 4)));

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}
inline vf load(const bf16* p) {
  vh h;
  std::memcpy(&h, p, sizeof h);
  const vu u = __builtin_convertvector(h, vu) << 16;
  vf v;
  std::memcpy(&v, &u, sizeof v);
  return v;
}
inline float widen(float v) { return v; }
inline float widen(bf16 v) { return v.to_float(); }

// The sum of a vector's lanes, halving the width each step.
inline float lane_sum(vf v) {
#if defined(__AVX512F__)
  v += __builtin_shufflevector(v, v, 8, 9, 10, 11, 12, 13, 14, 15, 0, 1, 2, 3, 4, 5, 6, 7);
  v += __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3, 12, 13, 14, 15, 8, 9, 10, 11);
#elif defined(__AVX__)
  v += __builtin_shufflevector(v, v, 4, 5, 6, 7, 0, 1, 2, 3);
#endif
  return (v[0] + v[1]) + (v[2] + v[3]);
}

// Rows [i, i + R) of y against rows [j, j + C) of w.
template <int R, int C, class W>
void block(float* y, const float* x, const W* w, I i, I j, I n, I k, float alpha, float beta, bool prefetch_next) {
  vf acc[R][C];
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) acc[r][c] = vf{};
  }
  const I whole = k / kLanes * kLanes;
  for (I l = 0; l < whole; l += kLanes) {
    vf wv[C];
#pragma GCC unroll 8
    for (int c = 0; c < C; ++c) wv[c] = load(w + (j + c) * k + l);
    if (prefetch_next) {  // the next block's rows, from memory while these compute
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) __builtin_prefetch(w + (j + C + c) * k + l);
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      vf xv = load(x + (i + r) * k + l);
      // Held in a register: left alone, GCC folds this load into each of the
      // C multiply-adds below and issues it C times (load-bound).
#if defined(__x86_64__)
      __asm__("" : "+v"(xv));
#endif
#pragma GCC unroll 8
      for (int c = 0; c < C; ++c) acc[r][c] += xv * wv[c];
    }
  }
  for (int r = 0; r < R; ++r) {
    for (int c = 0; c < C; ++c) {
      float s = lane_sum(acc[r][c]);
      for (I l = whole; l < k; ++l) s += x[(i + r) * k + l] * widen(w[(j + c) * k + l]);
      float& out = y[(i + r) * n + j + c];
      out = alpha * s + (beta == 0.0f ? 0.0f : beta * out);
    }
  }
}

// Every row block of y for the w rows [j, j + C).
template <int C, class W>
void column_block(float* y, const float* x, const W* w, I m, I j, I n, I k, float alpha, float beta) {
  // The first row block also prefetches the next block of w's rows, if any.
  I i = 0;
  const bool more = j + 2 * C <= n;
  for (; i + 4 <= m; i += 4) block<4, C>(y, x, w, i, j, n, k, alpha, beta, more && i == 0);
  for (; i + 2 <= m; i += 2) block<2, C>(y, x, w, i, j, n, k, alpha, beta, more && i == 0);
  for (; i < m; ++i) block<1, C>(y, x, w, i, j, n, k, alpha, beta, more && i == 0);
}

template <class W>
void run(float* y, const float* x, const W* w, I m, I n, I k, float alpha, float beta) {
  const I blocks = n / 4;
#pragma omp parallel for schedule(static) if (m * n * k >= kParallelWork)
  for (I b = 0; b < blocks; ++b) column_block<4>(y, x, w, m, b * 4, n, k, alpha, beta);
  for (I j = blocks * 4; j < n; ++j) column_block<1>(y, x, w, m, j, n, k, alpha, beta);
}

}  // namespace

void few_rows_times_transposed(float* y, const float* x, const float* w, I m, I n, I k, float alpha, float beta) {
  run(y, x, w, m, n, k, alpha, beta);
}

void few_rows_times_transposed(float* y, const float* x, const bf16* w, I m, I n, I k, float alpha, float beta) {
  run(y, x, w, m, n, k, alpha, beta);
}

}  // namespace newsrl::kernels::cpu
