// The byte <-> character table: printable Latin-1 bytes stand for
// themselves; the other 68 bytes (controls, space, 0x7F-0xA0, 0xAD) take the
// code points from U+0100 upwards, in byte order.
#include "models/byte_level.h"

#include "models/unicode_text.h"

namespace newsrl::models {

namespace {

// The alphabet ends at U+0143 (0x100 + the 68 bytes that do not stand for themselves).
constexpr char32_t kAlphabetEnd = 0x144;

struct Table {
  std::array<std::string, 256> chars;
  std::array<std::int16_t, kAlphabetEnd> byte_of;  // -1: not in the alphabet
  Table() {
    byte_of.fill(-1);
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      const char32_t cp = printable ? static_cast<char32_t>(b) : next++;
      chars[b] = utf8_of(cp);
      byte_of[cp] = static_cast<std::int16_t>(b);
    }
  }
};

const Table& table() {
  static const Table t;
  return t;
}

}  // namespace

const std::string& ByteLevel::char_of(std::uint8_t b) { return table().chars[b]; }

std::optional<std::uint8_t> ByteLevel::byte_of(char32_t cp) {
  if (cp >= kAlphabetEnd || table().byte_of[cp] < 0) return std::nullopt;
  return static_cast<std::uint8_t>(table().byte_of[cp]);
}

std::string ByteLevel::encode(std::string_view bytes) {
  std::string out;
  out.reserve(bytes.size() * 2);
  for (char c : bytes) out += char_of(static_cast<std::uint8_t>(c));
  return out;
}

std::optional<std::string> ByteLevel::decode(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const std::size_t n = utf8_char_length(text, i);
    if (n == 0) return std::nullopt;
    const std::optional<std::uint8_t> b = byte_of(decode_utf8(text.substr(i, n)));
    if (!b) return std::nullopt;
    out += static_cast<char>(*b);
    i += n;
  }
  return out;
}

}  // namespace newsrl::models
