#include "news/sft_data.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace newsrl::news {

LabellerCorpus read_labeller_corpus(const std::string& dataset) {
  const std::filesystem::path dir(dataset);
  LabellerCorpus c;
  c.split = *read_split((dir / kSplitFile).string());  // read_split throws without a sink
  std::vector<std::string> documents;
  for (const Article& a : load_news((dir / kNewsFile).string(), &c.split)) {
    if (a.published >= c.split.train.start && a.published < c.split.train.end) documents.push_back(a.title + " " + a.abstract);
    c.titles[a.id] = a.title;
  }
  c.idf = WordIdf::fit(documents);
  return c;
}

PromptLabel label_for_prompt(const User& cleaned, const LabellerCorpus& corpus, const Embedder& embedder,
                             const models::Tokenizer& tokenizer, const SftDataOptions& o) {
  PromptLabel out;
  out.prompt = render_prompt(cleaned, corpus.titles, tokenizer, o.prompt, o.limits);
  // The label is made from what the prompt shows: a list the policy could
  // not have derived from its input would teach it to make things up.
  User visible{cleaned.id, {}};
  for (std::size_t i : out.prompt.shown_events) visible.events.push_back(cleaned.events[i]);
  out.label = label_user(visible, corpus.titles, embedder, corpus.idf, o.limits, o.labeller);
  return out;
}

std::vector<SftExample> build_sft_examples(const std::string& dataset, const Embedder& embedder,
                                           const models::Tokenizer& tokenizer, const SftDataOptions& o,
                                           SftDataStats* stats) {
  const LabellerCorpus corpus = read_labeller_corpus(dataset);
  CheckContext context;
  context.split = &corpus.split;
  const std::vector<User> users = load_users((std::filesystem::path(dataset) / kUsersFile).string(), context);
  SftDataStats st;
  std::vector<SftExample> out;
  for (const User& raw : users) {
    if (o.max_users > 0 && st.users >= o.max_users) break;
    ++st.users;
    const User user = cleaned_signals(raw);
    if (user.events.empty()) {
      ++st.empty_signals;
      continue;
    }
    const PromptLabel made = label_for_prompt(user, corpus, embedder, tokenizer, o);
    if (!made.label) {
      ++st.no_target;
      continue;
    }
    SftExample e{user.id, tokenizer.encode(made.prompt.text), tokenizer.encode(made.label->completion)};
    st.prompt_tokens += static_cast<double>(e.prompt.size());
    st.target_tokens += static_cast<double>(e.target.size());
    out.push_back(std::move(e));
  }
  st.examples = static_cast<std::int64_t>(out.size());
  if (st.examples > 0) {
    st.prompt_tokens /= static_cast<double>(st.examples);
    st.target_tokens /= static_cast<double>(st.examples);
  }
  if (stats != nullptr) *stats = st;
  return out;
}

void write_sft_examples(const std::vector<SftExample>& examples, const std::string& path) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::invalid_argument(path + ": cannot write");
    for (const SftExample& e : examples) {
      out << nlohmann::json{{"user", e.user}, {"prompt", e.prompt}, {"target", e.target}}.dump() << "\n";
    }
    if (!out) throw std::invalid_argument(path + ": write failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace newsrl::news
