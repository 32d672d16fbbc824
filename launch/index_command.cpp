// `newsrl index build|query`: fit the embedder, build the FAISS index per time window, search it.
#include "launch/index_command.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <memory>
#include <nlohmann/json.hpp>

#include "news/news_index.h"
#include "news/schema.h"

namespace newsrl::launch {

namespace {

struct BuildOptions {
  std::string world, out, kind = "auto", window = "all";
  int dim = 128;
  std::int64_t flat_max = 100000;
  std::uint64_t seed = 0;
};

struct QueryOptions {
  std::string index, text, window = "all";
  int k = 10, nprobe = 0;
  bool json = false;
};

int build(const BuildOptions& o) {
  namespace fs = std::filesystem;
  const std::optional<news::Split> split = news::read_split((fs::path(o.world) / news::kSplitFile).string());
  const std::vector<news::Article> articles = news::load_news((fs::path(o.world) / news::kNewsFile).string(), &*split);
  std::vector<news::IndexedArticle> indexed;
  indexed.reserve(articles.size());
  for (const news::Article& a : articles) {
    indexed.push_back({a.id, a.title, a.abstract.empty() ? a.title : a.title + "\n" + a.abstract, a.published});
  }
  news::IndexBuildOptions options;
  options.kind = o.kind;
  options.flat_max = o.flat_max;
  options.seed = o.seed;
  options.embedder.svd.rank = o.dim;
  if (o.window != "all") options.only_window = o.window;
  const std::map<std::string, news::TimeWindow> windows = {{"train", {split->train.start, split->train.end}},
                                                           {"test", {split->test.start, split->test.end}}};
  const news::NewsIndex index = news::NewsIndex::build(std::move(indexed), windows, options);
  index.save(o.out);
  std::cout << "wrote " << o.out << ": " << index.articles().size() << " articles (" << o.window << "), embedder "
            << index.embedder().name() << " dim " << index.embedder().dim() << "\n";
  for (const std::string& w : index.windows()) {
    std::cout << "  window " << w << ": " << index.kind_of(w) << "\n";
  }
  return 0;
}

int query(const QueryOptions& o) {
  news::NewsIndex index = news::NewsIndex::load(o.index);
  if (o.nprobe > 0) index.set_nprobe(o.nprobe);
  const auto hits = index.search({o.text}, o.k, o.window);
  if (o.json) {
    nlohmann::json results = nlohmann::json::array();
    for (const news::IndexHit& h : hits[0]) {
      const news::IndexedArticle& a = index.articles()[static_cast<std::size_t>(h.row)];
      results.push_back({{"id", a.id}, {"title", a.title}, {"score", h.score}, {"published", news::format_time(a.published)}});
    }
    std::cout << nlohmann::json{{"query", o.text}, {"window", o.window}, {"results", results}}.dump() << "\n";
    return 0;
  }
  char line[64];
  std::cout << "rank  score   id          title\n";
  for (std::size_t i = 0; i < hits[0].size(); ++i) {
    const news::IndexedArticle& a = index.articles()[static_cast<std::size_t>(hits[0][i].row)];
    std::snprintf(line, sizeof line, "%4zu  %6.4f  %-10s  ", i + 1, static_cast<double>(hits[0][i].score), a.id.c_str());
    std::cout << line << a.title << "\n";
  }
  if (hits[0].empty()) std::cout << "(no results: the query has no known word, or the window is empty)\n";
  return 0;
}

}  // namespace

Runner add_index_commands(CLI::App& app) {
  auto b = std::make_shared<BuildOptions>();
  auto q = std::make_shared<QueryOptions>();
  CLI::App* index = app.add_subcommand("index", "Build and query the news index (embedder + FAISS)");
  index->require_subcommand(1);
  CLI::App* build_cmd = index->add_subcommand(
      "build",
      "Fit the LSA embedder on the train window's news (titles + abstracts), embed the news, and build one FAISS "
      "inner-product index per time window (all, train, test) into a folder");
  build_cmd->add_option("--world", b->world, "Dataset folder (news.jsonl, split.json)")->required()->check(CLI::ExistingDirectory);
  build_cmd->add_option("--out", b->out, "Index folder to write")->required();
  build_cmd->add_option("--kind", b->kind, "FAISS index: auto (flat up to --flat-max articles a window, ivf above), flat, ivf, hnsw")
      ->check(CLI::IsMember({"auto", "flat", "ivf", "hnsw"}));
  build_cmd->add_option("--window", b->window, "Articles to index: all, or those published in the train or test window")
      ->check(CLI::IsMember({"all", "train", "test"}));
  build_cmd->add_option("--dim", b->dim, "Embedding dimension (LSA rank)")->check(CLI::Range(1, 1024));
  build_cmd->add_option("--flat-max", b->flat_max, "auto: largest window searched exactly")->check(CLI::PositiveNumber);
  build_cmd->add_option("--seed", b->seed, "Seed of the SVD's random projection and of IVF k-means");

  CLI::App* query_cmd = index->add_subcommand("query", "Search the news index with a text; prints id, score and title");
  query_cmd->add_option("--index", q->index, "Index folder from `newsrl index build`")->required();
  query_cmd->add_option("text", q->text, "The query text")->required();
  query_cmd->add_option("-k", q->k, "How many articles")->check(CLI::Range(1, 10000));
  query_cmd->add_option("--window", q->window, "Search only this window's articles: all, train or test");
  query_cmd->add_option("--nprobe", q->nprobe, "IVF: inverted lists visited (default: the index's)")->check(CLI::Range(1, 1 << 20));
  query_cmd->add_flag("--json", q->json, "One JSON object instead of a table");

  return [=]() -> std::optional<int> {
    if (*build_cmd) return build(*b);
    if (*query_cmd) return query(*q);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
