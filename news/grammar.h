// The output grammar of the policy (docs/prompt-and-grammar.md): an optional
// "Reasoning: ..." line, then numbered queries "1. query", "2. query", ...,
// then the closing token. parse_completion checks a completion against it and
// reads what it can; render_completion writes a list the same way (the SFT
// targets), so that parsing what was rendered gives the same list back.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace newsrl::news {

// The [grammar] keys.
struct ListLimits {
  int min_queries = 1, max_queries = 6, max_query_words = 6, max_reasoning_words = 40;
  bool allow_reasoning = true;
  std::string closing = "<|im_end|>";
};

// "" when the limits make sense, else what is wrong ("[grammar] key: ...").
std::string check_limits(const ListLimits& limits);

struct ParsedList {
  bool valid = false;
  // The queries read, in order: whitespace trimmed and runs of it made one
  // space, duplicates left out. Filled even when the list is invalid.
  std::vector<std::string> queries;
  std::string reasoning;  // the text after "Reasoning: " (empty when none)
  std::string error;      // the first violation, one line ("" when valid)
};

// Checks `text` (everything the policy wrote) against the grammar.
ParsedList parse_completion(std::string_view text, const ListLimits& limits);

// What a list that did not parse still offers a server: its queries that
// are valid UTF-8 without control characters, the first max_queries of
// them (repeats are already left out; over-long queries are kept whole).
std::vector<std::string> salvage_queries(const ParsedList& list, const ListLimits& limits);

// The completion that lists `queries` (and `reasoning` when not empty) in the
// grammar's form, ending with the closing token. Throws std::invalid_argument
// naming the violation when the result would not parse under `limits`.
std::string render_completion(const std::vector<std::string>& queries, const std::string& reasoning,
                              const ListLimits& limits);

// Whitespace-separated words of `text`.
std::vector<std::string_view> split_on_space(std::string_view text);
// The key under which two queries count as duplicates: ASCII lowercased,
// whitespace trimmed and runs of it made one space.
std::string query_key(std::string_view query);

}  // namespace newsrl::news
