// A stand-in for cblas_sgemm (row-major only) for builds without a BLAS: GPU
// machines where the CPU kernels only serve as the CUDA kernels' reference.
// Correct and simple, an order of magnitude slower than OpenBLAS.
#pragma once

#include <cstdint>

enum CBLAS_ORDER { CblasRowMajor = 101 };
enum CBLAS_TRANSPOSE { CblasNoTrans = 111, CblasTrans = 112 };

inline void cblas_sgemm(CBLAS_ORDER, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int m, int n, int k, float alpha,
                        const float* a, int lda, const float* b, int ldb, float beta, float* c, int ldc) {
#pragma omp parallel for schedule(static)
  for (int i = 0; i < m; ++i) {
    for (int j = 0; j < n; ++j) {
      float s = 0.0f;
      for (int l = 0; l < k; ++l) {
        const float x =
            ta == CblasTrans ? a[static_cast<std::int64_t>(l) * lda + i] : a[static_cast<std::int64_t>(i) * lda + l];
        const float y =
            tb == CblasTrans ? b[static_cast<std::int64_t>(j) * ldb + l] : b[static_cast<std::int64_t>(l) * ldb + j];
        s += x * y;
      }
      float& out = c[static_cast<std::int64_t>(i) * ldc + j];
      out = alpha * s + (beta == 0.0f ? 0.0f : beta * out);
    }
  }
}
