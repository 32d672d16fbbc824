// Large JSONL files read fast: the whole file loaded once, each line parsed
// with simdjson's on-demand parser (several times faster than a DOM parse;
// `newsrl eval` reads 500k-user files with it). Errors name FILE:LINE.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

namespace newsrl::news {

// Where a record came from; str() is "FILE:LINE: ", built only for an error.
struct JsonlPlace {
  const std::string* path;
  std::int64_t line;
  std::string str() const { return *path + ":" + std::to_string(line) + ": "; }
};

// Calls `on_object(object, place)` for every non-blank line. Lines that are
// not JSON objects, and any simdjson error escaping `on_object`, become
// std::invalid_argument "FILE:LINE: …".
void for_each_jsonl_object(const std::string& path, const std::string& what,
                           const std::function<void(simdjson::ondemand::object&, const JsonlPlace& place)>& on_object);

// The string value of `value`, or invalid_argument "FILE:LINE: <name> must be a string".
std::string_view json_string(simdjson::ondemand::value value, const JsonlPlace& place, const char* name);

}  // namespace newsrl::news
