// The deterministic rubric judge, the default scorer of R_cov and R_spec
// (docs/rewards.md): it reads only what a user did (their signals' clusters)
// and the words of the queries, so the same list always gets the same score.
#pragma once

#include <string>
#include <unordered_set>
#include <vector>

#include "news/signal_clusters.h"
#include "news/specificity_idf.h"

namespace newsrl::news {

// R_cov: the summed share of the signal clusters whose centroid has cosine
// >= tau with at least one query vector (rows of `queries`, [q, clusters.dim],
// unit or zero). 0 when there is no cluster or no query.
double rubric_coverage(const SignalClusters& clusters, const std::vector<float>& queries, double tau);

// R_spec: per query, mean idf of its words / the largest idf, times a length
// factor (one word 0.5, more 1), minus `generic_penalty` times the query's
// share of generic words, floored at 0; the mean over queries (0 when none).
class SpecificityRubric {
 public:
  SpecificityRubric(SpecificityIdf idf, const std::vector<std::string>& generic_words, double generic_penalty);
  double query(const std::string& text) const;
  double list(const std::vector<std::string>& queries) const;

 private:
  SpecificityIdf idf_;
  std::unordered_set<std::u32string> generic_;
  double penalty_;
};

}  // namespace newsrl::news
