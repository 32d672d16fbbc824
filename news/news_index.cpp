// The news index over FAISS (news/news_index.h).
#include "news/news_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIDMap.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/FaissException.h>
#include <faiss/index_io.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace newsrl::news {

namespace {

constexpr const char* kFormat = "newsrl-news-index-1";
constexpr int kHnswNeighbours = 32;
constexpr int kHnswBuildDepth = 80;
constexpr int kHnswSearchDepth = 128;

int ivf_lists(std::int64_t n) {
  // about 4·sqrt(n) lists, but at least 39 training points per list (k-means needs them)
  const auto wanted = static_cast<std::int64_t>(4.0 * std::sqrt(static_cast<double>(n)));
  return static_cast<int>(std::max<std::int64_t>(1, std::min(wanted, n / 39)));
}

int default_nprobe(int nlist) { return std::min(nlist, std::max(8, nlist / 32)); }

}  // namespace

struct NewsIndex::Part {
  std::string kind;
  TimeWindow window;
  bool bounded = false;  // false for "all": every article
  std::unique_ptr<faiss::Index> index;
  int nlist = 0;
};

NewsIndex::NewsIndex() = default;
NewsIndex::~NewsIndex() = default;
NewsIndex::NewsIndex(NewsIndex&&) noexcept = default;
NewsIndex& NewsIndex::operator=(NewsIndex&&) noexcept = default;

NewsIndex NewsIndex::build(std::vector<IndexedArticle> articles, const std::map<std::string, TimeWindow>& windows,
                           const IndexBuildOptions& options) {
  if (options.kind != "auto" && options.kind != "flat" && options.kind != "ivf" && options.kind != "hnsw") {
    throw std::invalid_argument("index: unknown kind \"" + options.kind + "\" (auto, flat, ivf, hnsw)");
  }
  if (articles.empty()) throw std::invalid_argument("index: no articles to index");
  // Rows in publication order (then id), so that saved files do not depend on input order.
  std::sort(articles.begin(), articles.end(), [](const IndexedArticle& a, const IndexedArticle& b) {
    return a.published != b.published ? a.published < b.published : a.id < b.id;
  });
  const auto train = windows.find("train");
  if (train == windows.end()) throw std::invalid_argument("index: no train window to fit the embedder on");
  std::vector<std::string> corpus, texts;
  for (const IndexedArticle& a : articles) {
    if (train->second.contains(a.published)) corpus.push_back(a.text);
    texts.push_back(a.text);
  }
  if (corpus.empty()) throw std::invalid_argument("index: no article was published in the train window to fit the embedder on");
  LsaOptions lsa = options.embedder;
  lsa.svd.seed = options.seed;

  NewsIndex out;
  out.embedder_ = std::make_unique<LsaEmbedder>(LsaEmbedder::fit(corpus, lsa));
  if (!options.only_window.empty()) {
    const auto only = windows.find(options.only_window);
    if (only == windows.end()) throw std::invalid_argument("index: no window \"" + options.only_window + "\" to restrict to");
    std::erase_if(articles, [&](const IndexedArticle& a) { return !only->second.contains(a.published); });
    if (articles.empty()) throw std::invalid_argument("index: no article was published in the " + options.only_window + " window");
    texts.clear();
    for (const IndexedArticle& a : articles) texts.push_back(a.text);
  }
  const std::vector<float> vectors = out.embedder_->embed(texts);
  const int dim = out.embedder_->dim();
  out.articles_ = std::move(articles);

  std::map<std::string, std::pair<TimeWindow, bool>> wanted = {{"all", {TimeWindow{}, false}}};
  for (const auto& [name, w] : windows) {
    if (name == "all") throw std::invalid_argument("index: \"all\" is not a window name one can define");
    wanted[name] = {w, true};
  }
  for (const auto& [name, spec] : wanted) {
    std::vector<faiss::Index::idx_t> rows;
    std::vector<float> x;
    for (std::size_t r = 0; r < out.articles_.size(); ++r) {
      if (spec.second && !spec.first.contains(out.articles_[r].published)) continue;
      rows.push_back(static_cast<faiss::Index::idx_t>(r));
      x.insert(x.end(), vectors.begin() + static_cast<std::ptrdiff_t>(r * static_cast<std::size_t>(dim)),
               vectors.begin() + static_cast<std::ptrdiff_t>((r + 1) * static_cast<std::size_t>(dim)));
    }
    if (rows.empty()) continue;
    const auto n = static_cast<std::int64_t>(rows.size());
    auto p = std::make_unique<Part>();
    p->window = spec.first;
    p->bounded = spec.second;
    p->kind = options.kind == "auto" ? (n <= options.flat_max ? "flat" : "ivf") : options.kind;
    try {
      std::unique_ptr<faiss::Index> base;
      if (p->kind == "flat") {
        base = std::make_unique<faiss::IndexFlatIP>(dim);
      } else if (p->kind == "ivf") {
        p->nlist = ivf_lists(n);
        auto quantizer = new faiss::IndexFlatIP(dim);
        auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer, dim, static_cast<std::size_t>(p->nlist),
                                                         faiss::METRIC_INNER_PRODUCT);
        ivf->own_fields = true;
        ivf->cp.seed = static_cast<int>(options.seed % 2147483647ULL);
        // k-means on a sample of at most 64 points per list: FAISS samples it with cp.seed.
        ivf->cp.max_points_per_centroid = 64;
        ivf->train(n, x.data());
        ivf->nprobe = static_cast<std::size_t>(default_nprobe(p->nlist));
        base = std::move(ivf);
      } else {
        auto hnsw = std::make_unique<faiss::IndexHNSWFlat>(dim, kHnswNeighbours, faiss::METRIC_INNER_PRODUCT);
        hnsw->hnsw.efConstruction = kHnswBuildDepth;
        hnsw->hnsw.efSearch = kHnswSearchDepth;
        base = std::move(hnsw);
      }
      auto mapped = std::make_unique<faiss::IndexIDMap>(base.release());
      mapped->own_fields = true;
#ifdef _OPENMP
      // FAISS inserts into an HNSW graph from several threads in a racy order;
      // one thread keeps the graph, and so the results, the same on every run.
      const int threads = omp_get_max_threads();
      if (p->kind == "hnsw") omp_set_num_threads(1);
#endif
      mapped->add_with_ids(n, x.data(), rows.data());
#ifdef _OPENMP
      omp_set_num_threads(threads);
#endif
      p->index = std::move(mapped);
    } catch (const faiss::FaissException& e) {
      throw std::runtime_error("index: FAISS failed building the " + name + " window: " + e.what());
    }
    out.parts_[name] = std::move(p);
  }
  return out;
}

