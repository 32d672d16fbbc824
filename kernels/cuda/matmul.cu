// matmul on cuBLASLt. float32 GEMMs compute in float32 (CUBLAS_COMPUTE_32F,
// not TF32) so that they match the CPU table to float32 tolerance, unless
// set_matmul_precision (kernels/ops.h) asks for the tensor cores: tf32 or bf16
// rounding of the inputs inside cuBLASLt (CUBLAS_COMPUTE_32F_FAST_TF32 /
// _FAST_16BF), float32 accumulation and output all the same; bfloat16
// weights (y = x wᵀ) run as a bf16 x bf16 GEMM with float32 accumulation and
// output, after a is rounded to bfloat16 once.
//
// cuBLASLt is column-major. A row-major [r, c] matrix is the column-major
// [c, r] matrix, its transpose, so the row-major c = op(a) op(b) is computed
// as the column-major cᵀ = op(b)ᵀ op(a)ᵀ: b's buffer is cuBLASLt's "A" and
// a's buffer its "B", with the transposes unchanged.
#include <cublasLt.h>
#include <cuda_bf16.h>

#include <cstdio>
#include <mutex>
#include <string>
#include <unordered_map>

#include "kernels/cuda/cuda_ops.h"

namespace newsrl::kernels::cuda {

namespace {

void check_cublas(cublasStatus_t rc, const char* expr, const char* file, int line) {
  if (rc == CUBLAS_STATUS_SUCCESS) return;
  throw std::runtime_error(std::string(file) + ":" + std::to_string(line) + ": " + expr + ": cuBLAS status " +
                           std::to_string(static_cast<int>(rc)));
}
#define NEWSRL_CUBLAS_CHECK(expr) check_cublas((expr), #expr, __FILE__, __LINE__)

constexpr std::size_t kWorkspaceBytes = std::size_t{32} << 20;  // what cuBLASLt asks for on Hopper

// The handle and the workspace, made once per process.
struct Lt {
  cublasLtHandle_t handle = nullptr;
  void* workspace = nullptr;
  Lt() {
    NEWSRL_CUBLAS_CHECK(cublasLtCreate(&handle));
    NEWSRL_CUDA_CHECK(cudaMalloc(&workspace, kWorkspaceBytes));
  }
};
Lt& lt() {
  static Lt* state = new Lt();  // never destroyed: tensors may outlive static destruction
  return *state;
}

// One GEMM in cuBLASLt's column-major terms: d = alpha * op(A) op(B) + beta * d,
// op(A) m x k, op(B) k x n, d m x n (leading dimension ldd), over `batch`
// matrices `stride_*` elements apart.
struct Gemm {
  cudaDataType_t ab_type = CUDA_R_32F;
  cublasComputeType_t compute = CUBLAS_COMPUTE_32F;
  bool trans_a = false, trans_b = false;
  std::int64_t m = 0, n = 0, k = 0;
  std::int64_t lda = 0, ldb = 0, ldd = 0;
  std::int64_t batch = 1, stride_a = 0, stride_b = 0, stride_d = 0;
  const void* a = nullptr;
  const void* b = nullptr;
  float* d = nullptr;
};

// The largest power of two (up to 256) that divides the address: cuBLASLt's
// kernels may assume 16-byte alignment, which a view into a tensor lacks.
std::uint32_t alignment(const void* p) {
  const auto address = reinterpret_cast<std::uintptr_t>(p);
  std::uint32_t a = 256;
  while (a > 1 && address % a != 0) a /= 2;
  return a;
}

// The descriptors and the algorithm cuBLASLt's heuristic picked, for one
// shape; built once and kept, since a training loop repeats its shapes.
struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, d = nullptr;
  cublasLtMatmulAlgo_t algo{};
};

cublasLtMatrixLayout_t layout(cudaDataType_t type, std::int64_t rows, std::int64_t cols, std::int64_t ld,
                              std::int64_t batch, std::int64_t stride) {
  cublasLtMatrixLayout_t l = nullptr;
  NEWSRL_CUBLAS_CHECK(cublasLtMatrixLayoutCreate(&l, type, static_cast<std::uint64_t>(rows),
                                                 static_cast<std::uint64_t>(cols), ld));
  if (batch > 1) {
    const int count = static_cast<int>(batch);
    NEWSRL_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &count, sizeof(count)));
    NEWSRL_CUBLAS_CHECK(
        cublasLtMatrixLayoutSetAttribute(l, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
  }
  return l;
}

const Plan& plan_for(const Gemm& g) {
  const std::uint32_t align_a = alignment(g.a), align_b = alignment(g.b), align_d = alignment(g.d);
  char key_text[320];
  std::snprintf(key_text, sizeof(key_text), "%d %d %d%d %lld %lld %lld %lld %lld %lld %lld %lld %lld %lld %u %u %u",
                static_cast<int>(g.ab_type), static_cast<int>(g.compute), g.trans_a, g.trans_b, static_cast<long long>(g.m),
                static_cast<long long>(g.n), static_cast<long long>(g.k), static_cast<long long>(g.lda),
                static_cast<long long>(g.ldb), static_cast<long long>(g.ldd), static_cast<long long>(g.batch),
                static_cast<long long>(g.stride_a), static_cast<long long>(g.stride_b),
                static_cast<long long>(g.stride_d), align_a, align_b, align_d);
  static std::mutex mu;
  static auto* plans = new std::unordered_map<std::string, Plan>();
  std::lock_guard lock(mu);
  if (auto it = plans->find(key_text); it != plans->end()) return it->second;

  Plan p;
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulDescCreate(&p.op, g.compute, CUDA_R_32F));
  const cublasOperation_t ta = g.trans_a ? CUBLAS_OP_T : CUBLAS_OP_N, tb = g.trans_b ? CUBLAS_OP_T : CUBLAS_OP_N;
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSA, &ta, sizeof(ta)));
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulDescSetAttribute(p.op, CUBLASLT_MATMUL_DESC_TRANSB, &tb, sizeof(tb)));
  // Stored shapes: op(A) is m x k, so A is k x m when transposed.
  p.a = layout(g.ab_type, g.trans_a ? g.k : g.m, g.trans_a ? g.m : g.k, g.lda, g.batch, g.stride_a);
  p.b = layout(g.ab_type, g.trans_b ? g.n : g.k, g.trans_b ? g.k : g.n, g.ldb, g.batch, g.stride_b);
  p.d = layout(CUDA_R_32F, g.m, g.n, g.ldd, g.batch, g.stride_d);

  cublasLtMatmulPreference_t pref = nullptr;
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  const std::uint64_t workspace = kWorkspaceBytes;
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                                           &workspace, sizeof(workspace)));
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES,
                                                           &align_a, sizeof(align_a)));
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES,
                                                           &align_b, sizeof(align_b)));
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES,
                                                           &align_d, sizeof(align_d)));
  NEWSRL_CUBLAS_CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES,
                                                           &align_d, sizeof(align_d)));
  cublasLtMatmulHeuristicResult_t found{};
  int count = 0;
  const cublasStatus_t rc =
      cublasLtMatmulAlgoGetHeuristic(lt().handle, p.op, p.a, p.b, p.d, p.d, pref, 1, &found, &count);
  cublasLtMatmulPreferenceDestroy(pref);
  if (rc != CUBLAS_STATUS_SUCCESS || count == 0) {
    throw std::runtime_error("matmul: cuBLASLt has no algorithm for " + std::string(key_text));
  }
  p.algo = found.algo;
  return plans->emplace(key_text, p).first->second;
}

