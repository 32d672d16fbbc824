// The labeller's lists as rankings (news/labeller_rankings.h).
#include "news/labeller_rankings.h"

#include <filesystem>
#include <stdexcept>

#include "news/heuristics.h"

namespace newsrl::news {

std::vector<Ranking> labeller_rankings(const std::string& dataset, const NewsIndex& index,
                                       const models::Tokenizer& tokenizer, const SftDataOptions& options, int length,
                                       LabellerRankingStats* stats) {
  if (length < 1) throw std::invalid_argument("labeller: the ranking length must be positive");
  const LabellerCorpus corpus = read_labeller_corpus(dataset);
  CheckContext context;
  context.split = &corpus.split;
  UsersReader reader((std::filesystem::path(dataset) / kUsersFile).string(), {}, context);
  // The queries stand in for the user's own searches: retrieval and merging
  // are recent-searches' code, as `eval policy` does with a policy's lists.
  HeuristicInput queries;
  LabellerRankingStats st;
  User raw;
  while (reader.next(raw)) {
    ++st.users;
    queries.users.push_back(raw.id);
    std::vector<std::string>& list = queries.recent_searches.emplace_back();
    const User user = cleaned_signals(raw);
    if (user.events.empty()) {
      ++st.empty_signals;
      continue;
    }
    const PromptLabel made = label_for_prompt(user, corpus, index.embedder(), tokenizer, options);
    if (!made.label) {
      ++st.no_label;
      continue;
    }
    ++st.labelled;
    list = made.label->queries;
  }
  if (stats != nullptr) *stats = st;
  return recent_search_rankings(queries, index, length, "test");
}

}  // namespace newsrl::news