void NewsIndex::save(const std::string& dir) const {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) throw std::invalid_argument(dir + ": cannot create the index folder (" + ec.message() + ")");
  embedder_->save((fs::path(dir) / "embedder.h5").string());
  {
    const std::string path = (fs::path(dir) / "articles.jsonl").string();
    std::ofstream out(path + ".tmp", std::ios::trunc);
    for (const IndexedArticle& a : articles_)
      out << nlohmann::json{{"id", a.id}, {"title", a.title}, {"published", a.published}}.dump() << "\n";
    out.flush();
    if (!out) throw std::invalid_argument(path + ": write failed");
    out.close();
    fs::rename(path + ".tmp", path);
  }
  nlohmann::json manifest = {{"format", kFormat}, {"embedder", embedder_->name()}, {"dim", embedder_->dim()},
                             {"articles", articles_.size()}};
  for (const auto& [name, p] : parts_) {
    const std::string file = "index-" + name + ".faiss";
    const std::string path = (fs::path(dir) / file).string();
    try {
      faiss::write_index(p->index.get(), (path + ".tmp").c_str());
    } catch (const faiss::FaissException& e) {
      throw std::invalid_argument(path + ": FAISS cannot write it: " + e.what());
    }
    fs::rename(path + ".tmp", path);
    nlohmann::json w = {{"kind", p->kind}, {"file", file}, {"count", p->index->ntotal}};
    if (p->bounded) {
      w["start"] = p->window.start;
      w["end"] = p->window.end;
    }
    if (p->nlist > 0) w["nlist"] = p->nlist;
    manifest["windows"][name] = w;
  }
  const std::string path = (fs::path(dir) / "index.json").string();
  std::ofstream out(path + ".tmp", std::ios::trunc);
  out << manifest.dump(1) << "\n";
  out.flush();
  if (!out) throw std::invalid_argument(path + ": write failed");
  out.close();
  fs::rename(path + ".tmp", path);  // written last: a folder with index.json is complete
}

