#include "news/rubric_judge.h"

#include <algorithm>
#include <stdexcept>
#include <utility>

#include "news/tfidf.h"

namespace newsrl::news {

double rubric_coverage(const SignalClusters& clusters, const std::vector<float>& queries, double tau) {
  const auto dim = static_cast<std::size_t>(clusters.dim);
  if (clusters.size() == 0 || queries.empty()) return 0.0;
  if (queries.size() % dim != 0)
    throw std::invalid_argument("rubric_coverage: query vectors do not match the clusters' dimension");
  const std::size_t q = queries.size() / dim;
  double covered = 0;
  for (int c = 0; c < clusters.size(); ++c) {
    const float* centre = clusters.centroids.data() + static_cast<std::size_t>(c) * dim;
    for (std::size_t i = 0; i < q; ++i) {
      const float* v = queries.data() + i * dim;
      double cos = 0, norm = 0;
      for (std::size_t d = 0; d < dim; ++d) {
        cos += static_cast<double>(centre[d]) * v[d];
        norm += static_cast<double>(v[d]) * v[d];
      }
      if (norm > 0 && cos >= tau) {  // a query with no known word reaches nothing, whatever tau
        covered += clusters.shares[static_cast<std::size_t>(c)];
        break;
      }
    }
  }
  return std::clamp(covered, 0.0, 1.0);
}

SpecificityRubric::SpecificityRubric(SpecificityIdf idf, const std::vector<std::string>& generic_words, double generic_penalty)
    : idf_(std::move(idf)), penalty_(generic_penalty) {
  for (const std::string& w : generic_words)
    for (std::u32string& part : split_words(w)) generic_.insert(std::move(part));
}

double SpecificityRubric::query(const std::string& text) const {
  const std::vector<std::u32string> words = split_words(text);
  if (words.empty() || idf_.max_idf() <= 0) return 0.0;
  double idf_sum = 0;
  int generic = 0;
  for (const std::u32string& w : words) {
    idf_sum += idf_.idf(w);
    if (generic_.contains(w)) ++generic;
  }
  const double n = static_cast<double>(words.size());
  const double informative = idf_sum / n / idf_.max_idf();
  const double length = words.size() == 1 ? 0.5 : 1.0;
  return std::clamp(informative * length - penalty_ * generic / n, 0.0, 1.0);
}

double SpecificityRubric::list(const std::vector<std::string>& queries) const {
  if (queries.empty()) return 0.0;
  double sum = 0;
  for (const std::string& q : queries) sum += query(q);
  return sum / static_cast<double>(queries.size());
}

}  // namespace newsrl::news
