// The news index: articles embedded by an Embedder and searched by inner
// product with FAISS (exact flat, IVF or HNSW), restrictable to a time window.
// Each window ("all", "train", "test") gets its own FAISS index over the
// articles published inside it, because FAISS 1.7.3 cannot filter every
// index kind by id, and an HNSW graph searched through a narrow filter loses
// recall. An index folder holds embedder.h5, articles.jsonl, one
// index-<window>.faiss per window and index.json (docs/retrieval.md).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "news/embedder.h"
#include "news/lsa_embedder.h"

namespace faiss {
struct Index;
}

namespace newsrl::news {

struct TimeWindow {
  std::int64_t start = 0, end = 0;  // [start, end), seconds since the epoch
  bool contains(std::int64_t t) const { return t >= start && t < end; }
};

struct IndexedArticle {
  std::string id, title;
  std::string text;  // what is embedded: title and abstract
  std::int64_t published = 0;
};

struct IndexBuildOptions {
  std::string kind = "auto";          // auto|flat|ivf|hnsw
  std::int64_t flat_max = 100000;     // auto: exact search up to this many articles per window, IVF above
  LsaOptions embedder;                // fitted on the articles of the training window
  std::uint64_t seed = 0;             // IVF k-means and the embedder's random projection
  std::string only_window;            // non-empty: index only this window's articles (the fit still uses train)
};

struct IndexHit {
  std::int64_t row = -1;  // position in articles()
  float score = 0;        // inner product of unit vectors: cosine similarity
};

class NewsIndex {
 public:
  NewsIndex();
  ~NewsIndex();
  NewsIndex(NewsIndex&&) noexcept;
  NewsIndex& operator=(NewsIndex&&) noexcept;

  // Fits the embedder on the articles published in windows["train"], embeds
  // every article (or only those of options.only_window), and builds one FAISS
  // index for "all" and one per named window that holds at least one of them.
  static NewsIndex build(std::vector<IndexedArticle> articles, const std::map<std::string, TimeWindow>& windows,
                         const IndexBuildOptions& options);
  void save(const std::string& dir) const;
  static NewsIndex load(const std::string& dir);

  // Top-k articles of `window` for each query text (fewer when the window is
  // small; none for a text with no known word or n-gram, whose vector is zero).
  std::vector<std::vector<IndexHit>> search(const std::vector<std::string>& queries, int k, const std::string& window) const;
  std::vector<std::vector<IndexHit>> search_vectors(const std::vector<float>& queries, int k, const std::string& window) const;

  const std::vector<IndexedArticle>& articles() const { return articles_; }
  const Embedder& embedder() const { return *embedder_; }
  std::vector<std::string> windows() const;
  std::string kind_of(const std::string& window) const;
  void set_nprobe(int nprobe);  // IVF: inverted lists visited per query

 private:
  struct Part;
  const Part& part(const std::string& window) const;
  std::vector<IndexedArticle> articles_;
  std::unique_ptr<Embedder> embedder_;
  std::map<std::string, std::unique_ptr<Part>> parts_;
};

}  // namespace newsrl::news