NewsIndex NewsIndex::load(const std::string& dir) {
  namespace fs = std::filesystem;
  const std::string manifest_path = (fs::path(dir) / "index.json").string();
  std::ifstream in(manifest_path);
  if (!in) throw std::invalid_argument(manifest_path + ": cannot read (not an index folder? build one with `newsrl index build`)");
  nlohmann::json manifest;
  try {
    manifest = nlohmann::json::parse(in);
  } catch (const nlohmann::json::parse_error&) {
    throw std::invalid_argument(manifest_path + ": not valid JSON");
  }
  if (!manifest.is_object() || manifest.value("format", "") != kFormat || !manifest.contains("windows")) {
    throw std::invalid_argument(manifest_path + ": not a newsrl news index (" + kFormat + ")");
  }
  NewsIndex out;
  out.embedder_ = load_embedder((fs::path(dir) / "embedder.h5").string());
  const std::string articles_path = (fs::path(dir) / "articles.jsonl").string();
  std::ifstream articles(articles_path);
  if (!articles) throw std::invalid_argument(articles_path + ": cannot read");
  std::string line;
  std::size_t number = 0;
  while (std::getline(articles, line)) {
    ++number;
    try {
      const nlohmann::json j = nlohmann::json::parse(line);
      out.articles_.push_back({j.at("id").get<std::string>(), j.at("title").get<std::string>(), "",
                               j.at("published").get<std::int64_t>()});
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument(articles_path + ":" + std::to_string(number) + ": want {\"id\",\"title\",\"published\"}");
    }
  }
  for (const auto& [name, w] : manifest["windows"].items()) {
    auto p = std::make_unique<Part>();
    const std::string path = (fs::path(dir) / w.value("file", "")).string();
    try {
      p->kind = w.at("kind").get<std::string>();
      p->nlist = w.value("nlist", 0);
      p->bounded = w.contains("start");
      if (p->bounded) p->window = {w.at("start").get<std::int64_t>(), w.at("end").get<std::int64_t>()};
      p->index.reset(faiss::read_index(path.c_str()));
    } catch (const nlohmann::json::exception&) {
      throw std::invalid_argument(manifest_path + ": window " + name + " is malformed");
    } catch (const faiss::FaissException& e) {
      throw std::invalid_argument(path + ": FAISS cannot read it (" + std::string(e.what()).substr(0, 200) + ")");
    }
    if (p->index->d != out.embedder_->dim()) {
      throw std::invalid_argument(path + ": dimension " + std::to_string(p->index->d) + " differs from the embedder's " +
                                  std::to_string(out.embedder_->dim()));
    }
    out.parts_[name] = std::move(p);
  }
  if (!out.parts_.contains("all")) throw std::invalid_argument(manifest_path + ": no \"all\" window");
  return out;
}

std::vector<std::string> NewsIndex::windows() const {
  std::vector<std::string> names;
  for (const auto& [name, p] : parts_) names.push_back(name);
  return names;
}

const NewsIndex::Part& NewsIndex::part(const std::string& window) const {
  const auto it = parts_.find(window);
  if (it == parts_.end()) {
    std::string known;
    for (const auto& [name, p] : parts_) known += (known.empty() ? "" : ", ") + name;
    throw std::invalid_argument("index: no window \"" + window + "\" (this index has: " + known + ")");
  }
  return *it->second;
}

std::string NewsIndex::kind_of(const std::string& window) const { return part(window).kind; }

void NewsIndex::set_nprobe(int nprobe) {
  if (nprobe < 1) throw std::invalid_argument("index: nprobe must be positive");
  for (auto& [name, p] : parts_) {
    auto* mapped = dynamic_cast<faiss::IndexIDMap*>(p->index.get());
    auto* ivf = mapped ? dynamic_cast<faiss::IndexIVF*>(mapped->index) : nullptr;
    if (ivf) ivf->nprobe = static_cast<std::size_t>(std::min<std::size_t>(static_cast<std::size_t>(nprobe), ivf->nlist));
  }
}

std::vector<std::vector<IndexHit>> NewsIndex::search(const std::vector<std::string>& queries, int k,
                                                     const std::string& window) const {
  return search_vectors(embedder_->embed(queries), k, window);
}

std::vector<std::vector<IndexHit>> NewsIndex::search_vectors(const std::vector<float>& queries, int k,
                                                             const std::string& window) const {
  if (k < 1) throw std::invalid_argument("index: k must be positive");
  const Part& p = part(window);
  const int dim = embedder_->dim();
  const auto n = static_cast<faiss::Index::idx_t>(queries.size() / static_cast<std::size_t>(dim));
  std::vector<float> scores(static_cast<std::size_t>(n * k));
  std::vector<faiss::Index::idx_t> ids(static_cast<std::size_t>(n * k));
  if (n > 0) p.index->search(n, queries.data(), k, scores.data(), ids.data());
  std::vector<std::vector<IndexHit>> out(static_cast<std::size_t>(n));
  for (faiss::Index::idx_t q = 0; q < n; ++q) {
    const float* v = queries.data() + q * dim;
    if (std::all_of(v, v + dim, [](float x) { return x == 0.0f; })) continue;  // no known word or n-gram: no answer
    for (int j = 0; j < k; ++j) {
      const std::size_t at = static_cast<std::size_t>(q * k + j);
      if (ids[at] < 0) continue;  // the window holds fewer than k articles, or IVF probed too few lists
      out[static_cast<std::size_t>(q)].push_back({ids[at], scores[at]});
    }
  }
  return out;
}

}  // namespace newsrl::news
