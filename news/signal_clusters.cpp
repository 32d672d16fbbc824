#include "news/signal_clusters.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace newsrl::news {
namespace {

double dot(const float* a, const float* b, int dim) {
  double s = 0;
  for (int d = 0; d < dim; ++d) s += static_cast<double>(a[d]) * b[d];
  return s;
}

// Scales `v` to unit length; false (v unchanged) when it is all zeros.
bool normalise(std::vector<double>& v) {
  double n = 0;
  for (double x : v) n += x * x;
  if (n <= 0) return false;
  n = std::sqrt(n);
  for (double& x : v) x /= n;
  return true;
}

}  // namespace

SignalClusters cluster_signals(const std::vector<float>& vectors, int dim, int max_clusters, int max_iterations) {
  if (dim <= 0 || vectors.size() % static_cast<std::size_t>(dim) != 0)
    throw std::invalid_argument("cluster_signals: vectors do not hold whole rows of the dimension");
  if (max_clusters < 1) throw std::invalid_argument("cluster_signals: max_clusters must be at least 1");
  const std::size_t n = vectors.size() / static_cast<std::size_t>(dim);
  SignalClusters out;
  out.dim = dim;
  out.assignment.assign(n, -1);
  std::vector<const float*> rows;  // the non-zero rows
  std::vector<std::size_t> row_index;
  for (std::size_t r = 0; r < n; ++r) {
    const float* v = vectors.data() + r * static_cast<std::size_t>(dim);
    if (dot(v, v, dim) > 0) {
      rows.push_back(v);
      row_index.push_back(r);
    }
  }
  const std::size_t m = rows.size();
  if (m == 0) return out;
  const int k = static_cast<int>(std::min<std::size_t>(
      m, static_cast<std::size_t>(
             std::clamp(static_cast<int>(std::lround(std::sqrt(static_cast<double>(m)))), 1, max_clusters))));

  // Start: the row nearest the mean direction, then farthest-first.
  std::vector<double> mean(static_cast<std::size_t>(dim), 0.0);
  for (const float* v : rows)
    for (int d = 0; d < dim; ++d) mean[static_cast<std::size_t>(d)] += v[d];
  std::vector<std::vector<double>> centres;
  auto as_centre = [&](const float* v) { return std::vector<double>(v, v + dim); };
  auto sim = [&](const float* v, const std::vector<double>& c) {
    double s = 0;
    for (int d = 0; d < dim; ++d) s += v[d] * c[static_cast<std::size_t>(d)];
    return s;
  };
  std::size_t first = 0;
  for (std::size_t i = 1; i < m; ++i)
    if (sim(rows[i], mean) > sim(rows[first], mean)) first = i;
  centres.push_back(as_centre(rows[first]));
  std::vector<double> nearest(m);  // each row's best similarity to a centre so far
  for (std::size_t i = 0; i < m; ++i) nearest[i] = sim(rows[i], centres[0]);
  while (static_cast<int>(centres.size()) < k) {
    std::size_t far = 0;
    for (std::size_t i = 1; i < m; ++i)
      if (nearest[i] < nearest[far]) far = i;
    centres.push_back(as_centre(rows[far]));
    for (std::size_t i = 0; i < m; ++i) nearest[i] = std::max(nearest[i], sim(rows[i], centres.back()));
  }

  // Lloyd's iterations on the sphere: nearest centre by cosine (ties: the
  // lower centre), centre = the normalised mean of its rows.
  std::vector<int> assign(m, -1);
  for (int it = 0; it < max_iterations; ++it) {
    bool changed = false;
    for (std::size_t i = 0; i < m; ++i) {
      int best = 0;
      for (int c = 1; c < k; ++c)
        if (sim(rows[i], centres[static_cast<std::size_t>(c)]) > sim(rows[i], centres[static_cast<std::size_t>(best)]))
          best = c;
      if (assign[i] != best) changed = true;
      assign[i] = best;
    }
    if (!changed) break;
    for (int c = 0; c < k; ++c) {
      std::vector<double> sum(static_cast<std::size_t>(dim), 0.0);
      for (std::size_t i = 0; i < m; ++i)
        if (assign[i] == c)
          for (int d = 0; d < dim; ++d) sum[static_cast<std::size_t>(d)] += rows[i][d];
      if (normalise(sum)) centres[static_cast<std::size_t>(c)] = std::move(sum);  // else the centre stays
    }
  }

  // Empty clusters are dropped; the rest are renumbered in order.
  std::vector<int> count(static_cast<std::size_t>(k), 0), renumber(static_cast<std::size_t>(k), -1);
  for (int a : assign) ++count[static_cast<std::size_t>(a)];
  for (int c = 0; c < k; ++c) {
    if (count[static_cast<std::size_t>(c)] == 0) continue;
    renumber[static_cast<std::size_t>(c)] = out.size();
    std::vector<double> centre = centres[static_cast<std::size_t>(c)];
    normalise(centre);
    for (double x : centre) out.centroids.push_back(static_cast<float>(x));
    out.shares.push_back(static_cast<double>(count[static_cast<std::size_t>(c)]) / static_cast<double>(m));
  }
  for (std::size_t i = 0; i < m; ++i) out.assignment[row_index[i]] = renumber[static_cast<std::size_t>(assign[i])];
  return out;
}

}  // namespace newsrl::news
