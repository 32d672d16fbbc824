// Deterministic k-means (news/kmeans.h).
#include "news/kmeans.h"

#include <algorithm>
#include <stdexcept>

#include "news/rng.h"

namespace newsrl::news {

namespace {

double squared_distance(const float* a, const float* b, int dim) {
  double sum = 0;
  for (int j = 0; j < dim; ++j) {
    const double d = static_cast<double>(a[j]) - b[j];
    sum += d * d;
  }
  return sum;
}

}  // namespace

KMeansResult kmeans(const std::vector<float>& rows, int dim, const KMeansOptions& options) {
  if (dim < 1) throw std::invalid_argument("kmeans: dim must be at least 1");
  if (rows.size() % static_cast<std::size_t>(dim) != 0)
    throw std::invalid_argument("kmeans: the data is not a whole number of rows");
  if (options.k < 1) throw std::invalid_argument("kmeans: k must be at least 1");
  const std::size_t n = rows.size() / static_cast<std::size_t>(dim);
  const auto d = static_cast<std::size_t>(dim);
  KMeansResult out;
  out.k = static_cast<int>(std::min<std::size_t>(static_cast<std::size_t>(options.k), n));
  out.assignment.assign(n, 0);
  out.sizes.assign(static_cast<std::size_t>(out.k), 0);
  if (n == 0) return out;
  const auto k = static_cast<std::size_t>(out.k);
  out.centroids.assign(k * d, 0.0f);
  auto row = [&](std::size_t i) { return rows.data() + i * d; };
  auto centroid = [&](std::size_t c) { return out.centroids.data() + c * d; };

  // k-means++: the first centre uniformly, each next one with probability
  // proportional to the squared distance to the nearest centre so far.
  Rng rng(options.seed, "kmeans", 0);
  std::vector<double> nearest(n, 0);
  std::size_t first = rng.below(n);
  std::copy(row(first), row(first) + d, centroid(0));
  for (std::size_t i = 0; i < n; ++i) nearest[i] = squared_distance(row(i), centroid(0), dim);
  for (std::size_t c = 1; c < k; ++c) {
    double total = 0;
    for (double v : nearest) total += v;
    std::size_t pick = 0;
    if (total > 0) {
      double target = rng.uniform() * total;
      pick = n - 1;
      for (std::size_t i = 0; i < n; ++i) {
        target -= nearest[i];
        if (target < 0 && nearest[i] > 0) {
          pick = i;
          break;
        }
      }
    } else {
      pick = rng.below(n);  // every row sits on a centre already
    }
    std::copy(row(pick), row(pick) + d, centroid(c));
    for (std::size_t i = 0; i < n; ++i) nearest[i] = std::min(nearest[i], squared_distance(row(i), centroid(c), dim));
  }

  // Lloyd: assign each row to its nearest centre (ties: the lower index), then
  // move each centre to its rows' mean; an empty cluster keeps its centre.
  for (int it = 0; it <= options.iterations; ++it) {
    bool moved = it == 0;
    for (std::size_t i = 0; i < n; ++i) {
      int best = 0;
      double best_d = squared_distance(row(i), centroid(0), dim);
      for (std::size_t c = 1; c < k; ++c) {
        double dist = squared_distance(row(i), centroid(c), dim);
        if (dist < best_d) best_d = dist, best = static_cast<int>(c);
      }
      if (out.assignment[i] != best) moved = true;
      out.assignment[i] = best;
    }
    if (!moved || it == options.iterations) break;
    std::vector<double> sums(k * d, 0);
    std::fill(out.sizes.begin(), out.sizes.end(), 0);
    for (std::size_t i = 0; i < n; ++i) {
      auto c = static_cast<std::size_t>(out.assignment[i]);
      ++out.sizes[c];
      for (std::size_t j = 0; j < d; ++j) sums[c * d + j] += row(i)[j];
    }
    for (std::size_t c = 0; c < k; ++c) {
      if (out.sizes[c] == 0) continue;
      for (std::size_t j = 0; j < d; ++j) centroid(c)[j] = static_cast<float>(sums[c * d + j] / out.sizes[c]);
    }
  }
  std::fill(out.sizes.begin(), out.sizes.end(), 0);
  for (int a : out.assignment) ++out.sizes[static_cast<std::size_t>(a)];
  return out;
}

}  // namespace newsrl::news
