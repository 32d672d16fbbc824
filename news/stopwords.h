// Words that never name an interest: English function words and the words of
// web pages' chrome ("login", "home", "page"), and a test for tokens that look
// like noise (digits, too short or long, no vowel). Used by the labeller to
// pick the words of a query.
#pragma once

#include <string_view>

namespace newsrl::news {

// `word` lowercased (as news/tfidf.h's split_words gives it).
bool is_stop_word(std::string_view word);

// True for a token with a digit, fewer than 2 or more than 24 letters, or an
// ASCII word with no vowel (a, e, i, o, u, y) — phone numbers, ids, mashed keys.
bool looks_like_noise(std::string_view word);

}  // namespace newsrl::news
