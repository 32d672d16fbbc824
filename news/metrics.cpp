// Recall@K, NDCG@K and MRR, per user and averaged (docs/metrics.md).
#include "news/metrics.h"

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace newsrl::news {

namespace {

// Relevant ids sorted and distinct, so that membership is a binary search.
std::vector<std::string_view> sorted_distinct(const std::vector<std::string_view>& ids) {
  std::vector<std::string_view> out(ids);
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

// Ids mostly differ in their last characters: look there before a full compare.
bool same_id(std::string_view a, std::string_view b) {
  return a.size() == b.size() && (a.empty() || (a.back() == b.back() && a == b));
}

bool contains(const std::vector<std::string_view>& sorted, std::string_view id) {
  if (sorted.size() <= 16) {  // a user's few clicks: a scan beats a binary search
    for (std::string_view x : sorted) {
      if (same_id(x, id)) return true;
    }
    return false;
  }
  return std::binary_search(sorted.begin(), sorted.end(), id);
}

// 1 / log2(rank + 1) for a 1-based rank; the first ranks from a table.
double discount(std::size_t rank) {
  static const std::vector<double> table = [] {
    std::vector<double> t(257);
    for (std::size_t r = 1; r < t.size(); ++r) t[r] = 1.0 / std::log2(static_cast<double>(r) + 1.0);
    return t;
  }();
  return rank < table.size() ? table[rank] : 1.0 / std::log2(static_cast<double>(rank) + 1.0);
}

double recall_sorted(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& rel, int k) {
  const std::size_t n = std::min(ranked.size(), static_cast<std::size_t>(k));
  std::size_t hits = 0;
  for (std::size_t i = 0; i < n; ++i) hits += contains(rel, ranked[i]) ? 1 : 0;
  return static_cast<double>(hits) / static_cast<double>(rel.size());
}

double ndcg_sorted(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& rel, int k) {
  const std::size_t n = std::min(ranked.size(), static_cast<std::size_t>(k));
  double dcg = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (contains(rel, ranked[i])) dcg += discount(i + 1);
  }
  double ideal = 0;
  const std::size_t m = std::min(rel.size(), static_cast<std::size_t>(k));
  for (std::size_t i = 0; i < m; ++i) ideal += discount(i + 1);
  return dcg / ideal;
}

double rr_sorted(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& rel) {
  for (std::size_t i = 0; i < ranked.size(); ++i) {
    if (contains(rel, ranked[i])) return 1.0 / static_cast<double>(i + 1);
  }
  return 0.0;
}

void check_user(const std::vector<std::string_view>& rel, int k) {
  if (rel.empty()) throw std::invalid_argument("metrics: a user without future clicks cannot be scored");
  if (k <= 0) throw std::invalid_argument("metrics: K must be positive, got " + std::to_string(k));
}

MetricSums zero_sums(std::size_t cutoffs) {
  MetricSums s;
  s.recall.assign(cutoffs, 0.0);
  s.ndcg.assign(cutoffs, 0.0);
  return s;
}

nlohmann::ordered_json means(const MetricSums& s, const std::vector<int>& cutoffs) {
  nlohmann::ordered_json j = nlohmann::ordered_json::object();
  j["users"] = s.users;
  const double n = s.users > 0 ? static_cast<double>(s.users) : 1.0;
  for (std::size_t c = 0; c < cutoffs.size(); ++c) j["recall@" + std::to_string(cutoffs[c])] = s.recall[c] / n;
  for (std::size_t c = 0; c < cutoffs.size(); ++c) j["ndcg@" + std::to_string(cutoffs[c])] = s.ndcg[c] / n;
  j["mrr"] = s.mrr / n;
  return j;
}

}  // namespace

std::vector<std::string_view> first_occurrences(const std::vector<std::string>& ranked) {
  std::vector<std::string_view> out;
  out.reserve(ranked.size());
  if (ranked.size() <= 32) {  // short lists: a linear scan beats hashing
    for (const std::string& id : ranked) {
      bool seen = false;
      for (std::string_view x : out) {
        if (same_id(x, id)) {
          seen = true;
          break;
        }
      }
      if (!seen) out.emplace_back(id);
    }
    return out;
  }
  std::unordered_set<std::string_view> seen;
  seen.reserve(ranked.size() * 2);
  for (const std::string& id : ranked) {
    if (seen.insert(id).second) out.emplace_back(id);
  }
  return out;
}

double recall_at(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& relevant, int k) {
  check_user(relevant, k);
  return recall_sorted(ranked, sorted_distinct(relevant), k);
}

double ndcg_at(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& relevant, int k) {
  check_user(relevant, k);
  return ndcg_sorted(ranked, sorted_distinct(relevant), k);
}

double reciprocal_rank(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& relevant) {
  check_user(relevant, 1);
  return rr_sorted(ranked, sorted_distinct(relevant));
}

EvalReport evaluate(const std::vector<UserTruth>& truth,
                    const std::unordered_map<std::string, std::vector<std::string>>& rankings,
                    const std::vector<int>& cutoffs, const std::unordered_map<std::string, std::string>& segment_of,
                    const std::vector<std::string>& other_users) {
  if (cutoffs.empty()) throw std::invalid_argument("metrics: no cutoffs K given");
  EvalReport report;
  report.cutoffs = cutoffs;
  report.all = zero_sums(cutoffs.size());

  std::unordered_set<std::string_view> with_clicks, without_clicks;
  with_clicks.reserve(truth.size());
  std::vector<std::string_view> rel;
  std::vector<double> recall(cutoffs.size()), ndcg(cutoffs.size());
  const std::vector<std::string> empty;
  for (const UserTruth& t : truth) {
    if (t.items.empty()) {
      without_clicks.insert(t.user);
      continue;
    }
    if (!with_clicks.insert(t.user).second) throw std::invalid_argument("metrics: user " + t.user + " appears twice in the truth");
    rel.assign(t.items.begin(), t.items.end());
    std::sort(rel.begin(), rel.end());
    rel.erase(std::unique(rel.begin(), rel.end()), rel.end());

    const auto r = rankings.find(t.user);
    if (r == rankings.end()) ++report.without_ranking;
    const std::vector<std::string_view> ranked = first_occurrences(r == rankings.end() ? empty : r->second);

    // One user's scores, computed once and added to the overall and the segment sums.
    for (std::size_t c = 0; c < cutoffs.size(); ++c) {
      recall[c] = recall_sorted(ranked, rel, cutoffs[c]);
      ndcg[c] = ndcg_sorted(ranked, rel, cutoffs[c]);
    }
    const double rr = rr_sorted(ranked, rel);
    MetricSums* seg = nullptr;
    if (!segment_of.empty()) {
      const auto s = segment_of.find(t.user);
      if (s == segment_of.end()) throw std::invalid_argument("metrics: no segment for user " + t.user);
      auto it = report.segments.find(s->second);
      if (it == report.segments.end()) it = report.segments.emplace(s->second, zero_sums(cutoffs.size())).first;
      seg = &it->second;
    }
    for (MetricSums* sums : {&report.all, seg}) {
      if (sums == nullptr) continue;
      ++sums->users;
      for (std::size_t c = 0; c < cutoffs.size(); ++c) {
        sums->recall[c] += recall[c];
        sums->ndcg[c] += ndcg[c];
      }
      sums->mrr += rr;
    }
  }
  // Users seen anywhere without future clicks, each counted once.
  for (const auto& [user, ranked] : rankings) {
    if (!with_clicks.contains(user)) without_clicks.insert(user);
  }
  for (const std::string& user : other_users) {
    if (!with_clicks.contains(user)) without_clicks.insert(user);
  }
  for (std::string_view user : without_clicks) {
    if (!with_clicks.contains(user)) ++report.excluded_no_truth;
  }
  if (!segment_of.empty()) {  // both segments always appear, even when one is empty
    report.segments.try_emplace("cold", zero_sums(cutoffs.size()));
    report.segments.try_emplace("warm", zero_sums(cutoffs.size()));
  }
  return report;
}

nlohmann::ordered_json EvalReport::to_json() const {
  const nlohmann::ordered_json j = means(all, cutoffs);
  nlohmann::ordered_json out = nlohmann::ordered_json::object();
  out["users"] = all.users;
  out["excluded_no_truth"] = excluded_no_truth;
  out["without_ranking"] = without_ranking;
  for (auto& [key, value] : j.items()) {
    if (key != "users") out[key] = value;
  }
  if (!segments.empty()) {
    nlohmann::ordered_json s = nlohmann::ordered_json::object();
    for (const auto& [name, sums] : segments) s[name] = means(sums, cutoffs);
    out["segments"] = s;
  }
  return out;
}

std::string EvalReport::to_table() const {
  std::vector<std::string> columns;
  for (int k : cutoffs) columns.push_back("recall@" + std::to_string(k));
  for (int k : cutoffs) columns.push_back("ndcg@" + std::to_string(k));
  columns.push_back("mrr");
  std::ostringstream out;
  out << std::left << std::setw(8) << "group" << std::right << std::setw(10) << "users";
  for (const std::string& c : columns) out << std::setw(11) << c;
  out << "\n";
  auto row = [&](const std::string& name, const MetricSums& sums) {
    const nlohmann::ordered_json m = means(sums, cutoffs);
    out << std::left << std::setw(8) << name << std::right << std::setw(10) << sums.users << std::fixed
        << std::setprecision(4);
    for (const std::string& c : columns) out << std::setw(11) << m[c].get<double>();
    out << "\n";
  };
  row("all", all);
  for (const auto& [name, sums] : segments) row(name, sums);
  out << excluded_no_truth << " users without future clicks excluded; " << without_ranking
      << " users with future clicks but no ranking scored as zeros\n";
  return out.str();
}

std::vector<int> parse_cutoffs(const std::string& text) {
  std::vector<int> out;
  std::stringstream ss(text);
  std::string part;
  while (std::getline(ss, part, ',')) {
    std::size_t used = 0;
    int k = 0;
    try {
      k = std::stoi(part, &used);
    } catch (const std::exception&) {
      used = 0;
    }
    if (part.empty() || used != part.size() || k <= 0) {
      throw std::invalid_argument("--k: \"" + text + "\" must be positive integers separated by commas, like 5,10");
    }
    out.push_back(k);
  }
  if (out.empty()) throw std::invalid_argument("--k: no cutoff given, like 5,10");
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

}  // namespace newsrl::news
