// UTF-8 validation: dataset text must be well-formed UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace newsrl::news {

// The byte offset of the first ill-formed sequence, or nullopt when `text` is valid.
std::optional<std::size_t> find_invalid_utf8(std::string_view text);

inline bool valid_utf8(std::string_view text) { return !find_invalid_utf8(text); }

}  // namespace newsrl::news
