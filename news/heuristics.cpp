// The popular and recent-searches recall paths (news/heuristics.h).
#include "news/heuristics.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <stdexcept>
#include <unordered_map>
#include <unordered_set>

namespace newsrl::news {

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::size_t kQueryBatch = 4096;  // queries embedded and searched at a time

std::string in_dir(const std::string& dir, const char* file) { return (std::filesystem::path(dir) / file).string(); }

}  // namespace

HeuristicInput read_heuristic_input(const std::string& world_dir, const HeuristicOptions& options) {
  if (options.recent_days < 1 || options.max_searches < 1) {
    throw std::invalid_argument("heuristics: recent days and searches per user must be positive");
  }
  HeuristicInput in;
  const std::optional<Split> split = read_split(in_dir(world_dir, kSplitFile));
  in.split = *split;  // read_split throws without a sink
  in.news = load_news(in_dir(world_dir, kNewsFile));
  std::unordered_map<std::string, const Article*> by_id;
  for (const Article& a : in.news) by_id.emplace(a.id, &a);

  const std::int64_t recent_start = in.split.train.end - static_cast<std::int64_t>(options.recent_days) * kDay;
  UsersReader reader(in_dir(world_dir, kUsersFile));
  User user;
  while (reader.next(user)) {
    std::vector<std::string> searches;
    std::int64_t news_events = 0;
    for (auto e = user.events.rbegin(); e != user.events.rend(); ++e) {  // newest first
      if (e->domain == Domain::search && static_cast<int>(searches.size()) < options.max_searches &&
          std::find(searches.begin(), searches.end(), e->text) == searches.end()) {
        searches.push_back(e->text);
      }
      if (e->domain == Domain::news) {
        ++news_events;  // events lie in the train window (schema), as is_cold counts them
        if (e->time >= recent_start && e->time < in.split.train.end) {
          const auto a = by_id.find(e->news);
          if (a != by_id.end()) ++in.subtopic_clicks[a->second->subcategory];
        }
      }
    }
    in.users.push_back(user.id);
    in.recent_searches.push_back(std::move(searches));
    in.news_events.push_back(news_events);
  }
  return in;
}

std::vector<std::string> popular_list(const HeuristicInput& input, int length) {
  // Candidates: articles published in the test window, grouped by subtopic,
  // earliest first within a subtopic (the longest on the site, so the most
  // time to be clicked). Subtopics take turns by the D'Hondt rule: the next
  // slot goes to the subtopic with the most recent clicks per slot already
  // taken + 1, so the list mirrors the share of clicks across subtopics.
  std::map<std::string, std::vector<const Article*>> by_subtopic;
  for (const Article& a : input.news) {
    if (input.split.test.contains(a.published)) by_subtopic[a.subcategory].push_back(&a);
  }
  for (auto& [name, list] : by_subtopic) {
    std::sort(list.begin(), list.end(), [](const Article* a, const Article* b) {
      return a->published != b->published ? a->published < b->published : a->id < b->id;
    });
  }
  struct Queue {
    std::string subtopic;
    std::int64_t clicks;
    std::size_t taken = 0;
    const std::vector<const Article*>* articles;
  };
  std::vector<Queue> queues;
  std::vector<const Article*> unclicked;  // subtopics nobody clicked recently: after the others, earliest first
  for (const auto& [name, list] : by_subtopic) {
    const auto c = input.subtopic_clicks.find(name);
    if (c != input.subtopic_clicks.end() && c->second > 0) {
      queues.push_back({name, c->second, 0, &list});
    } else {
      unclicked.insert(unclicked.end(), list.begin(), list.end());
    }
  }
  std::vector<std::string> out;
  while (static_cast<int>(out.size()) < length) {
    Queue* best = nullptr;
    for (Queue& q : queues) {
      if (q.taken >= q.articles->size()) continue;
      // compare clicks/(taken+1) exactly: a/b > c/d  <=>  a*d > c*b
      if (best == nullptr ||
          q.clicks * static_cast<std::int64_t>(best->taken + 1) > best->clicks * static_cast<std::int64_t>(q.taken + 1)) {
        best = &q;  // ties keep the earlier subtopic in name order
      }
    }
    if (best == nullptr) break;
    out.push_back((*best->articles)[best->taken++]->id);
  }
  std::sort(unclicked.begin(), unclicked.end(), [](const Article* a, const Article* b) {
    return a->published != b->published ? a->published < b->published : a->id < b->id;
  });
  for (const Article* a : unclicked) {
    if (static_cast<int>(out.size()) >= length) break;
    out.push_back(a->id);
  }
  return out;
}

std::vector<Ranking> popular_rankings(const HeuristicInput& input, int length) {
  const std::vector<std::string> list = popular_list(input, length);
  std::vector<Ranking> out;
  out.reserve(input.users.size());
  for (const std::string& user : input.users) out.push_back({user, list});
  return out;
}

std::vector<std::string> merge_round_robin(const std::vector<std::vector<std::string>>& lists, int length) {
  std::vector<std::string> out;
  std::unordered_set<std::string> taken;
  std::size_t longest = 0;
  for (const auto& l : lists) longest = std::max(longest, l.size());
  for (std::size_t rank = 0; rank < longest && static_cast<int>(out.size()) < length; ++rank) {
    for (const auto& l : lists) {
      if (rank >= l.size() || static_cast<int>(out.size()) >= length) continue;
      if (taken.insert(l[rank]).second) out.push_back(l[rank]);
    }
  }
  return out;
}

std::vector<Ranking> recent_search_rankings(const HeuristicInput& input, const NewsIndex& index, int length,
                                            const std::string& window) {
  if (length < 1) throw std::invalid_argument("heuristics: the ranking length must be positive");
  std::vector<Ranking> out;
  out.reserve(input.users.size());
  // Users a batch at a time (about kQueryBatch queries), so that memory does
  // not grow with the number of users: embed, search, merge, next batch.
  std::size_t u = 0;
  while (u < input.users.size()) {
    std::vector<std::string> queries;
    std::vector<std::size_t> first_query;  // per user of the batch, then the end
    const std::size_t batch_begin = u;
    while (u < input.users.size() && (queries.empty() || queries.size() < kQueryBatch)) {
      first_query.push_back(queries.size());
      queries.insert(queries.end(), input.recent_searches[u].begin(), input.recent_searches[u].end());
      ++u;
    }
    first_query.push_back(queries.size());
    const auto hits = index.search(queries, length, window);
    for (std::size_t b = 0; b + 1 < first_query.size(); ++b) {
      std::vector<std::vector<std::string>> lists;
      for (std::size_t q = first_query[b]; q < first_query[b + 1]; ++q) {
        std::vector<std::string>& ids = lists.emplace_back();
        for (const IndexHit& h : hits[q]) ids.push_back(index.articles()[static_cast<std::size_t>(h.row)].id);
      }
      out.push_back({input.users[batch_begin + b], merge_round_robin(lists, length)});
    }
  }
  return out;
}

}  // namespace newsrl::news
