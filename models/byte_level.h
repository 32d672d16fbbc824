// Byte-level alphabet of GPT-2-style BPE (as in Hugging Face's ByteLevel):
// every byte 0..255 is shown as one printable Unicode character, so that any
// byte string, valid UTF-8 or not, becomes a string of vocabulary symbols.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace newsrl::models {

class ByteLevel {
 public:
  // The character (as UTF-8) that stands for byte b.
  static const std::string& char_of(std::uint8_t b);
  // The byte behind code point cp, or nullopt when cp is not in the alphabet.
  static std::optional<std::uint8_t> byte_of(char32_t cp);
  // Byte string -> string of alphabet characters (UTF-8).
  static std::string encode(std::string_view bytes);
  // Alphabet string (UTF-8) -> the bytes; nullopt when a character is outside
  // the alphabet or the string is not valid UTF-8.
  static std::optional<std::string> decode(std::string_view text);
};

}  // namespace newsrl::models
