#include "news/llm_judge.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

#include "models/generation.h"
#include "models/model_file.h"

namespace newsrl::news {
namespace {

std::string one_line(std::string text) {
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  return text;
}

std::string prompt_head() {
  return "<|im_start|>system\nYou judge lists of news search queries written for a person from their recent "
         "activity. Answer each question with yes or no.<|im_end|>\n<|im_start|>user\nThe person's recent activity "
         "(most recent first):\n";
}

std::string prompt_tail(const std::vector<std::string>& queries, const std::string& question) {
  std::string s = "Queries:\n";
  for (std::size_t i = 0; i < queries.size(); ++i) s += std::to_string(i + 1) + ". " + one_line(queries[i]) + "\n";
  return s + "Question: " + question + " Answer yes or no.<|im_end|>\n<|im_start|>assistant\nAnswer:";
}

std::int32_t single_token(const models::Tokenizer& tokenizer, const std::string& text) {
  const std::vector<std::int32_t> ids = tokenizer.encode(text);
  if (ids.size() != 1) {
    throw std::invalid_argument("llm judge: \"" + text + "\" is " + std::to_string(ids.size()) +
                                " tokens in this tokenizer; the judge needs \" yes\" and \" no\" to be one token each");
  }
  return ids[0];
}

}  // namespace

LlmJudge::LlmJudge(models::CausalLM model, models::Tokenizer tokenizer, std::vector<RubricCriterion> criteria,
                   int max_prompt_tokens)
    : model_(std::move(model)), tokenizer_(std::move(tokenizer)), criteria_(std::move(criteria)) {
  if (tokenizer_.vocab_size() > model_.config().vocab_size) {
    throw std::invalid_argument("llm judge: the tokenizer has " + std::to_string(tokenizer_.vocab_size()) +
                                " ids, the model only " + std::to_string(model_.config().vocab_size));
  }
  yes_ = single_token(tokenizer_, " yes");
  no_ = single_token(tokenizer_, " no");
  for (const RubricCriterion& c : criteria_) {
    if ((c.reward != "cov" && c.reward != "spec") || c.question.empty() || !(c.weight >= 0))
      throw std::invalid_argument("llm judge: criterion \"" + c.question +
                                  "\" needs reward cov or spec and a weight >= 0");
  }
  const std::int64_t context = model_.config().max_position_embeddings - 1;  // room for the answer token
  budget_ = static_cast<int>(std::min<std::int64_t>(max_prompt_tokens, context));
  if (budget_ < 1) throw std::invalid_argument("llm judge: max_prompt_tokens must be positive");
}

LlmJudge LlmJudge::load(const JudgeConfig& config) {
  // A missing or damaged file is a bad input like the others: one line, one exception type.
  try {
    models::Tokenizer tokenizer = models::Tokenizer::load(config.tokenizer);
    return LlmJudge(models::load_model(config.checkpoint), std::move(tokenizer), config.criteria,
                    config.max_prompt_tokens);
  } catch (const std::invalid_argument&) {
    throw;
  } catch (const std::exception& e) {
    throw std::invalid_argument(std::string("llm judge: ") + e.what());
  }
}

std::vector<std::int32_t> LlmJudge::prompt(const std::vector<std::string>& signals,
                                           const std::vector<std::string>& queries, const std::string& question) const {
  const std::string head = prompt_head(), tail = prompt_tail(queries, question);
  // Count the pieces apart to find how many signals fit, then encode the
  // whole text once; BPE may join tokens across a piece boundary, so drop
  // signals until the whole text fits too.
  std::size_t used = tokenizer_.encode(head).size() + tokenizer_.encode(tail).size();
  // Signals come in event order; the newest are listed first and kept longest.
  auto newest = [&](std::size_t i) -> const std::string& { return signals[signals.size() - 1 - i]; };
  std::size_t count = 0;
  while (count < signals.size()) {
    const std::size_t line = tokenizer_.encode("- " + one_line(newest(count)) + "\n").size();
    if (used + line > static_cast<std::size_t>(budget_)) break;
    used += line;
    ++count;
  }
  for (;;) {
    std::string text = head;
    for (std::size_t i = 0; i < count; ++i) text += "- " + one_line(newest(i)) + "\n";
    text += tail;
    std::vector<std::int32_t> ids = tokenizer_.encode(text);
    if (ids.size() <= static_cast<std::size_t>(budget_)) return ids;
    if (count == 0) {
      throw std::invalid_argument("llm judge: the prompt for this list is " + std::to_string(ids.size()) +
                                  " tokens without any signal; the budget is " + std::to_string(budget_) +
                                  " (rewards.judge.max_prompt_tokens, or the model's context)");
    }
    --count;
  }
}

std::vector<double> LlmJudge::yes_shares(const std::vector<std::vector<std::int32_t>>& prompts) {
  const std::vector<std::vector<std::int32_t>> answer(prompts.size(), std::vector<std::int32_t>{yes_});
  const std::vector<models::Scored> scored = models::score(model_, prompts, answer, /*full_rows=*/true);
  std::vector<double> out;
  for (const models::Scored& s : scored) {
    const float* row = s.rows.data<float>();
    const double yes = row[static_cast<std::size_t>(yes_)], no = row[static_cast<std::size_t>(no_)];
    out.push_back(1.0 / (1.0 + std::exp(no - yes)));  // p_yes / (p_yes + p_no) from log-probabilities
  }
  return out;
}

LlmJudge::Verdict LlmJudge::judge(const std::vector<std::string>& signals, const std::vector<std::string>& queries,
                                  bool want_cov, bool want_spec) {
  Verdict v;
  v.criteria.assign(criteria_.size(), std::numeric_limits<double>::quiet_NaN());
  if (queries.empty()) return v;  // nothing to judge: both 0, as in the rubric judge
  std::vector<std::size_t> asked;
  std::vector<std::vector<std::int32_t>> prompts;
  for (std::size_t i = 0; i < criteria_.size(); ++i) {
    const RubricCriterion& c = criteria_[i];
    if (c.weight <= 0 || (c.reward == "cov" ? !want_cov : !want_spec)) continue;
    asked.push_back(i);
    prompts.push_back(prompt(signals, queries, c.question));
  }
  const std::vector<double> shares = yes_shares(prompts);
  double cov_sum = 0, cov_w = 0, spec_sum = 0, spec_w = 0;
  for (std::size_t j = 0; j < asked.size(); ++j) {
    const RubricCriterion& c = criteria_[asked[j]];
    v.criteria[asked[j]] = shares[j];
    (c.reward == "cov" ? cov_sum : spec_sum) += c.weight * shares[j];
    (c.reward == "cov" ? cov_w : spec_w) += c.weight;
  }
  if ((want_cov && cov_w <= 0) || (want_spec && spec_w <= 0))
    throw std::invalid_argument(std::string("llm judge: no criterion for ") +
                                (want_cov && cov_w <= 0 ? "cov" : "spec") + " has a positive weight");
  v.cov = want_cov ? cov_sum / cov_w : 0.0;
  v.spec = want_spec ? spec_sum / spec_w : 0.0;
  return v;
}

}  // namespace newsrl::news
