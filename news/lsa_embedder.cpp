// LSA embedder: fit, embed, save and load (news/lsa_embedder.h).
#include "news/lsa_embedder.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <numeric>
#include <stdexcept>

#include "runtime/h5_file.h"

namespace newsrl::news {

namespace {

constexpr const char* kFormat = "newsrl-lsa-1";

// A seeded sample of `count` indices out of n, in increasing order (partial Fisher-Yates).
std::vector<std::size_t> sample_indices(std::size_t n, std::size_t count, std::uint64_t seed) {
  std::vector<std::size_t> all(n);
  std::iota(all.begin(), all.end(), 0);
  std::uint64_t state = seed ^ 0xa5a5a5a5a5a5a5a5ULL;
  for (std::size_t i = 0; i < count; ++i) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    const std::size_t j = i + static_cast<std::size_t>((state >> 17) % (n - i));
    std::swap(all[i], all[j]);
  }
  all.resize(count);
  std::sort(all.begin(), all.end());
  return all;
}

}  // namespace

LsaEmbedder LsaEmbedder::fit(const std::vector<std::string>& corpus, const LsaOptions& options) {
  if (corpus.empty()) throw std::invalid_argument("lsa: the training corpus is empty");
  if (options.max_fit_texts < 1) throw std::invalid_argument("lsa: max_fit_texts must be positive");
  std::vector<std::string> sample;
  const std::vector<std::string>* texts = &corpus;
  if (static_cast<std::int64_t>(corpus.size()) > options.max_fit_texts) {
    for (std::size_t i : sample_indices(corpus.size(), static_cast<std::size_t>(options.max_fit_texts), options.svd.seed))
      sample.push_back(corpus[i]);
    texts = &sample;
  }
  LsaEmbedder e;
  e.features_ = TfidfFeatures::fit(*texts, options.tfidf);
  e.svd_ = randomized_svd(e.features_.transform(*texts), options.svd);
  e.seed_ = options.svd.seed;
  return e;
}

std::vector<float> LsaEmbedder::embed(const std::vector<std::string>& texts) const {
  const SparseRows x = features_.transform(texts);
  const int k = svd_.rank;
  std::vector<float> out(texts.size() * static_cast<std::size_t>(k), 0.0f);
  for (std::int64_t r = 0; r < x.rows(); ++r) {
    float* o = out.data() + r * k;
    for (std::int64_t p = x.offsets[static_cast<std::size_t>(r)]; p < x.offsets[static_cast<std::size_t>(r + 1)]; ++p) {
      const float v = x.value[static_cast<std::size_t>(p)];
      const float* row = svd_.right_vectors.data() + static_cast<std::int64_t>(x.index[static_cast<std::size_t>(p)]) * k;
      for (int c = 0; c < k; ++c) o[c] += v * row[c];
    }
    double norm = 0;
    for (int c = 0; c < k; ++c) norm += static_cast<double>(o[c]) * o[c];
    if (norm > 1e-20) {
      const float inv = static_cast<float>(1.0 / std::sqrt(norm));
      for (int c = 0; c < k; ++c) o[c] *= inv;
    } else {
      std::fill(o, o + k, 0.0f);
    }
  }
  return out;
}

void LsaEmbedder::save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    runtime::H5File f(tmp, runtime::H5File::Mode::create);
    const nlohmann::json config = {{"format", kFormat},
                                   {"embedder", "lsa"},
                                   {"dim", svd_.rank},
                                   {"words", features_.word_idf().size()},
                                   {"ngram_buckets", features_.ngram_idf().size()},
                                   {"seed", seed_}};
    f.set_attribute("/", "embedder", "lsa");
    f.set_attribute("/", "config", config.dump());
    // 64-bit word hashes as pairs of int32 (high, low): HDF5 through H5File has no uint64.
    const std::vector<std::uint64_t>& hashes = features_.word_hashes();
    std::vector<std::int32_t> pairs(hashes.size() * 2);
    for (std::size_t i = 0; i < hashes.size(); ++i) {
      pairs[2 * i] = static_cast<std::int32_t>(static_cast<std::uint32_t>(hashes[i] >> 32));
      pairs[2 * i + 1] = static_cast<std::int32_t>(static_cast<std::uint32_t>(hashes[i] & 0xffffffffULL));
    }
    const auto words = static_cast<std::int64_t>(hashes.size());
    // HDF5 rejects zero-sized chunked datasets: an empty vocabulary stores nothing.
    if (words > 0) {
      f.write_i32("/lsa/word_hashes", {words, 2}, pairs.data());
      f.write_f32("/lsa/word_idf", {words}, features_.word_idf().data());
    }
    f.write_f32("/lsa/ngram_idf", {static_cast<std::int64_t>(features_.ngram_idf().size())}, features_.ngram_idf().data());
    f.write_f32("/lsa/singular_values", {svd_.rank}, svd_.singular_values.data());
    f.write_f32("/lsa/components", {svd_.cols, svd_.rank}, svd_.right_vectors.data());
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) throw std::invalid_argument(path + ": cannot rename " + tmp + " over it");
}

