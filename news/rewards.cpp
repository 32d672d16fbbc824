#include "news/rewards.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <stdexcept>
#include <utility>

namespace newsrl::news {
namespace {

constexpr double kOff = std::numeric_limits<double>::quiet_NaN();

double dot(const float* a, const float* b, std::size_t dim) {
  double s = 0;
  for (std::size_t d = 0; d < dim; ++d) s += static_cast<double>(a[d]) * b[d];
  return s;
}

bool is_zero(const float* v, std::size_t dim) {
  return std::all_of(v, v + dim, [](float x) { return x == 0.0f; });
}

// R_div: mean over pairs of (1 - cos) clipped to [0, 1]; a pair with a query
// of no known word counts 0 (nothing shows it differs). 0 below two queries.
double diversity(const float* vectors, std::size_t count, std::size_t dim) {
  if (count < 2) return 0.0;
  double sum = 0;
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t j = i + 1; j < count; ++j) {
      const float *a = vectors + i * dim, *b = vectors + j * dim;
      if (is_zero(a, dim) || is_zero(b, dim)) continue;
      sum += std::clamp(1.0 - dot(a, b, dim), 0.0, 1.0);
    }
  }
  return sum / (static_cast<double>(count) * static_cast<double>(count - 1) / 2.0);
}

SpecificityIdf train_idf(const NewsIndex& index, const TimeWindow& train) {
  std::vector<std::string> titles;
  for (const IndexedArticle& a : index.articles())
    if (train.contains(a.published)) titles.push_back(a.title);
  if (titles.empty()) {
    throw std::invalid_argument("rewards: no article of the index was published in the train window [" +
                                std::to_string(train.start) + ", " + std::to_string(train.end) + ")");
  }
  return SpecificityIdf::fit(titles);
}

}  // namespace

RewardModel::RewardModel(const NewsIndex& index, const TimeWindow& train, RewardConfig config)
    : RewardModel(index, train, config,
                  config.judge.mode == "llm" && config.problems().empty()
                      ? std::make_unique<LlmJudge>(LlmJudge::load(config.judge))
                      : nullptr) {}

RewardModel::RewardModel(const NewsIndex& index, const TimeWindow& train, RewardConfig config,
                         std::unique_ptr<LlmJudge> judge)
    : index_(&index), config_(std::move(config)) {
  config_.validate();
  const std::vector<std::string> windows = index.windows();
  if (std::find(windows.begin(), windows.end(), "train") == windows.end())
    throw std::invalid_argument("rewards: the index has no train window (R_ret searches it)");
  specificity_ = std::make_unique<SpecificityRubric>(train_idf(index, train), config_.spec.generic_words,
                                                     config_.spec.generic_penalty);
  if (config_.judge.mode == "llm") {
    if (!judge) throw std::invalid_argument("rewards: judge mode \"llm\" needs a judge");
    judge_ = std::move(judge);
  }
}

RewardModel::~RewardModel() = default;
RewardModel::RewardModel(RewardModel&&) noexcept = default;

UserSignals RewardModel::prepare(const std::vector<std::string>& signals) const {
  const Embedder& embedder = index_->embedder();
  const auto dim = static_cast<std::size_t>(embedder.dim());
  UserSignals user;
  user.texts = signals;
  user.centroid.assign(dim, 0.0f);
  const std::vector<float> vectors = signals.empty() ? std::vector<float>{} : embedder.embed(signals);
  std::vector<double> sum(dim, 0.0);
  for (std::size_t i = 0; i < signals.size(); ++i)
    for (std::size_t d = 0; d < dim; ++d) sum[d] += vectors[i * dim + d];
  double norm = 0;
  for (double x : sum) norm += x * x;
  if (norm > 0) {
    norm = std::sqrt(norm);
    for (std::size_t d = 0; d < dim; ++d) user.centroid[d] = static_cast<float>(sum[d] / norm);
  }
  user.clusters = cluster_signals(vectors, static_cast<int>(dim), config_.cov.max_clusters);
  return user;
}

