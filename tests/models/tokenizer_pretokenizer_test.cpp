// The pre-tokenizer: matches and the text between them are words (Split,
// Isolated); \s means Unicode White_Space wherever it is written (PCRE2's own
// \s also takes U+180E); invalid UTF-8 runs are words of their own.
#include "models/tokenizer_pretokenizer.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace newsrl::models {
namespace {

std::vector<std::string> words(const PreTokenizer& p, std::string_view text) {
  std::vector<std::string> out;
  p.for_each_word(text, [&](std::string_view w) { out.emplace_back(w); });
  return out;
}

using Words = std::vector<std::string>;

TEST(PreTokenizer, MatchesAndGapsAreBothWords) {
  const PreTokenizer digits("[0-9]+", false);
  EXPECT_EQ(words(digits, "ab12cd345"), (Words{"ab", "12", "cd", "345"}));
  EXPECT_EQ(words(digits, "12"), (Words{"12"}));
  EXPECT_EQ(words(digits, ""), Words{});
  const PreTokenizer maybe_empty("x*", false);  // empty matches split nothing
  EXPECT_EQ(words(maybe_empty, "abxxc"), (Words{"ab", "xx", "c"}));
}

TEST(PreTokenizer, WhitespaceIsUnicodeWhiteSpaceInAndOutsideClasses) {
  const std::string mvs = "\xE1\xA0\x8E";  // U+180E MONGOLIAN VOWEL SEPARATOR: not White_Space
  const std::string nel = "\xC2\x85";      // U+0085 NEXT LINE: White_Space
  const PreTokenizer outside(R"(\s+|\S+)", false);
  EXPECT_EQ(words(outside, "a" + mvs + "b c" + nel + "d"), (Words{"a" + mvs + "b", " ", "c", nel, "d"}));
  const PreTokenizer inside(R"([\s]+|[^\s]+)", false);
  EXPECT_EQ(words(inside, "a" + mvs + "b c" + nel + "d"), (Words{"a" + mvs + "b", " ", "c", nel, "d"}));
  const PreTokenizer escaped(R"(\\s)", false);  // a backslash and an s, not whitespace
  EXPECT_EQ(words(escaped, R"(a\sb c)"), (Words{"a", R"(\s)", "b c"}));
  const PreTokenizer bracket(R"([]\s]+)", false);  // a leading ] is literal
  EXPECT_EQ(words(bracket, "a] ]b"), (Words{"a", "] ]", "b"}));
  EXPECT_THROW(PreTokenizer(R"([^\S])", false), std::invalid_argument);
}

TEST(PreTokenizer, InvalidUtf8RunsAreWordsAndNfcComposes) {
  const PreTokenizer letters(R"(\p{L}+)", true);
  EXPECT_EQ(words(letters,
                  "ab\xFF\xFE"
                  "cd"),
            (Words{"ab", "\xFF\xFE", "cd"}));
  EXPECT_EQ(words(letters, "cafe\xCC\x81!"), (Words{"caf\xC3\xA9", "!"}));  // e + U+0301 -> U+00E9
  const PreTokenizer no_nfc(R"(\p{L}+)", false);
  EXPECT_EQ(words(no_nfc, "cafe\xCC\x81!"), (Words{"cafe", "\xCC\x81!"}));  // U+0301 is a mark, not a letter
}

}  // namespace
}  // namespace newsrl::models
