// Text embedder interface: texts in, one L2-normalised row of floats per text
// out. The index, the retrieval reward and the query-diversity reward all go
// through it, so a neural embedder can replace LSA without touching them.
#pragma once

#include <memory>
#include <string>
#include <vector>

namespace newsrl::news {

class Embedder {
 public:
  virtual ~Embedder() = default;
  virtual std::string name() const = 0;
  virtual int dim() const = 0;
  // Row-major [texts.size(), dim()]; each row has norm 1, except the row of a
  // text with no known feature (e.g. empty), which is all zeros.
  virtual std::vector<float> embed(const std::vector<std::string>& texts) const = 0;
  // Writes the fitted embedder to one file; load_embedder reads it back.
  virtual void save(const std::string& path) const = 0;
};

// Reads any embedder written by Embedder::save (the file names its kind).
std::unique_ptr<Embedder> load_embedder(const std::string& path);

}  // namespace newsrl::news
