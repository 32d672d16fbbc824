// The default embedder: latent semantic analysis. TF-IDF features (news/tfidf.h)
// projected on the top right singular vectors of the training corpus's
// TF-IDF matrix (news/svd.h), then L2-normalised. Saved as HDF5
// (docs/retrieval.md lists the datasets).
#pragma once

#include <cstdint>

#include "news/embedder.h"
#include "news/svd.h"
#include "news/tfidf.h"

namespace newsrl::news {

struct LsaOptions {
  TfidfOptions tfidf;
  SvdOptions svd;                  // svd.rank is the embedding dimension
  std::int64_t max_fit_texts = 200000;  // a larger corpus is sampled (seeded) down to this many texts for the fit
};

class LsaEmbedder : public Embedder {
 public:
  static LsaEmbedder fit(const std::vector<std::string>& corpus, const LsaOptions& options);
  static LsaEmbedder load(const std::string& path);

  std::string name() const override { return "lsa"; }
  int dim() const override { return svd_.rank; }
  std::vector<float> embed(const std::vector<std::string>& texts) const override;
  void save(const std::string& path) const override;

  const std::vector<float>& singular_values() const { return svd_.singular_values; }

 private:
  TfidfFeatures features_;
  TruncatedSvd svd_;
  std::uint64_t seed_ = 0;
};

}  // namespace newsrl::news
