// Randomized truncated SVD (news/svd.h).
#include "news/svd.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#ifdef _OPENMP
#include <omp.h>
#endif

extern "C" {
// LAPACK (Fortran interface; linked through FAISS's LAPACK dependency).
void sgeqrf_(const int* m, const int* n, float* a, const int* lda, float* tau, float* work, const int* lwork, int* info);
void sorgqr_(const int* m, const int* n, const int* k, float* a, const int* lda, const float* tau, float* work,
             const int* lwork, int* info);
// OpenBLAS (when it is the BLAS): weak, so that another BLAS still links.
void openblas_set_num_threads(int threads) __attribute__((weak));
int openblas_get_num_threads(void) __attribute__((weak));
void sgesdd_(const char* jobz, const int* m, const int* n, float* a, const int* lda, float* s, float* u, const int* ldu,
             float* vt, const int* ldvt, float* work, const int* lwork, int* iwork, int* info);
}

namespace newsrl::news {

namespace {

std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// LAPACK through a threaded BLAS splits its blocked updates by the number of
// threads, so its float results differ between thread counts. The small
// dense steps run on one BLAS thread while this guard lives; the sparse
// products, the expensive part, keep every core (they are deterministic).
class OneBlasThread {
 public:
  OneBlasThread() {
#ifdef _OPENMP
    omp_threads_ = omp_get_max_threads();
    omp_set_num_threads(1);
#endif
    if (openblas_get_num_threads != nullptr && openblas_set_num_threads != nullptr) {
      blas_threads_ = openblas_get_num_threads();
      openblas_set_num_threads(1);
    }
  }
  ~OneBlasThread() {
    if (blas_threads_ > 0) openblas_set_num_threads(blas_threads_);
#ifdef _OPENMP
    omp_set_num_threads(omp_threads_);
#endif
  }
  OneBlasThread(const OneBlasThread&) = delete;
  OneBlasThread& operator=(const OneBlasThread&) = delete;

 private:
  int omp_threads_ = 1, blas_threads_ = 0;
};

void lapack_check(int info, const char* what) {
  if (info != 0) throw std::runtime_error(std::string("svd: LAPACK ") + what + " failed, info " + std::to_string(info));
}

// Replaces the row-major [rows, cols] matrix (rows >= cols) by an orthonormal
// basis of its column space (Householder QR).
void orthonormalize(std::vector<float>& a, std::int64_t rows, int cols) {
  std::vector<float> colmajor(a.size());
  for (std::int64_t r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) colmajor[static_cast<std::size_t>(c * rows + r)] = a[static_cast<std::size_t>(r * cols + c)];
  const int m = static_cast<int>(rows), n = cols;
  const OneBlasThread one_thread;
  std::vector<float> tau(static_cast<std::size_t>(n));
  int info = 0, lwork = -1;
  float query = 0;
  sgeqrf_(&m, &n, colmajor.data(), &m, tau.data(), &query, &lwork, &info);
  lapack_check(info, "sgeqrf");
  lwork = static_cast<int>(query);
  std::vector<float> work(static_cast<std::size_t>(std::max(1, lwork)));
  sgeqrf_(&m, &n, colmajor.data(), &m, tau.data(), work.data(), &lwork, &info);
  lapack_check(info, "sgeqrf");
  lwork = -1;
  sorgqr_(&m, &n, &n, colmajor.data(), &m, tau.data(), &query, &lwork, &info);
  lapack_check(info, "sorgqr");
  lwork = static_cast<int>(query);
  work.assign(static_cast<std::size_t>(std::max(1, lwork)), 0.0f);
  sorgqr_(&m, &n, &n, colmajor.data(), &m, tau.data(), work.data(), &lwork, &info);
  lapack_check(info, "sorgqr");
  for (std::int64_t r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) a[static_cast<std::size_t>(r * cols + c)] = colmajor[static_cast<std::size_t>(c * rows + r)];
}

// out[rows, l] = A · dense[cols, l]; rows are independent, so threads split them.
void multiply(const SparseRows& a, const std::vector<float>& dense, int l, std::vector<float>& out) {
  const std::int64_t rows = a.rows();
  out.assign(static_cast<std::size_t>(rows * l), 0.0f);
#pragma omp parallel for schedule(static)
  for (std::int64_t r = 0; r < rows; ++r) {
    float* o = out.data() + r * l;
    for (std::int64_t p = a.offsets[static_cast<std::size_t>(r)]; p < a.offsets[static_cast<std::size_t>(r + 1)]; ++p) {
      const float v = a.value[static_cast<std::size_t>(p)];
      const float* d = dense.data() + static_cast<std::int64_t>(a.index[static_cast<std::size_t>(p)]) * l;
      for (int c = 0; c < l; ++c) o[c] += v * d[c];
    }
  }
}

// out[cols, l] = Aᵀ · dense[rows, l]. Threads split the l columns, so each
// output number is summed by one thread in row order: deterministic.
void multiply_transposed(const SparseRows& a, const std::vector<float>& dense, int l, std::vector<float>& out) {
  out.assign(static_cast<std::size_t>(a.cols * l), 0.0f);
  const std::int64_t rows = a.rows();
#pragma omp parallel
  {
#ifdef _OPENMP
    const int threads = omp_get_num_threads(), me = omp_get_thread_num();
#else
    const int threads = 1, me = 0;
#endif
    const int begin = l * me / threads, end = l * (me + 1) / threads;
    for (std::int64_t r = 0; r < rows; ++r) {
      const float* d = dense.data() + r * l;
      for (std::int64_t p = a.offsets[static_cast<std::size_t>(r)]; p < a.offsets[static_cast<std::size_t>(r + 1)]; ++p) {
        const float v = a.value[static_cast<std::size_t>(p)];
        float* o = out.data() + static_cast<std::int64_t>(a.index[static_cast<std::size_t>(p)]) * l;
        for (int c = begin; c < end; ++c) o[c] += v * d[c];
      }
    }
  }
}

}  // namespace

std::vector<float> gaussian_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed) {
  const std::int64_t n = rows * cols;
  std::vector<float> out(static_cast<std::size_t>(n));
  const std::uint64_t base = splitmix64(seed ^ 0x5eed5eed5eedULL);
  for (std::int64_t i = 0; i < n; i += 2) {
    const std::uint64_t u = splitmix64(base + static_cast<std::uint64_t>(i));
    // two uniforms in (0, 1] from the two 32-bit halves
    const double u1 = (static_cast<double>(u >> 32) + 1.0) / 4294967296.0;
    const double u2 = (static_cast<double>(u & 0xffffffffULL) + 1.0) / 4294967296.0;
    const double radius = std::sqrt(-2.0 * std::log(u1));
    out[static_cast<std::size_t>(i)] = static_cast<float>(radius * std::cos(2.0 * M_PI * u2));
    if (i + 1 < n) out[static_cast<std::size_t>(i + 1)] = static_cast<float>(radius * std::sin(2.0 * M_PI * u2));
  }
  return out;
}

