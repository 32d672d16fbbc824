// The labeller's stop words and noise test (news/stopwords.h).
#include "news/stopwords.h"

#include <string>
#include <unordered_set>

namespace newsrl::news {

namespace {

const std::unordered_set<std::string_view>& stop_words() {
  static const std::unordered_set<std::string_view> words = {
      // function words
      "a", "about", "above", "after", "again", "against", "all", "also", "am", "an", "and", "any", "are", "as", "at",
      "be", "because", "been", "before", "being", "below", "between", "both", "but", "by", "can", "could", "did", "do",
      "does", "doing", "down", "during", "each", "few", "for", "from", "further", "had", "has", "have", "having", "he",
      "her", "here", "hers", "him", "his", "how", "i", "if", "in", "into", "is", "it", "its", "just", "me", "more",
      "most", "my", "near", "new", "no", "nor", "not", "now", "of", "off", "on", "once", "only", "or", "other", "our",
      "out", "over", "own", "same", "she", "should", "so", "some", "such", "than", "that", "the", "their", "them",
      "then", "there", "these", "they", "this", "those", "through", "to", "too", "under", "until", "up", "us", "very",
      "vs", "was", "we", "were", "what", "when", "where", "which", "while", "who", "whom", "why", "will", "with",
      "would", "you", "your", "best", "get", "via", "amid", "says", "say", "said", "one", "two", "three", "first",
      "last", "next", "week", "year", "years", "day", "days",
      // web pages' chrome
      "account", "cart", "checkout", "denied", "download", "email", "forbidden", "found", "home", "inbox", "index",
      "loading", "log", "login", "mail", "online", "page", "password", "policy", "privacy", "reset", "results",
      "search", "settings", "sign", "tab", "terms", "untitled", "web", "welcome", "www", "com", "http", "https"};
  return words;
}

}  // namespace

bool is_stop_word(std::string_view word) { return stop_words().count(word) > 0; }

bool looks_like_noise(std::string_view word) {
  std::size_t letters = 0;
  bool ascii = true, vowel = false;
  for (std::size_t i = 0; i < word.size(); ++i) {
    const auto c = static_cast<unsigned char>(word[i]);
    if (c >= '0' && c <= '9') return true;
    if (c >= 0x80) {
      ascii = false;
      if ((c & 0xC0) != 0x80) ++letters;  // count code points, not bytes
      continue;
    }
    ++letters;
    if (c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y') vowel = true;
  }
  if (letters < 2 || letters > 24) return true;
  return ascii && !vowel;
}

}  // namespace newsrl::news
