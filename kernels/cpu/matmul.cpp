// Matrix products on OpenBLAS's sgemm (or, in builds without a BLAS, a plain loop).
#include "kernels/cpu/blas.h"

#include <algorithm>
#include <vector>

#include "kernels/cpu/cpu_ops.h"
#include "kernels/cpu/few_rows.h"

namespace newsrl::kernels::cpu {

namespace {

// At most this many rows of x take the few-rows kernel (few_rows.h).
constexpr std::int64_t kFewRows = 16;

// y = alpha * x wᵀ + beta * y with bf16 w [n, k] and many rows (a prefill):
// blocks of w's rows widened to float32 (a block stays in L2), then sgemm on
// that block's columns of y. The whole of w is never widened at once.
void many_rows_times_transposed_bf16(float* y, const float* x, const bf16* w, std::int64_t m, std::int64_t n,
                                     std::int64_t k, float alpha, float beta) {
  constexpr std::int64_t kBlock = 256;
  thread_local std::vector<float> scratch;  // the calling thread's; the loop below shares it by pointer
  scratch.resize(static_cast<std::size_t>(std::min(kBlock, n) * k));
  float* wide = scratch.data();
  for (std::int64_t j0 = 0; j0 < n; j0 += kBlock) {
    const std::int64_t jn = std::min(kBlock, n - j0);
    const bf16* src = w + j0 * k;
#pragma omp parallel for schedule(static) if (jn * k >= kParallelWork)
    for (std::int64_t i = 0; i < jn * k; ++i) wide[i] = src[i].to_float();
    cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, static_cast<int>(m), static_cast<int>(jn),
                static_cast<int>(k), alpha, x, static_cast<int>(k), wide, static_cast<int>(k), beta, y + j0,
                static_cast<int>(n));
  }
}

void matmul(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, float alpha, float beta) {
  const std::int64_t m = c.dim(-2), n = c.dim(-1);
  const std::int64_t k = trans_a ? a.dim(-2) : a.dim(-1);
  const bool shared_b = b.ndim() == 2;
  const float* pa = a.data<float>();
  float* pc = c.data<float>();
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  const int lda = static_cast<int>(a.dim(-1)), ldb = static_cast<int>(b.dim(-1)), ldc = static_cast<int>(n);
  if (m == 0 || n == 0) return;
  if (k == 0) {  // an empty sum: c = beta * c
    for (std::int64_t i = 0; i < c.numel(); ++i) pc[i] = beta == 0.0f ? 0.0f : beta * pc[i];
    return;
  }
  const std::int64_t batch = c.numel() / (m * n);  // m, n and k are all non-zero here
  if (b.dtype() == DType::bf16) {  // 2-D and transposed (checked by the entry point)
    if (batch * m <= kFewRows) {
      few_rows_times_transposed(pc, pa, b.data<bf16>(), batch * m, n, k, alpha, beta);
    } else {
      many_rows_times_transposed_bf16(pc, pa, b.data<bf16>(), batch * m, n, k, alpha, beta);
    }
    return;
  }
  const float* pb = b.data<float>();
  if (shared_b && !trans_a && trans_b && batch * m <= kFewRows) {
    few_rows_times_transposed(pc, pa, pb, batch * m, n, k, alpha, beta);
    return;
  }
  if (shared_b && !trans_a) {
    // A batch of row-major matrices against one b is one tall product.
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(batch * m), static_cast<int>(n), static_cast<int>(k), alpha, pa,
                lda, pb, ldb, beta, pc, ldc);
    return;
  }
  const std::int64_t sa = a.dim(-1) * a.dim(-2), sb = shared_b ? 0 : b.dim(-1) * b.dim(-2), sc = m * n;
  for (std::int64_t i = 0; i < batch; ++i) {
    cblas_sgemm(CblasRowMajor, ta, tb, static_cast<int>(m), static_cast<int>(n), static_cast<int>(k), alpha,
                pa + i * sa, lda, pb + i * sb, ldb, beta, pc + i * sc, ldc);
  }
}

}  // namespace

void register_matmul(OpTable& t) { t.matmul = matmul; }

}  // namespace newsrl::kernels::cpu