void run(const Gemm& g, float alpha, float beta) {
  const Plan& p = plan_for(g);
  NEWSRL_CUBLAS_CHECK(cublasLtMatmul(lt().handle, p.op, &alpha, g.a, p.a, g.b, p.b, &beta, g.d, p.d, g.d, p.d,
                                     &p.algo, lt().workspace, kWorkspaceBytes, stream()));
}

__global__ void scale_kernel(float* x, std::int64_t n, float s) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) x[i] = s == 0.0f ? 0.0f : x[i] * s;
}

__global__ void to_bf16_kernel(__nv_bfloat16* out, const float* x, std::int64_t n) {
  const std::int64_t i = blockIdx.x * static_cast<std::int64_t>(blockDim.x) + threadIdx.x;
  if (i < n) out[i] = __float2bfloat16_rn(x[i]);
}

void matmul(Tensor& c, const Tensor& a, const Tensor& b, bool trans_a, bool trans_b, float alpha, float beta) {
  const std::int64_t m = trans_a ? a.dim(-1) : a.dim(-2), k = trans_a ? a.dim(-2) : a.dim(-1);
  const std::int64_t n = trans_b ? b.dim(-2) : b.dim(-1);
  if (c.numel() == 0) return;
  float* d = c.data<float>();
  if (k == 0) {  // an empty sum: c = beta * c
    constexpr int kThreads = 256;
    scale_kernel<<<blocks_for(c.numel(), kThreads), kThreads, 0, stream()>>>(d, c.numel(), beta);
    NEWSRL_CUDA_CHECK(cudaGetLastError());
    return;
  }

  const std::int64_t batch = c.numel() / (m * n);
  Gemm g;
  g.trans_a = trans_b;  // cuBLASLt's A is our b (see the top of this file)
  g.trans_b = trans_a;
  g.m = n;
  g.n = m;
  g.k = k;
  g.lda = b.dim(-1);
  g.ldb = a.dim(-1);
  g.ldd = n;
  g.d = d;
  g.a = b.raw();
  g.b = a.raw();
  const bool shared_b = b.ndim() == 2;
  switch (matmul_precision()) {
    case MatmulPrecision::f32:
      break;
    case MatmulPrecision::tf32:
      g.compute = CUBLAS_COMPUTE_32F_FAST_TF32;
      break;
    case MatmulPrecision::bf16:
      g.compute = CUBLAS_COMPUTE_32F_FAST_16BF;
      break;
  }

  if (b.dtype() == DType::bf16) {
    // bf16 weights: round a to bf16 once so both operands share a type.
    Tensor a16 = Tensor::empty(a.shape(), DType::bf16, Device::cuda);
    constexpr int kThreads = 256;
    to_bf16_kernel<<<blocks_for(a.numel(), kThreads), kThreads, 0, stream()>>>(
        static_cast<__nv_bfloat16*>(a16.raw()), a.data<float>(), a.numel());
    NEWSRL_CUDA_CHECK(cudaGetLastError());
    g.ab_type = CUDA_R_16BF;
    g.compute = CUBLAS_COMPUTE_32F;  // the operands are bf16 already
    g.b = a16.raw();
    g.n = m * batch;  // a is not transposed here: its rows stack into one matrix
    run(g, alpha, beta);
    return;  // a16 goes back to the cache; the next user is ordered after this GEMM
  }

  if (shared_b && !trans_a) {
    g.n = m * batch;  // the rows of every matrix of a stack into one GEMM
    run(g, alpha, beta);
  } else if (shared_b) {
    // aᵀ of each matrix against the one b: one GEMM per matrix.
    for (std::int64_t i = 0; i < batch; ++i) {
      Gemm one = g;
      one.b = static_cast<const float*>(g.b) + i * m * k;
      one.d = d + i * m * n;
      run(one, alpha, beta);
    }
  } else {
    g.batch = batch;
    g.stride_a = n * k;
    g.stride_b = m * k;
    g.stride_d = m * n;
    run(g, alpha, beta);
  }
}

}  // namespace

void register_matmul(OpTable& t) { t.matmul = matmul; }

}  // namespace newsrl::kernels::cuda
