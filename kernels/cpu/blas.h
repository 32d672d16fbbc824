// cblas_sgemm for the CPU kernels: OpenBLAS's, or in builds without a BLAS
// the plain loop of plain_gemm.h.
#pragma once

#ifdef NEWSRL_NO_BLAS
#include "kernels/cpu/plain_gemm.h"
#else
#include <cblas.h>
#endif
