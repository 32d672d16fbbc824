// JSONL through simdjson on demand (news/fast_jsonl.h).
#include "news/fast_jsonl.h"

#include <cstring>

namespace newsrl::news {

void for_each_jsonl_object(const std::string& path, const std::string& what,
                           const std::function<void(simdjson::ondemand::object&, const JsonlPlace& place)>& on_object) {
  simdjson::padded_string text;
  if (simdjson::padded_string::load(path).get(text) != simdjson::SUCCESS) {
    throw std::invalid_argument(path + ": cannot read the " + what + " file");
  }
  simdjson::ondemand::parser parser;
  const char* p = text.data();
  const char* end = p + text.size();
  std::int64_t number = 0;
  while (p < end) {
    const char* eol = static_cast<const char*>(std::memchr(p, '\n', static_cast<std::size_t>(end - p)));
    if (eol == nullptr) eol = end;
    ++number;
    const std::size_t length = static_cast<std::size_t>(eol - p);
    const char* line = p;
    p = eol + 1;
    bool blank = true;
    for (std::size_t i = 0; i < length && blank; ++i) blank = line[i] == ' ' || line[i] == '\t' || line[i] == '\r';
    if (blank) continue;
    const JsonlPlace place{&path, number};
    // The bytes after the line (the rest of the file, then simdjson's padding) are readable: the padding it needs.
    const simdjson::padded_string_view view(line, length, static_cast<std::size_t>(end - line) + simdjson::SIMDJSON_PADDING);
    try {
      simdjson::ondemand::document doc = parser.iterate(view);
      simdjson::ondemand::object object;
      if (doc.get_object().get(object) != simdjson::SUCCESS) throw std::invalid_argument(place.str() + "not a JSON object");
      on_object(object, place);
      // current_location() fails once the whole line has been consumed
      if (doc.current_location().error() == simdjson::SUCCESS) throw std::invalid_argument(place.str() + "not valid JSON (trailing content)");
    } catch (const simdjson::simdjson_error& e) {
      throw std::invalid_argument(place.str() + "not valid JSON (" + std::string(simdjson::error_message(e.error())) + ")");
    }
  }
}

std::string_view json_string(simdjson::ondemand::value value, const JsonlPlace& place, const char* name) {
  std::string_view out;
  if (value.get_string().get(out) != simdjson::SUCCESS) throw std::invalid_argument(place.str() + name + " must be a string");
  return out;
}

}  // namespace newsrl::news
