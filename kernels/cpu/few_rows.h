// y = alpha * x wᵀ + beta * y for a handful of rows x [m, k] (m ≤ 16) against
// a wide w [n, k] in float32 or bfloat16: every projection while decoding.
// sgemm packs all of w on every call, which at so few rows costs as much as
// the product; here blocks of R rows of x meet blocks of C rows of w in
// R x C vector accumulators (GCC vector extensions: AVX-512, AVX or SSE
// lanes, whichever the build targets), each loaded vector of w serving R
// rows, and each sum is reduced across lanes once at the end. bfloat16 rows
// are widened to float32 as they are loaded, so decoding reads half the bytes.
#pragma once

#include <cstdint>

#include "kernels/dtype.h"

namespace newsrl::kernels::cpu {

void few_rows_times_transposed(float* y, const float* x, const float* w, std::int64_t m, std::int64_t n,
                               std::int64_t k, float alpha, float beta);
void few_rows_times_transposed(float* y, const float* x, const bf16* w, std::int64_t m, std::int64_t n,
                               std::int64_t k, float alpha, float beta);

}  // namespace newsrl::kernels::cpu
