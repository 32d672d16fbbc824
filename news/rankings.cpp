// Rankings JSONL reader and writer (news/rankings.h).
#include "news/rankings.h"

#include "news/fast_jsonl.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace newsrl::news {

std::unordered_map<std::string, std::vector<std::string>> read_rankings(const std::string& path) {
  std::unordered_map<std::string, std::vector<std::string>> out;
  for_each_jsonl_object(path, "rankings", [&](simdjson::ondemand::object& object, const JsonlPlace& place) {
    std::string_view user;
    std::vector<std::string> ids;
    bool have_user = false, have_items = false;
    for (auto field : object) {
      const std::string_view key = field.unescaped_key();
      if (key == "user") {
        user = json_string(field.value(), place, "\"user\"");
        have_user = true;
      } else if (key == "items") {
        simdjson::ondemand::array items;
        if (field.value().get_array().get(items) != simdjson::SUCCESS) {
          throw std::invalid_argument(place.str() + "\"items\" must be a list of article ids");
        }
        ids.reserve(items.count_elements());
        for (auto item : items) ids.emplace_back(json_string(item.value(), place, "every item of \"items\""));
        have_items = true;
      }
    }
    if (!have_user || user.empty()) throw std::invalid_argument(place.str() + "\"user\" must be a non-empty string");
    if (!have_items) throw std::invalid_argument(place.str() + "\"items\" must be a list of article ids");
    if (!out.try_emplace(std::string(user), std::move(ids)).second) {
      throw std::invalid_argument(place.str() + "user " + std::string(user) + " is ranked a second time");
    }
  });
  return out;
}

void write_rankings(const std::string& path, const std::vector<Ranking>& rankings) {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out) throw std::invalid_argument(path + ": cannot write the rankings file");
    for (const Ranking& r : rankings) out << nlohmann::json{{"user", r.user}, {"items", r.items}}.dump() << "\n";
    out.flush();
    if (!out) {
      std::remove(tmp.c_str());
      throw std::invalid_argument(path + ": write failed (disk full?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    throw std::invalid_argument(path + ": cannot rename " + tmp + " over it");
  }
}

}  // namespace newsrl::news
