#include "launch/sft_data_command.h"

#include <iostream>

#include "launch/config.h"
#include "launch/prompt_keys.h"
#include "models/tokenizer.h"
#include "news/news_index.h"
#include "news/sft_data.h"

namespace newsrl::launch {

namespace {

struct Flags {
  std::string world, index, tokenizer, out, config;
  bool max_tokens_given = false, max_queries_given = false;
  std::int64_t max_users = 0;
  int max_tokens = 384, max_queries = 6;
  bool reasoning = false;
};

int sft_data(const Flags& f) {
  const models::Tokenizer tokenizer = models::Tokenizer::load(f.tokenizer);
  const news::NewsIndex index = news::NewsIndex::load(f.index);
  news::SftDataOptions o;
  o.max_users = f.max_users;
  if (!f.config.empty()) {
    // The [prompt] table GRPO and evaluation read, so all three render the same prompts.
    const PromptKeys keys = read_prompt_config(load_config(f.config), f.config);
    o.prompt = keys.prompt;
    o.limits = keys.limits;
  }
  if (f.config.empty() || f.max_tokens_given) o.prompt.max_tokens = f.max_tokens;
  if (f.config.empty() || f.max_queries_given) o.limits.max_queries = f.max_queries;
  if (f.reasoning) o.limits.allow_reasoning = true;
  news::SftDataStats st;
  const std::vector<news::SftExample> examples = news::build_sft_examples(f.world, index.embedder(), tokenizer, o, &st);
  if (examples.empty()) throw std::invalid_argument(f.world + ": no user gave an example (no signals, or no target)");
  news::write_sft_examples(examples, f.out);
  std::cout << "wrote " << f.out << ": " << st.examples << " examples from " << st.users << " users ("
            << st.empty_signals << " without signals after cleaning, " << st.no_target << " without a target); "
            << "prompt " << static_cast<long>(st.prompt_tokens + 0.5) << " and target "
            << static_cast<long>(st.target_tokens + 0.5) << " tokens on average\n";
  return 0;
}

}  // namespace

Runner add_sft_data_command(CLI::App& data) {
  auto f = std::make_shared<Flags>();
  CLI::App* sft = data.add_subcommand(
      "sft",
      "The warm start's examples: each user's prompt (cleaned signals) and the extractive labeller's query list as "
      "the target, as token ids in JSONL (docs/prompt-and-grammar.md)");
  sft->add_option("--world", f->world, "Dataset folder (news.jsonl, users.jsonl, split.json)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sft->add_option("--index", f->index, "Index folder from `newsrl index build` (its embedder clusters the signals)")
      ->required()
      ->check(CLI::ExistingDirectory);
  sft->add_option("--tokenizer", f->tokenizer, "tokenizer.json (with <|im_start|> and <|im_end|>)")
      ->required()
      ->check(CLI::ExistingFile);
  sft->add_option("--out", f->out, "Output JSONL")->required();
  sft->add_option("--max-users", f->max_users, "Stop after this many users (0: all)")->check(CLI::NonNegativeNumber);
  sft->add_option("--config", f->config, "Run config (TOML): its [prompt] table, as train grpo and eval policy read it")
      ->check(CLI::ExistingFile);
  sft->add_option("--max-tokens", f->max_tokens, "Prompt budget, tokens (overrides [prompt])")
      ->check(CLI::Range(64, 1 << 20))
      ->each([f](const std::string&) { f->max_tokens_given = true; });
  sft->add_option("--max-queries", f->max_queries, "Queries per list at most (overrides [prompt])")
      ->check(CLI::Range(1, 32))
      ->each([f](const std::string&) { f->max_queries_given = true; });
  sft->add_flag("--reasoning", f->reasoning, "Allow a Reasoning: line in the output grammar");
  return [=]() -> std::optional<int> {
    if (*sft) return sft_data(*f);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
