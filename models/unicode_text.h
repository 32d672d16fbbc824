// UTF-8 helpers for the tokenizer: strict validation (what PCRE2 accepts:
// no overlong forms, no surrogates, nothing above U+10FFFF), code point
// conversion, and NFC normalization (utf8proc).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace newsrl::models {

// Length (1-4) of the valid UTF-8 character starting at text[pos], or 0 when
// the bytes there do not start a valid character.
std::size_t utf8_char_length(std::string_view text, std::size_t pos);
// The code point of one valid UTF-8 character.
char32_t decode_utf8(std::string_view one_char);
// UTF-8 bytes of a code point (<= U+10FFFF, not a surrogate).
std::string utf8_of(char32_t cp);
// Length of the longest valid UTF-8 prefix of text.
std::size_t valid_utf8_prefix(std::string_view text);
// NFC form of valid UTF-8 text; pure ASCII returns unchanged without work.
std::string nfc(std::string_view valid_utf8);

}  // namespace newsrl::models
