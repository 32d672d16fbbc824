// The byte <-> character table: printable Latin-1 bytes stand for
// themselves; the other 68 bytes (controls, space, 0x7F-0xA0, 0xAD) take the
// code points from U+0100 upwards, in byte order.
#include "models/byte_level.h"

#include <vector>

#include "models/unicode_text.h"

namespace newsrl::models {

namespace {

struct Table {
  std::array<std::string, 256> chars;
  std::array<char32_t, 256> code_points{};
  Table() {
    char32_t next = 0x100;
    for (int b = 0; b < 256; ++b) {
      const bool printable = (b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF);
      code_points[b] = printable ? static_cast<char32_t>(b) : next++;
      chars[b] = utf8_of(code_points[b]);
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
  if (cp < 0x100) {
    const bool printable = (cp >= 0x21 && cp <= 0x7E) || (cp >= 0xA1 && cp <= 0xAC) || (cp >= 0xAE && cp <= 0xFF);
    if (printable) return static_cast<std::uint8_t>(cp);
    return std::nullopt;
  }
  for (int b = 0; b < 256; ++b) {
    if (table().code_points[b] == cp) return static_cast<std::uint8_t>(b);
  }
  return std::nullopt;
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
