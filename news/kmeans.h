// Deterministic k-means on rows of floats (squared Euclidean distance; on
// L2-normalised embeddings this orders like cosine): k-means++ seeding from a
// seed, then a fixed number of Lloyd iterations. Same rows, k and seed give
// the same clusters on every machine (serial sums in row order).
#pragma once

#include <cstdint>
#include <vector>

namespace newsrl::news {

struct KMeansOptions {
  int k = 4;
  int iterations = 20;  // Lloyd steps (stops early when no row moves)
  std::uint64_t seed = 0;
};

struct KMeansResult {
  int k = 0;                     // clusters made: min(options.k, rows)
  std::vector<int> assignment;   // per row, its cluster 0..k-1
  std::vector<float> centroids;  // row-major [k, dim]
  std::vector<int> sizes;        // rows per cluster
};

// Clusters `rows` (row-major [n, dim]). n = 0 gives k = 0. Throws
// std::invalid_argument when dim < 1, the data is not n*dim or k < 1.
KMeansResult kmeans(const std::vector<float>& rows, int dim, const KMeansOptions& options);

}  // namespace newsrl::news
