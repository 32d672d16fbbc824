// Ranking metrics for news recommendation: Recall@K, NDCG@K and MRR of a
// ranked list of article ids against a user's future clicks, averaged over
// users and per segment (cold/warm). docs/metrics.md defines every rule.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

namespace newsrl::news {

// The ranked list with later duplicates removed (first occurrence kept).
std::vector<std::string_view> first_occurrences(const std::vector<std::string>& ranked);

// One user's scores. `ranked` must be free of duplicates (see first_occurrences);
// `relevant` holds the distinct future clicks and must not be empty.
double recall_at(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& relevant, int k);
double ndcg_at(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& relevant, int k);
double reciprocal_rank(const std::vector<std::string_view>& ranked, const std::vector<std::string_view>& relevant);

// Sums of per-user scores over a group of users; means on demand.
struct MetricSums {
  std::int64_t users = 0;
  std::vector<double> recall, ndcg;  // one per cutoff, in the order of the cutoffs
  double mrr = 0;
};

struct EvalReport {
  std::vector<int> cutoffs;               // the K values, ascending, distinct
  std::int64_t excluded_no_truth = 0;     // users seen (ranking or users file) without future clicks
  std::int64_t without_ranking = 0;       // users with future clicks but no ranking: scored 0
  MetricSums all;
  std::map<std::string, MetricSums> segments;  // "cold", "warm" when segments were given

  // {"users":…,"excluded_no_truth":…,"recall@5":…,…,"mrr":…,"segments":{…}}
  nlohmann::ordered_json to_json() const;  // keys in the order above
  // A readable table: one row per group (all, cold, warm), one column per metric.
  std::string to_table() const;
};

struct UserTruth {
  std::string user;
  std::vector<std::string> items;  // future clicks in click order; repeats count once
};

// Scores every user of `truth` against `rankings` (user -> ranked ids).
// `segment_of` (user -> segment name) is optional: empty means no segments;
// otherwise every truth user with future clicks must have a segment.
// `other_users` are users known from elsewhere (e.g. users.jsonl); those
// without future clicks count towards excluded_no_truth like ranked ones.
EvalReport evaluate(const std::vector<UserTruth>& truth,
                    const std::unordered_map<std::string, std::vector<std::string>>& rankings,
                    const std::vector<int>& cutoffs,
                    const std::unordered_map<std::string, std::string>& segment_of = {},
                    const std::vector<std::string>& other_users = {});

// cold: at most `cold_max` news events in the train window; warm: more.
inline const char* segment_for_news_events(std::int64_t news_events, std::int64_t cold_max = 3) {
  return news_events <= cold_max ? "cold" : "warm";
}

// "5,10" -> {5, 10}, sorted and distinct; one clear line when malformed.
std::vector<int> parse_cutoffs(const std::string& text);

}  // namespace newsrl::news
