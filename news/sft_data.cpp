#include "news/sft_data.h"

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "news/schema.h"
#include "news/signals.h"
#include "news/word_idf.h"

namespace newsrl::news {

std::vector<SftExample> build_sft_examples(const std::string& dataset, const Embedder& embedder,
                                           const models::Tokenizer& tokenizer, const SftDataOptions& o,
                                           SftDataStats* stats) {
  namespace fs = std::filesystem;
  const fs::path dir(dataset);
  const std::optional<Split> split = read_split((dir / "split.json").string());
  const std::vector<Article> news = load_news((dir / "news.jsonl").string(), &*split);
  NewsTitles titles;
  std::vector<std::string> corpus;
  for (const Article& a : news) {
    titles[a.id] = a.title;
    if (a.published >= split->train.start && a.published < split->train.end) corpus.push_back(a.title + " " + a.abstract);
  }
  const WordIdf idf = WordIdf::fit(corpus);
  CheckContext context;
  context.split = &*split;
  const std::vector<User> users = load_users((dir / "users.jsonl").string(), context);
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
    // The target is made from what the prompt shows: a list the policy could
    // not have derived from its input would teach it to make things up.
    const RenderedPrompt prompt = render_prompt(user, titles, tokenizer, o.prompt, o.limits);
    User visible{user.id, {}};
    for (std::size_t i : prompt.shown_events) visible.events.push_back(user.events[i]);
    const std::optional<Label> label = label_user(visible, titles, embedder, idf, o.limits, o.labeller);
    if (!label) {
      ++st.no_target;
      continue;
    }
    SftExample e{user.id, tokenizer.encode(prompt.text), tokenizer.encode(label->completion)};
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
