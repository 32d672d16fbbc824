// The output grammar: checking a completion line by line (news/grammar.h).
#include "news/grammar.h"

#include <stdexcept>
#include <unordered_map>

#include "news/utf8.h"

namespace newsrl::news {

namespace {

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

std::string_view trim(std::string_view s) {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

std::string join_words(std::string_view text) {
  std::string out;
  for (std::string_view w : split_on_space(text)) {
    if (!out.empty()) out += ' ';
    out += w;
  }
  return out;
}

// A short, printable excerpt of a line for error messages.
std::string excerpt(std::string_view line) {
  constexpr std::size_t kMax = 40;
  std::string out;
  for (char c : line.substr(0, kMax)) out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) ? '?' : c;
  if (line.size() > kMax) out += "...";
  return "'" + out + "'";
}

bool has_control(std::string_view s) {
  for (char c : s)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) return true;
  return false;
}

// "N. rest": the number and the rest, or false when the line is not numbered.
bool split_numbered(std::string_view line, long& number, std::string_view& rest) {
  std::size_t i = 0;
  while (i < line.size() && i < 9 && line[i] >= '0' && line[i] <= '9') ++i;
  if (i == 0 || i >= line.size() || line[i] != '.') return false;
  if (i + 1 < line.size() && line[i + 1] != ' ') return false;
  number = std::stol(std::string(line.substr(0, i)));
  rest = i + 1 < line.size() ? line.substr(i + 2) : std::string_view{};
  return true;
}

constexpr std::string_view kReasoning = "Reasoning:";

}  // namespace

std::vector<std::string_view> split_on_space(std::string_view text) {
  std::vector<std::string_view> words;
  std::size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && is_space(text[i])) ++i;
    std::size_t start = i;
    while (i < text.size() && !is_space(text[i])) ++i;
    if (i > start) words.push_back(text.substr(start, i - start));
  }
  return words;
}

std::string query_key(std::string_view query) {
  std::string key = join_words(query);
  for (char& c : key)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  return key;
}

std::string check_limits(const ListLimits& limits) {
  if (limits.min_queries < 1) return "[grammar] min_queries: must be at least 1";
  if (limits.max_queries < limits.min_queries) return "[grammar] max_queries: must be at least min_queries";
  if (limits.max_queries > 99) return "[grammar] max_queries: must be at most 99";
  if (limits.max_query_words < 1) return "[grammar] max_query_words: must be at least 1";
  if (limits.max_reasoning_words < 1) return "[grammar] max_reasoning_words: must be at least 1";
  if (trim(limits.closing).empty()) return "[grammar] closing: must not be empty";
  if (limits.closing.find('\n') != std::string::npos) return "[grammar] closing: must be one line";
  return "";
}

ParsedList parse_completion(std::string_view text, const ListLimits& limits) {
  ParsedList out;
  auto fail = [&out](std::string message) {
    if (out.error.empty()) out.error = std::move(message);
  };

  std::string_view body = text;
  std::size_t close = text.find(limits.closing);
  if (close == std::string_view::npos) {
    fail("missing closing token " + limits.closing);
  } else {
    body = text.substr(0, close);
    std::string_view after = text.substr(close + limits.closing.size());
    if (!trim(after).empty()) fail("text after " + limits.closing + ": " + excerpt(trim(after)));
  }
  if (!valid_utf8(text)) fail("the completion is not valid UTF-8");
  while (!body.empty() && is_space(body.back())) body.remove_suffix(1);

  std::unordered_map<std::string, std::size_t> seen;  // query key -> its number (1-based)
  int numbered = 0;
  std::size_t line_no = 0;
  std::size_t pos = 0;
  while (pos < body.size()) {  // the body ends in a non-space, so its last line is not empty
    std::size_t end = body.find('\n', pos);
    if (end == std::string_view::npos) end = body.size();
    std::string_view line = body.substr(pos, end - pos);
    pos = end + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    const std::string where = "line " + std::to_string(line_no) + ": ";

    if (line.substr(0, kReasoning.size()) == kReasoning) {
      if (line_no != 1) {
        fail(where + "reasoning must be the first line");
        continue;
      }
      if (!limits.allow_reasoning) fail(where + "reasoning is not allowed");
      std::string_view rest = line.substr(kReasoning.size());
      if (!rest.empty() && rest.front() != ' ') fail(where + "expected 'Reasoning: ' followed by a space");
      out.reasoning = join_words(rest);
      std::size_t words = split_on_space(rest).size();
      if (words == 0) fail(where + "empty reasoning");
      if (words > static_cast<std::size_t>(limits.max_reasoning_words))
        fail(where + "reasoning has " + std::to_string(words) + " words (at most " +
             std::to_string(limits.max_reasoning_words) + ")");
      continue;
    }

    long number = 0;
    std::string_view rest;
    if (!split_numbered(line, number, rest)) {
      fail(where + (trim(line).empty()
                        ? std::string("blank line")
                        : "expected '" + std::to_string(numbered + 1) + ". query', found " + excerpt(line)));
      continue;
    }
    ++numbered;
    if (number != numbered)
      fail(where + "expected number " + std::to_string(numbered) + ", found " + std::to_string(number));
    if (numbered == limits.max_queries + 1)
      fail(where + "more than " + std::to_string(limits.max_queries) + " queries");
    std::string query = join_words(rest);
    if (query.empty()) {
      fail(where + "empty query");
      continue;
    }
    if (has_control(rest)) fail(where + "query holds a control character");
    std::size_t words = split_on_space(query).size();
    if (words > static_cast<std::size_t>(limits.max_query_words))
      fail(where + "query has " + std::to_string(words) + " words (at most " + std::to_string(limits.max_query_words) +
           ")");
    auto [it, fresh] = seen.emplace(query_key(query), out.queries.size() + 1);
    if (!fresh) {
      fail(where + "query " + excerpt(query) + " repeats query " + std::to_string(it->second));
      continue;
    }
    out.queries.push_back(std::move(query));
  }
  if (numbered < limits.min_queries)
    fail("too few queries: " + std::to_string(numbered) + " (at least " + std::to_string(limits.min_queries) + ")");
  out.valid = out.error.empty();
  return out;
}

std::vector<std::string> salvage_queries(const ParsedList& list, const ListLimits& limits) {
  std::vector<std::string> out;
  for (const std::string& q : list.queries) {
    if (static_cast<int>(out.size()) == limits.max_queries) break;
    if (valid_utf8(q) && !has_control(q)) out.push_back(q);
  }
  return out;
}

std::string render_completion(const std::vector<std::string>& queries, const std::string& reasoning,
                              const ListLimits& limits) {
  std::string text;
  if (!reasoning.empty()) text += std::string(kReasoning) + " " + reasoning + "\n";
  for (std::size_t i = 0; i < queries.size(); ++i) text += std::to_string(i + 1) + ". " + queries[i] + "\n";
  text += limits.closing;
  ParsedList check = parse_completion(text, limits);
  if (!check.valid) throw std::invalid_argument("render_completion: " + check.error);
  return text;
}

}  // namespace newsrl::news
