// Word splitting, TF-IDF, the randomized SVD against brute force, and the LSA
// embedder: similar texts closer than dissimilar ones, determinism, save/load.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numeric>
#include <omp.h>
#include <unistd.h>

#include "news/embedder.h"
#include "news/lsa_embedder.h"
#include "news/svd.h"
#include "news/tfidf.h"

namespace newsrl::news {
namespace {

SparseRows dense_to_sparse(const std::vector<double>& a, std::int64_t rows, std::int64_t cols) {
  SparseRows s;
  s.cols = cols;
  for (std::int64_t r = 0; r < rows; ++r) {
    for (std::int64_t c = 0; c < cols; ++c) {
      const double v = a[static_cast<std::size_t>(r * cols + c)];
      if (v != 0) {
        s.index.push_back(static_cast<std::int32_t>(c));
        s.value.push_back(static_cast<float>(v));
      }
    }
    s.offsets.push_back(static_cast<std::int64_t>(s.index.size()));
  }
  return s;
}

// Brute force: one-sided Jacobi on the columns of A (double), singular values descending.
std::vector<double> jacobi_singular_values(std::vector<double> a, std::int64_t rows, std::int64_t cols) {
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0;
    for (std::int64_t p = 0; p < cols; ++p) {
      for (std::int64_t q = p + 1; q < cols; ++q) {
        double alpha = 0, beta = 0, gamma = 0;
        for (std::int64_t i = 0; i < rows; ++i) {
          const double x = a[static_cast<std::size_t>(i * cols + p)], y = a[static_cast<std::size_t>(i * cols + q)];
          alpha += x * x;
          beta += y * y;
          gamma += x * y;
        }
        if (std::fabs(gamma) < 1e-300) continue;
        off = std::max(off, std::fabs(gamma) / std::sqrt(alpha * beta));
        const double zeta = (beta - alpha) / (2 * gamma);
        const double t = (zeta >= 0 ? 1.0 : -1.0) / (std::fabs(zeta) + std::sqrt(1 + zeta * zeta));
        const double c = 1 / std::sqrt(1 + t * t), s = c * t;
        for (std::int64_t i = 0; i < rows; ++i) {
          double& x = a[static_cast<std::size_t>(i * cols + p)];
          double& y = a[static_cast<std::size_t>(i * cols + q)];
          const double nx = c * x - s * y, ny = s * x + c * y;
          x = nx;
          y = ny;
        }
      }
    }
    if (off < 1e-14) break;
  }
  std::vector<double> sv(static_cast<std::size_t>(cols));
  for (std::int64_t c = 0; c < cols; ++c) {
    double n = 0;
    for (std::int64_t i = 0; i < rows; ++i) n += a[static_cast<std::size_t>(i * cols + c)] * a[static_cast<std::size_t>(i * cols + c)];
    sv[static_cast<std::size_t>(c)] = std::sqrt(n);
  }
  std::sort(sv.rbegin(), sv.rend());
  return sv;
}

TEST(Words, UnicodeAwareSplittingAndLowercase) {
  std::vector<std::string> got;
  for (const auto& w : split_words("Héllo, WÖRLD! naïve—café's 2026 Ελλάδα МОСКВА")) got.push_back(to_utf8(w));
  const std::vector<std::string> want = {"héllo", "wörld", "naïve", "café", "s", "2026", "ελλάδα", "москва"};
  EXPECT_EQ(got, want);
  EXPECT_TRUE(split_words("  ,.;  ").empty());
  EXPECT_EQ(split_words("a\xff" "b").size(), 2u);  // an invalid byte separates words
}

TEST(Words, LowercaseTextKeepsEverythingButTheCase) {
  EXPECT_EQ(lowercase_text("Héllo, WÖRLD! Ελλάδα МОСКВА | Apex-Motorsport: 2026"),
            "héllo, wörld! ελλάδα москва | apex-motorsport: 2026");
  EXPECT_EQ(lowercase_text("A\xff" "B"), "a\xff" "b");  // an invalid byte is kept as it is
  EXPECT_EQ(lowercase_text(""), "");
}

TEST(Svd, MatchesBruteForceSingularValues) {
  // A sparse-ish 30x20 matrix; with rank + oversample = min(rows, cols) the
  // randomized method is exact up to float rounding.
  const std::int64_t rows = 30, cols = 20;
  const std::vector<float> g = gaussian_matrix(rows, cols, 7);
  std::vector<double> a(static_cast<std::size_t>(rows * cols));
  for (std::size_t i = 0; i < a.size(); ++i) a[i] = (i % 3 == 0) ? 0.0 : g[i];
  const auto brute = jacobi_singular_values(a, rows, cols);
  const TruncatedSvd svd = randomized_svd(dense_to_sparse(a, rows, cols), {6, 14, 2, 1});
  ASSERT_EQ(svd.rank, 6);
  for (int j = 0; j < 6; ++j) EXPECT_NEAR(svd.singular_values[static_cast<std::size_t>(j)], brute[static_cast<std::size_t>(j)], 1e-4 * brute[0]);
}

TEST(Svd, RecoversTheTopOfALowRankSpectrumWithFewDirections) {
  // A = U diag(s) Vᵀ with known s: rank 8 in a 60x40 matrix; ask for 4 with 4 extra directions.
  const std::int64_t rows = 60, cols = 40;
  const std::vector<double> s = {10, 8, 6, 5, 1, 0.5, 0.25, 0.1};
  auto orthonormal = [](std::int64_t n, std::int64_t r, std::uint64_t seed) {
    const std::vector<float> g = gaussian_matrix(n, r, seed);
    std::vector<double> q(g.begin(), g.end());
    for (std::int64_t j = 0; j < r; ++j) {  // Gram-Schmidt twice
      for (int pass = 0; pass < 2; ++pass) {
        for (std::int64_t p = 0; p < j; ++p) {
          double dot = 0;
          for (std::int64_t i = 0; i < n; ++i) dot += q[static_cast<std::size_t>(i * r + j)] * q[static_cast<std::size_t>(i * r + p)];
          for (std::int64_t i = 0; i < n; ++i) q[static_cast<std::size_t>(i * r + j)] -= dot * q[static_cast<std::size_t>(i * r + p)];
        }
      }
      double norm = 0;
      for (std::int64_t i = 0; i < n; ++i) norm += q[static_cast<std::size_t>(i * r + j)] * q[static_cast<std::size_t>(i * r + j)];
      for (std::int64_t i = 0; i < n; ++i) q[static_cast<std::size_t>(i * r + j)] /= std::sqrt(norm);
    }
    return q;
  };
  const std::int64_t r = static_cast<std::int64_t>(s.size());
  const auto u = orthonormal(rows, r, 11), v = orthonormal(cols, r, 12);
  std::vector<double> a(static_cast<std::size_t>(rows * cols), 0.0);
  for (std::int64_t i = 0; i < rows; ++i)
    for (std::int64_t j = 0; j < cols; ++j)
      for (std::int64_t t = 0; t < r; ++t)
        a[static_cast<std::size_t>(i * cols + j)] += u[static_cast<std::size_t>(i * r + t)] * s[static_cast<std::size_t>(t)] * v[static_cast<std::size_t>(j * r + t)];
  const TruncatedSvd svd = randomized_svd(dense_to_sparse(a, rows, cols), {4, 4, 2, 3});
  for (int j = 0; j < 4; ++j) EXPECT_NEAR(svd.singular_values[static_cast<std::size_t>(j)], s[static_cast<std::size_t>(j)], 1e-3);
  // The right vectors are orthonormal.
  for (int p = 0; p < 4; ++p) {
    for (int q = 0; q < 4; ++q) {
      double dot = 0;
      for (std::int64_t i = 0; i < cols; ++i) dot += static_cast<double>(svd.right_vectors[static_cast<std::size_t>(i * 4 + p)]) * svd.right_vectors[static_cast<std::size_t>(i * 4 + q)];
      EXPECT_NEAR(dot, p == q ? 1.0 : 0.0, 1e-4);
    }
  }
}

std::vector<std::string> corpus() {
  return {"Patriots beat Jets in overtime thriller at home stadium",
          "Jets quarterback injured as Patriots win the division game",
          "NFL playoffs: Patriots and Jets fight for the wildcard spot",
          "Stock markets rally as central bank holds interest rates",
          "Interest rates unchanged; markets and bank shares rise",
          "Central bank warns inflation may keep rates high, stocks fall",
          "New pasta recipe: creamy tomato sauce with fresh basil",
          "Easy weeknight recipe for tomato basil pasta and garlic bread",
          "Chef shares the secret of a perfect tomato sauce recipe",
          "Hurricane approaches the coast; residents told to evacuate",
          "Storm and hurricane warnings issued along the coast",
          "Evacuation orders as the hurricane strengthens offshore"};
}

double dot(const std::vector<float>& m, int dim, int a, int b) {
  double d = 0;
  for (int c = 0; c < dim; ++c) d += static_cast<double>(m[static_cast<std::size_t>(a * dim + c)]) * m[static_cast<std::size_t>(b * dim + c)];
  return d;
}

LsaOptions small_options() {
  LsaOptions o;
  o.tfidf.min_document_count = 1;
  o.tfidf.ngram_buckets = 512;
  o.svd.rank = 8;
  o.svd.seed = 5;
  return o;
}

TEST(Lsa, SimilarTextsScoreHigherThanDissimilarOnes) {
  const LsaEmbedder e = LsaEmbedder::fit(corpus(), small_options());
  ASSERT_EQ(e.dim(), 8);
  const std::vector<std::string> q = {"Patriots Jets football game", "NFL Jets Patriots overtime", "tomato pasta recipe",
                                      "bank raises interest rates", ""};
  const std::vector<float> m = e.embed(q);
  const int d = e.dim();
  EXPECT_NEAR(dot(m, d, 0, 0), 1.0, 1e-5);
  EXPECT_GT(dot(m, d, 0, 1), dot(m, d, 0, 2) + 0.2);
  EXPECT_GT(dot(m, d, 0, 1), dot(m, d, 0, 3) + 0.2);
  EXPECT_EQ(dot(m, d, 4, 4), 0.0);  // an empty text has no features: a zero row
}

TEST(Lsa, DeterministicForASeedAndSurvivesSaveAndLoad) {
  const LsaEmbedder a = LsaEmbedder::fit(corpus(), small_options());
  const LsaEmbedder b = LsaEmbedder::fit(corpus(), small_options());
  const std::vector<std::string> texts = {"hurricane on the coast", "Jets win", "unknownword"};
  const std::vector<float> ea = a.embed(texts);
  EXPECT_EQ(ea, b.embed(texts));
  const std::string path = (std::filesystem::temp_directory_path() / ("lsa_test_" + std::to_string(::getpid()) + ".h5")).string();
  a.save(path);
  const std::unique_ptr<Embedder> loaded = load_embedder(path);
  EXPECT_EQ(loaded->name(), "lsa");
  EXPECT_EQ(loaded->dim(), a.dim());
  EXPECT_EQ(loaded->embed(texts), ea);
  std::filesystem::remove(path);
  EXPECT_THROW(load_embedder(path), std::exception);
}

TEST(Lsa, TheSameWhateverTheThreadCount) {
  std::vector<std::string> texts;  // enough rows that the sparse products and LAPACK split work between threads
  for (int i = 0; i < 400; ++i) texts.push_back(corpus()[static_cast<std::size_t>(i) % 12] + " item" + std::to_string(i % 37));
  LsaOptions o = small_options();
  o.svd.rank = 16;
  const int threads = omp_get_max_threads();
  omp_set_num_threads(1);
  const std::vector<float> one = LsaEmbedder::fit(texts, o).embed(corpus());
  omp_set_num_threads(std::max(2, threads));
  const std::vector<float> many = LsaEmbedder::fit(texts, o).embed(corpus());
  omp_set_num_threads(threads);
  EXPECT_EQ(one, many);
}

TEST(Lsa, ASampledFitIsStillDeterministic) {
  LsaOptions o = small_options();
  o.max_fit_texts = 6;
  const std::vector<float> a = LsaEmbedder::fit(corpus(), o).embed({"storm"});
  const std::vector<float> b = LsaEmbedder::fit(corpus(), o).embed({"storm"});
  EXPECT_EQ(a, b);
}

}  // namespace
}  // namespace newsrl::news
