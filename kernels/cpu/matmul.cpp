// Matrix products on OpenBLAS's sgemm (or, in builds without a BLAS, a plain loop).
#ifdef NEWSRL_NO_BLAS
#include "kernels/cpu/plain_gemm.h"
#else
#include <cblas.h>
#endif

#include "kernels/cpu/cpu_ops.h"

namespace newsrl::kernels::cpu {

namespace {

void matmul(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, float alpha, float beta) {
  const std::int64_t m = c.dim(-2), n = c.dim(-1);
  const std::int64_t k = trans_a ? a.dim(-2) : a.dim(-1);
  const std::int64_t batch = a.numel() / (a.dim(-1) * a.dim(-2));
  const bool shared_b = b.ndim() == 2;
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* pc = c.data<float>();
  const CBLAS_TRANSPOSE ta = trans_a ? CblasTrans : CblasNoTrans, tb = trans_b ? CblasTrans : CblasNoTrans;
  const int lda = static_cast<int>(a.dim(-1)), ldb = static_cast<int>(b.dim(-1)), ldc = static_cast<int>(n);
  if (m == 0 || n == 0) return;
  if (k == 0) {  // an empty sum: c = beta * c
    for (std::int64_t i = 0; i < c.numel(); ++i) pc[i] = beta == 0.0f ? 0.0f : beta * pc[i];
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
