// Rendering the policy's prompt within its token budget (news/prompt.h).
#include "news/prompt.h"

#include <algorithm>
#include <cmath>
#include <iterator>
#include <stdexcept>
#include <unordered_set>

#include "news/tfidf.h"

namespace newsrl::news {

const char* const kSystemMessage =
    "You read a person's recent activity and write news search queries that name their lasting interests.";

std::string check_prompt_config(const PromptConfig& config) {
  if (config.max_tokens < 1) return "[prompt] max_tokens: must be at least 1";
  for (auto [name, share] : {std::pair{"news_share", config.news_share}, std::pair{"search_share", config.search_share},
                             std::pair{"browse_share", config.browse_share}})
    if (!(share >= 0 && share <= 1)) return std::string("[prompt] ") + name + ": must be between 0 and 1";
  double sum = config.news_share + config.search_share + config.browse_share;
  if (sum > 1 + 1e-9) return "[prompt] news_share + search_share + browse_share: must be at most 1";
  if (sum <= 0) return "[prompt] news_share + search_share + browse_share: must be more than 0";
  return "";
}

namespace {

// The domains in the order their sections appear.
constexpr std::array<Domain, 3> kSectionOrder = {Domain::search, Domain::browse, Domain::news};

const char* heading(Domain d) {
  switch (d) {
    case Domain::search:
      return "Searches (most recent first):\n";
    case Domain::browse:
      return "Pages visited:\n";
    case Domain::news:
      return "News read:\n";
  }
  return "";
}

double share_of(const PromptConfig& config, Domain d) {
  switch (d) {
    case Domain::search:
      return config.search_share;
    case Domain::browse:
      return config.browse_share;
    case Domain::news:
      return config.news_share;
  }
  return 0;
}

std::string instruction(const PromptConfig& config, const ListLimits& limits) {
  std::string text =
      limits.min_queries == limits.max_queries
          ? "Write " + std::to_string(limits.max_queries) + " queries."
          : "Write " + std::to_string(limits.min_queries) + " to " + std::to_string(limits.max_queries) + " queries.";
  if (config.reasoning)
    text += " You may first write one line 'Reasoning: ' of at most " + std::to_string(limits.max_reasoning_words) +
            " words.";
  return text;
}

struct Candidate {
  std::string line;  // "- text\n"
  int cost = 0;      // its tokens
  bool kept = false;
  std::size_t event = 0;  // its index in user.events
};

std::string assemble(const std::array<std::vector<Candidate>, 3>& lines, const std::string& ask, bool empty) {
  std::string text = "<|im_start|>system\n";
  text += kSystemMessage;
  text += "<|im_end|>\n<|im_start|>user\n";
  if (empty) text += "No recent activity.\n";
  for (Domain d : kSectionOrder) {
    const auto& list = lines[static_cast<std::size_t>(d)];
    bool any = false;
    for (const Candidate& c : list) any = any || c.kept;
    if (!any) continue;
    text += heading(d);
    for (const Candidate& c : list)
      if (c.kept) text += c.line;
  }
  text += ask;
  text += "<|im_end|>\n<|im_start|>assistant\n";
  return text;
}

int count_tokens(const models::Tokenizer& tokenizer, const std::string& text) {
  return static_cast<int>(tokenizer.encode(text).size());
}

// Keeps the domain's lines, most recent first, that fit in `budget` (a line
// that does not fit is skipped, a shorter older one may still fit); returns the tokens used.
int take_lines(std::vector<Candidate>& list, int budget) {
  int used = 0;
  for (Candidate& c : list) {
    if (c.kept || c.cost > budget - used) continue;
    c.kept = true;
    used += c.cost;
  }
  return used;
}

bool has_waiting(const std::vector<Candidate>& list, int budget) {
  for (const Candidate& c : list)
    if (!c.kept && c.cost <= budget) return true;
  return false;
}

}  // namespace

RenderedPrompt render_prompt(const User& user, const NewsTitles& titles, const models::Tokenizer& tokenizer,
                             const PromptConfig& config, const ListLimits& limits) {
  if (std::string problem = check_prompt_config(config); !problem.empty()) throw std::invalid_argument(problem);
  if (std::string problem = check_limits(limits); !problem.empty()) throw std::invalid_argument(problem);
  RenderedPrompt out;
  const std::string ask = instruction(config, limits);

  // Each domain's distinct lines, most recent first.
  std::array<std::vector<Candidate>, 3> lines;
  std::array<std::unordered_set<std::string>, 3> seen;
  for (auto e = user.events.rbegin(); e != user.events.rend(); ++e) {
    auto d = static_cast<std::size_t>(e->domain);
    std::string text = signal_text(*e, titles);
    if (config.lowercase) text = lowercase_text(text);
    if (text.empty()) {
      ++out.lines[d].blank;
    } else if (!seen[d].insert(query_key(text)).second) {
      ++out.lines[d].duplicates;
    } else {
      Candidate c;
      c.line = "- " + text + "\n";
      c.cost = count_tokens(tokenizer, c.line);
      c.event = static_cast<std::size_t>(std::distance(e, user.events.rend()) - 1);
      lines[d].push_back(std::move(c));
    }
  }
  out.empty = lines[0].empty() && lines[1].empty() && lines[2].empty();

  // The fixed text with every heading counts against the budget; the rest is the lines'.
  std::string frame = assemble({}, ask, out.empty);
  for (Domain d : kSectionOrder) frame += heading(d);
  const int fixed = count_tokens(tokenizer, frame);
  if (fixed > config.max_tokens)
    throw std::invalid_argument("[prompt] max_tokens: " + std::to_string(config.max_tokens) +
                                " cannot hold the prompt's fixed text (" + std::to_string(fixed) + " tokens)");
  const int budget = config.max_tokens - fixed;

  // Each domain's own share first; then what is left flows to the domains
  // that still have lines, in proportion to their shares, until nothing more
  // fits; a last pass lets any remaining line that fits in.
  int used = 0;
  for (Domain d : kSectionOrder)
    used += take_lines(lines[static_cast<std::size_t>(d)], static_cast<int>(std::floor(share_of(config, d) * budget)));
  while (true) {
    const int pool = budget - used;
    double hungry_share = 0;
    for (Domain d : kSectionOrder)
      if (has_waiting(lines[static_cast<std::size_t>(d)], pool)) hungry_share += share_of(config, d);
    if (hungry_share <= 0) break;
    int taken = 0;
    for (Domain d : kSectionOrder) {
      auto& list = lines[static_cast<std::size_t>(d)];
      if (!has_waiting(list, pool)) continue;
      taken += take_lines(list, static_cast<int>(std::floor(share_of(config, d) / hungry_share * pool)));
    }
    used += taken;
    if (taken == 0) {
      for (Domain d : kSectionOrder) used += take_lines(lines[static_cast<std::size_t>(d)], budget - used);
      break;
    }
  }

  // Tokens of a whole text can differ from the sum of its lines' by a few at
  // the lines' joins; drop the oldest kept line of the longest domain until it fits.
  out.text = assemble(lines, ask, out.empty);
  out.tokens = count_tokens(tokenizer, out.text);
  while (out.tokens > config.max_tokens) {
    std::vector<Candidate>* longest = nullptr;
    int longest_cost = 0;
    for (Domain d : kSectionOrder) {
      auto& list = lines[static_cast<std::size_t>(d)];
      int cost = 0;
      for (const Candidate& c : list) cost += c.kept ? c.cost : 0;
      if (cost > longest_cost) longest = &list, longest_cost = cost;
    }
    if (longest == nullptr) break;  // cannot happen: the fixed text fits
    for (auto c = longest->rbegin(); c != longest->rend(); ++c)
      if (c->kept) {
        c->kept = false;
        break;
      }
    out.text = assemble(lines, ask, out.empty);
    out.tokens = count_tokens(tokenizer, out.text);
  }
  for (std::size_t d = 0; d < 3; ++d) {
    for (const Candidate& c : lines[d]) {
      ++(c.kept ? out.lines[d].kept : out.lines[d].dropped);
      if (c.kept) out.shown_events.push_back(c.event);
    }
  }
  std::sort(out.shown_events.begin(), out.shown_events.end());
  return out;
}

}  // namespace newsrl::news
