// Rankings JSONL reader and writer (news/rankings.h).
#include "news/rankings.h"

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <stdexcept>

namespace newsrl::news {

std::unordered_map<std::string, std::vector<std::string>> read_rankings(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw std::invalid_argument(path + ": cannot read the rankings file");
  std::unordered_map<std::string, std::vector<std::string>> out;
  std::unordered_map<std::string, std::size_t> first_line;
  std::string line;
  std::size_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    const std::string where = path + ":" + std::to_string(number) + ": ";
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const nlohmann::json::parse_error&) {
      throw std::invalid_argument(where + "not valid JSON");
    }
    if (!j.is_object()) throw std::invalid_argument(where + "want an object {\"user\":…,\"items\":[…]}");
    const auto user = j.find("user");
    if (user == j.end() || !user->is_string() || user->get_ref<const std::string&>().empty()) {
      throw std::invalid_argument(where + "\"user\" must be a non-empty string");
    }
    const auto items = j.find("items");
    if (items == j.end() || !items->is_array()) throw std::invalid_argument(where + "\"items\" must be a list of article ids");
    std::vector<std::string> ids;
    ids.reserve(items->size());
    for (std::size_t i = 0; i < items->size(); ++i) {
      const auto& v = (*items)[i];
      if (!v.is_string()) throw std::invalid_argument(where + "\"items\"[" + std::to_string(i) + "] is not a string");
      ids.push_back(v.get<std::string>());
    }
    const std::string& name = user->get_ref<const std::string&>();
    const auto [at, fresh] = first_line.try_emplace(name, number);
    if (!fresh) {
      throw std::invalid_argument(where + "user " + name + " is ranked twice (first at line " + std::to_string(at->second) + ")");
    }
    out.emplace(name, std::move(ids));
  }
  if (in.bad()) throw std::invalid_argument(path + ": read error");
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
