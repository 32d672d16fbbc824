// Randomized truncated SVD of a sparse matrix (Halko, Martinsson & Tropp 2011):
// a Gaussian random projection, a few power iterations re-orthonormalised by
// QR, then the exact SVD of the small projected matrix. LAPACK does the QR
// and the small SVD; the sparse products are written here.
#pragma once

#include <cstdint>
#include <vector>

#include "news/tfidf.h"

namespace newsrl::news {

struct SvdOptions {
  int rank = 128;             // singular triplets wanted
  int oversample = 10;        // extra random directions, improve accuracy
  int power_iterations = 2;   // each sharpens the spectrum's decay
  std::uint64_t seed = 0;     // the random projection; same seed, same result
};

struct TruncatedSvd {
  int rank = 0;                         // min(options.rank, rows, cols)
  std::int64_t cols = 0;
  std::vector<float> singular_values;   // [rank], descending
  std::vector<float> right_vectors;     // [cols, rank] row-major: column j is the j-th right singular vector
};

// Signs are fixed so that each right singular vector's largest-magnitude
// entry is positive, so results do not depend on LAPACK's sign choices.
TruncatedSvd randomized_svd(const SparseRows& a, const SvdOptions& options);

// Standard normal numbers from a counter-based generator (splitmix64 and
// Box-Muller): the same on every platform for a seed.
std::vector<float> gaussian_matrix(std::int64_t rows, std::int64_t cols, std::uint64_t seed);

}  // namespace newsrl::news