TruncatedSvd randomized_svd(const SparseRows& a, const SvdOptions& options) {
  const std::int64_t rows = a.rows(), cols = a.cols;
  if (options.rank < 1 || options.oversample < 0 || options.power_iterations < 0) {
    throw std::invalid_argument("svd: rank >= 1, oversample >= 0 and power_iterations >= 0 are needed");
  }
  if (rows < 1 || cols < 1) throw std::invalid_argument("svd: the matrix is empty");
  const std::int64_t smaller = std::min(rows, cols);
  const int l = static_cast<int>(std::min<std::int64_t>(options.rank + options.oversample, smaller));
  const int k = std::min(options.rank, l);

  // Range finder: Y = A·Ω, then (AAᵀ)^q Y with a QR after every product.
  const std::vector<float> omega = gaussian_matrix(cols, l, options.seed);
  std::vector<float> y, z;
  multiply(a, omega, l, y);
  for (int it = 0; it < options.power_iterations; ++it) {
    orthonormalize(y, rows, l);
    multiply_transposed(a, y, l, z);
    orthonormalize(z, cols, l);
    multiply(a, z, l, y);
  }
  orthonormalize(y, rows, l);  // Q [rows, l]

  // B = Qᵀ A is [l, cols]; Bᵀ = Aᵀ Q row-major [cols, l] is B in column-major order.
  std::vector<float> b;
  multiply_transposed(a, y, l, b);
  const int m = l, n = static_cast<int>(cols);
  std::vector<float> s(static_cast<std::size_t>(l)), u(static_cast<std::size_t>(l * l)),
      vt(static_cast<std::size_t>(static_cast<std::int64_t>(l) * cols));
  std::vector<int> iwork(static_cast<std::size_t>(8 * l));
  int info = 0, lwork = -1;
  float query = 0;
  const char jobz = 'S';
  const OneBlasThread one_thread;
  sgesdd_(&jobz, &m, &n, b.data(), &m, s.data(), u.data(), &m, vt.data(), &m, &query, &lwork, iwork.data(), &info);
  lapack_check(info, "sgesdd");
  lwork = static_cast<int>(query);
  std::vector<float> work(static_cast<std::size_t>(std::max(1, lwork)));
  sgesdd_(&jobz, &m, &n, b.data(), &m, s.data(), u.data(), &m, vt.data(), &m, work.data(), &lwork, iwork.data(), &info);
  lapack_check(info, "sgesdd");

  // Vᵀ column-major [l, cols] is V row-major [cols, l]; keep the first k columns.
  TruncatedSvd out;
  out.rank = k;
  out.cols = cols;
  out.singular_values.assign(s.begin(), s.begin() + k);
  out.right_vectors.resize(static_cast<std::size_t>(cols * k));
  for (int j = 0; j < k; ++j) {
    std::int64_t biggest = 0;
    for (std::int64_t i = 0; i < cols; ++i) {
      if (std::fabs(vt[static_cast<std::size_t>(i * l + j)]) > std::fabs(vt[static_cast<std::size_t>(biggest * l + j)])) biggest = i;
    }
    const float sign = vt[static_cast<std::size_t>(biggest * l + j)] < 0 ? -1.0f : 1.0f;
    for (std::int64_t i = 0; i < cols; ++i)
      out.right_vectors[static_cast<std::size_t>(i * k + j)] = sign * vt[static_cast<std::size_t>(i * l + j)];
  }
  return out;
}

}  // namespace newsrl::news
