// The themes of a user's signals: deterministic spherical k-means over the
// signals' unit embeddings (the coverage reward, R_cov, checks which themes a
// list of queries reaches). No random start: the first centre is the signal
// nearest the mean direction, each next one the signal farthest from the
// centres so far (ties: the lowest index), so the same signals always give
// the same clusters.
#pragma once

#include <vector>

namespace newsrl::news {

struct SignalClusters {
  int dim = 0;
  std::vector<float> centroids;  // [clusters, dim], unit length
  std::vector<double> shares;    // each cluster's share of the clustered signals; they sum to 1
  std::vector<int> assignment;   // per input row: its cluster, or -1 for a zero row (left out)
  int size() const { return static_cast<int>(shares.size()); }
};

// Rows of `vectors` ([n, dim]) that are all zeros (texts with no known word)
// are left out. k = min(max_clusters, round(sqrt(m))) for the m rows left,
// at least 1; no clusters when m = 0.
SignalClusters cluster_signals(const std::vector<float>& vectors, int dim, int max_clusters, int max_iterations = 50);

}  // namespace newsrl::news
