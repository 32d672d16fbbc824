// The extractive labeller (news/labeller.h).
#include "news/labeller.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <unordered_map>
#include <unordered_set>

#include "news/kmeans.h"
#include "news/stopwords.h"
#include "news/tfidf.h"

namespace newsrl::news {

int label_cluster_count(std::size_t n, int max_queries) {
  if (n == 0) return 0;
  int k = static_cast<int>(std::lround(std::sqrt(static_cast<double>(n) / 2.0)));
  return std::clamp(k, 1, std::max(1, max_queries));
}

std::string salient_phrase(const std::vector<std::string>& texts, const WordIdf& idf, int max_words,
                           const LabellerOptions& options) {
  // Per text, each candidate word's first position in it.
  std::vector<std::unordered_map<std::string, std::size_t>> where(texts.size());
  std::map<std::string, int> holding;  // word -> texts holding it (ordered: ties break by the word)
  for (std::size_t t = 0; t < texts.size(); ++t) {
    std::vector<std::u32string> words = split_words(texts[t]);
    for (std::size_t i = 0; i < words.size(); ++i) {
      std::string w = to_utf8(words[i]);
      if (is_stop_word(w) || looks_like_noise(w) || !idf.known(w)) continue;
      if (where[t].emplace(w, i).second) ++holding[w];
    }
  }
  struct Scored {
    std::string word;
    double weight;
  };
  std::vector<Scored> scored;
  for (const auto& [word, count] : holding) scored.push_back({word, count * idf.idf(word)});
  std::stable_sort(scored.begin(), scored.end(), [](const Scored& a, const Scored& b) { return a.weight > b.weight; });
  if (scored.empty()) return "";

  // The heaviest words: at least min_phrase_words, then while they weigh at
  // least keep_ratio of the top word.
  const int limit = std::min(max_words, options.max_phrase_words);
  std::vector<std::string> chosen;
  for (const Scored& s : scored) {
    if (static_cast<int>(chosen.size()) >= limit) break;
    if (static_cast<int>(chosen.size()) >= options.min_phrase_words &&
        s.weight < options.keep_ratio * scored.front().weight)
      break;
    chosen.push_back(s.word);
  }

  // The order the words most often take: a word scores one for each text in
  // which it comes before another chosen word, minus one for each in which it
  // comes after; the highest score first (ties: the heavier word).
  std::vector<std::pair<int, std::size_t>> order;  // (-score, rank by weight)
  for (std::size_t a = 0; a < chosen.size(); ++a) {
    int score = 0;
    for (std::size_t b = 0; b < chosen.size(); ++b) {
      if (a == b) continue;
      for (const auto& w : where) {
        auto pa = w.find(chosen[a]), pb = w.find(chosen[b]);
        if (pa == w.end() || pb == w.end()) continue;
        score += pa->second < pb->second ? 1 : -1;
      }
    }
    order.emplace_back(-score, a);
  }
  std::sort(order.begin(), order.end());
  std::string phrase;
  for (const auto& [score, a] : order) phrase += (phrase.empty() ? "" : " ") + chosen[a];
  return phrase;
}

std::optional<Label> label_user(const User& user, const NewsTitles& titles, const Embedder& embedder,
                                const WordIdf& idf, const ListLimits& limits, const LabellerOptions& options) {
  if (std::string problem = check_limits(limits); !problem.empty()) throw std::invalid_argument(problem);
  std::vector<std::string> all = signal_texts(user, titles);
  if (all.empty()) return std::nullopt;

  // Texts with no known feature embed as zeros and would form a cluster of
  // their own: they are left out.
  const int dim = embedder.dim();
  std::vector<float> embedded = embedder.embed(all);
  std::vector<std::string> texts;
  std::vector<float> rows;
  for (std::size_t i = 0; i < all.size(); ++i) {
    const float* r = embedded.data() + i * static_cast<std::size_t>(dim);
    if (std::all_of(r, r + dim, [](float v) { return v == 0.0f; })) continue;
    texts.push_back(all[i]);
    rows.insert(rows.end(), r, r + dim);
  }
  if (texts.empty()) return std::nullopt;

  KMeansOptions km;
  km.k = label_cluster_count(texts.size(), limits.max_queries);
  km.iterations = options.iterations;
  km.seed = options.seed;
  KMeansResult clusters = kmeans(rows, dim, km);

  // Largest cluster first; equal sizes by the cluster whose first text comes first.
  std::vector<int> first(static_cast<std::size_t>(clusters.k), static_cast<int>(texts.size()));
  for (std::size_t i = texts.size(); i-- > 0;)
    first[static_cast<std::size_t>(clusters.assignment[i])] = static_cast<int>(i);
  std::vector<int> order(static_cast<std::size_t>(clusters.k));
  for (int c = 0; c < clusters.k; ++c) order[static_cast<std::size_t>(c)] = c;
  std::sort(order.begin(), order.end(), [&](int a, int b) {
    auto ua = static_cast<std::size_t>(a), ub = static_cast<std::size_t>(b);
    if (clusters.sizes[ua] != clusters.sizes[ub]) return clusters.sizes[ua] > clusters.sizes[ub];
    return first[ua] < first[ub];
  });

  Label label;
  std::unordered_set<std::string> seen;
  for (int c : order) {
    if (static_cast<int>(label.queries.size()) >= limits.max_queries) break;
    if (clusters.sizes[static_cast<std::size_t>(c)] == 0) continue;
    std::vector<std::string> members;
    for (std::size_t i = 0; i < texts.size(); ++i)
      if (clusters.assignment[i] == c) members.push_back(texts[i]);
    std::string phrase = salient_phrase(members, idf, limits.max_query_words, options);
    if (phrase.empty() || !seen.insert(query_key(phrase)).second) continue;
    label.queries.push_back(std::move(phrase));
  }
  if (static_cast<int>(label.queries.size()) < limits.min_queries) return std::nullopt;
  label.completion = render_completion(label.queries, "", limits);
  return label;
}

}  // namespace newsrl::news