std::vector<Rewards> RewardModel::score(const UserSignals& user, const std::vector<ParsedList>& lists) {
  const RewardConfig& c = config_;
  const Embedder& embedder = index_->embedder();
  const auto dim = static_cast<std::size_t>(embedder.dim());
  if (user.centroid.size() != dim) throw std::invalid_argument("rewards: the user was not prepared by this model");

  // Every query of the group, embedded (and searched) in one batch.
  std::vector<std::string> queries;
  std::vector<std::size_t> first(lists.size() + 1, 0);
  for (std::size_t l = 0; l < lists.size(); ++l) {
    queries.insert(queries.end(), lists[l].queries.begin(), lists[l].queries.end());
    first[l + 1] = queries.size();
  }
  const std::vector<float> query_vectors = queries.empty() ? std::vector<float>{} : embedder.embed(queries);

  // R_ret: each hit's title embedding against the user's centroid.
  std::vector<double> query_alignment(queries.size(), 0.0);
  if (c.ret.weight > 0 && !queries.empty()) {
    const std::vector<std::vector<IndexHit>> hits = index_->search(queries, c.ret.k, "train");
    std::map<std::int64_t, double> alignment_of_row;  // each distinct article once
    for (const auto& list : hits)
      for (const IndexHit& h : list) alignment_of_row.emplace(h.row, 0.0);
    std::vector<std::string> titles;
    for (const auto& [row, unused] : alignment_of_row)
      titles.push_back(index_->articles()[static_cast<std::size_t>(row)].title);
    if (!titles.empty()) {
      const std::vector<float> title_vectors = embedder.embed(titles);
      std::size_t i = 0;
      for (auto& [row, value] : alignment_of_row)
        value = dot(title_vectors.data() + dim * i++, user.centroid.data(), dim);
    }
    for (std::size_t q = 0; q < queries.size(); ++q) {
      if (hits[q].empty()) continue;  // a query that retrieves nothing aligns with nothing
      double s = 0;
      for (const IndexHit& h : hits[q]) s += alignment_of_row.at(h.row);
      query_alignment[q] = s / static_cast<double>(hits[q].size());
    }
  }

  std::vector<Rewards> out;
  for (std::size_t l = 0; l < lists.size(); ++l) {
    const ParsedList& list = lists[l];
    const std::size_t n = first[l + 1] - first[l];
    const float* vectors = query_vectors.data() + first[l] * dim;
    Rewards r;
    r.ret = r.cov = r.spec = r.div = r.structure = kOff;
    if (c.ret.weight > 0) {
      double s = 0;
      for (std::size_t q = first[l]; q < first[l + 1]; ++q) s += query_alignment[q];
      r.ret = n == 0 ? 0.0 : std::clamp(s / static_cast<double>(n), 0.0, 1.0);
    }
    if (c.div.weight > 0) r.div = diversity(vectors, n, dim);
    if (c.structure.weight > 0) r.structure = list.valid ? 1.0 : 0.0;
    const bool want_cov = c.cov.weight > 0, want_spec = c.spec.weight > 0;
    if (judge_ && (want_cov || want_spec)) {
      const LlmJudge::Verdict v = judge_->judge(user.texts, list.queries, want_cov, want_spec);
      if (want_cov) r.cov = v.cov;
      if (want_spec) r.spec = v.spec;
    } else {
      if (want_cov) {
        const std::vector<float> own(vectors, vectors + n * dim);
        r.cov = rubric_coverage(user.clusters, own, c.cov.tau);
      }
      if (want_spec) r.spec = specificity_->list(list.queries);
    }
    r.composite = composite_reward(r, c);
    out.push_back(r);
  }
  return out;
}

Rewards RewardModel::score(const RewardInputs& inputs) { return score(prepare(inputs.signals), {inputs.list}).front(); }

double composite_reward(const Rewards& r, const RewardConfig& config) {
  const std::pair<double, double> parts[] = {{config.ret.weight, r.ret},
                                             {config.cov.weight, r.cov},
                                             {config.spec.weight, r.spec},
                                             {config.div.weight, r.div},
                                             {config.structure.weight, r.structure}};
  double sum = 0, weights = 0;
  for (const auto& [w, value] : parts) {
    if (w <= 0) continue;
    sum += w * value;
    weights += w;
  }
  if (weights <= 0) throw std::invalid_argument("rewards: every reward's weight is 0");
  return sum / weights;
}

std::size_t best_of_n(const std::vector<Rewards>& rewards) {
  if (rewards.empty()) throw std::invalid_argument("best_of_n: no completion to choose from");
  std::size_t best = 0;
  for (std::size_t i = 1; i < rewards.size(); ++i)
    if (rewards[i].composite > rewards[best].composite) best = i;
  return best;
}

}  // namespace newsrl::news