LsaEmbedder LsaEmbedder::load(const std::string& path) {
  runtime::H5File f(path, runtime::H5File::Mode::read);
  if (!f.has_attribute("/", "config")) throw std::invalid_argument(path + ": not an LSA embedder (no config attribute)");
  nlohmann::json config;
  try {
    config = nlohmann::json::parse(f.attribute("/", "config"));
  } catch (const nlohmann::json::parse_error&) {
    throw std::invalid_argument(path + ": the config attribute is not JSON");
  }
  if (config.value("format", "") != kFormat) throw std::invalid_argument(path + ": not an LSA embedder file (" + kFormat + ")");
  const std::int64_t words = config.value("words", std::int64_t{0});
  const std::int64_t buckets = config.value("ngram_buckets", std::int64_t{0});
  const int dim = config.value("dim", 0);
  auto expect = [&](const std::string& name, std::vector<std::int64_t> shape) {
    if (f.shape(name) != shape) throw std::invalid_argument(path + ": " + name + " has the wrong shape");
  };
  std::vector<std::int32_t> pairs(static_cast<std::size_t>(words * 2));
  std::vector<float> word_idf(static_cast<std::size_t>(words)), ngram_idf(static_cast<std::size_t>(buckets));
  if (words > 0) {
    expect("/lsa/word_hashes", {words, 2});
    expect("/lsa/word_idf", {words});
    f.read_i32("/lsa/word_hashes", pairs.data(), words * 2);
    f.read_f32("/lsa/word_idf", word_idf.data(), words);
  }
  expect("/lsa/ngram_idf", {buckets});
  f.read_f32("/lsa/ngram_idf", ngram_idf.data(), buckets);
  std::vector<std::uint64_t> hashes(static_cast<std::size_t>(words));
  for (std::size_t i = 0; i < hashes.size(); ++i) {
    hashes[i] = (static_cast<std::uint64_t>(static_cast<std::uint32_t>(pairs[2 * i])) << 32) |
                static_cast<std::uint32_t>(pairs[2 * i + 1]);
  }
  LsaEmbedder e;
  e.features_ = TfidfFeatures::from_parts(std::move(hashes), std::move(word_idf), std::move(ngram_idf));
  e.svd_.rank = dim;
  e.svd_.cols = e.features_.feature_count();
  expect("/lsa/singular_values", {dim});
  expect("/lsa/components", {e.svd_.cols, dim});
  e.svd_.singular_values.resize(static_cast<std::size_t>(dim));
  e.svd_.right_vectors.resize(static_cast<std::size_t>(e.svd_.cols * dim));
  f.read_f32("/lsa/singular_values", e.svd_.singular_values.data(), dim);
  f.read_f32("/lsa/components", e.svd_.right_vectors.data(), e.svd_.cols * dim);
  e.seed_ = config.value("seed", std::uint64_t{0});
  return e;
}

std::unique_ptr<Embedder> load_embedder(const std::string& path) {
  runtime::H5File f(path, runtime::H5File::Mode::read);
  const std::string kind = f.has_attribute("/", "embedder") ? f.attribute("/", "embedder") : "";
  if (kind == "lsa") return std::make_unique<LsaEmbedder>(LsaEmbedder::load(path));
  throw std::invalid_argument(path + ": unknown embedder \"" + kind + "\" (known: lsa)");
}

}  // namespace newsrl::news
