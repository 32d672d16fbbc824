#include "news/taxonomy.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <stdexcept>
#include <unordered_set>

namespace newsrl::news {

namespace {

using nlohmann::json;

std::vector<std::string> string_list(const json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_array() || it->empty())
    throw std::invalid_argument(where + "." + key + " must be a non-empty list of strings");
  std::vector<std::string> out;
  for (const json& v : *it) {
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
      throw std::invalid_argument(where + "." + key + " must hold non-empty strings only");
    out.push_back(v.get<std::string>());
  }
  return out;
}

std::string text(const json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string() || it->get_ref<const std::string&>().empty())
    throw std::invalid_argument(where + "." + key + " must be a non-empty string");
  return it->get<std::string>();
}

}  // namespace

Taxonomy Taxonomy::parse(const std::string& json_text, const std::string& source) {
  json j;
  try {
    j = json::parse(json_text);
  } catch (const json::parse_error& e) {
    throw std::invalid_argument(source + ": malformed JSON (" + e.what() + ")");
  }
  Taxonomy t;
  std::unordered_set<std::string> names;
  try {
    const auto cats = j.find("categories");
    if (!j.is_object() || cats == j.end() || !cats->is_array() || cats->empty())
      throw std::invalid_argument("needs a non-empty list \"categories\"");
    double total = 0;
    for (std::size_t c = 0; c < cats->size(); ++c) {
      const json& cj = (*cats)[c];
      const std::string where = "categories[" + std::to_string(c) + "]";
      if (!cj.is_object()) throw std::invalid_argument(where + " must be an object");
      Category cat;
      cat.name = text(cj, "name", where);
      const auto w = cj.find("weight");
      if (w == cj.end() || !w->is_number() || !(w->get<double>() > 0))
        throw std::invalid_argument(where + ".weight must be a number above 0");
      cat.weight = w->get<double>();
      total += cat.weight;
      const auto subs = cj.find("subtopics");
      if (subs == cj.end() || !subs->is_array() || subs->empty())
        throw std::invalid_argument(where + ".subtopics must be a non-empty list");
      for (std::size_t s = 0; s < subs->size(); ++s) {
        const json& sj = (*subs)[s];
        const std::string at = where + ".subtopics[" + std::to_string(s) + "]";
        if (!sj.is_object()) throw std::invalid_argument(at + " must be an object");
        Subtopic sub;
        sub.name = text(sj, "name", at);
        if (!names.insert(sub.name).second) throw std::invalid_argument(at + ".name \"" + sub.name + "\" is used twice");
        sub.label = text(sj, "label", at);
        sub.category = t.categories.size();
        sub.terms = string_list(sj, "terms", at);
        if (sub.terms.size() < 2) throw std::invalid_argument(at + ".terms needs at least two terms");
        sub.people = string_list(sj, "people", at);
        sub.orgs = string_list(sj, "orgs", at);
        sub.places = string_list(sj, "places", at);
        cat.subtopics.push_back(t.subtopics.size());
        t.subtopics.push_back(std::move(sub));
      }
      t.categories.push_back(std::move(cat));
    }
    for (Category& c : t.categories) c.weight /= total;
  } catch (const std::invalid_argument& e) {
    throw std::invalid_argument(source + ": " + e.what());
  }
  return t;
}

Taxonomy Taxonomy::load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::invalid_argument(path + ": cannot read the taxonomy");
  std::stringstream ss;
  ss << in.rdbuf();
  return parse(ss.str(), path);
}

Taxonomy Taxonomy::builtin() { return parse(builtin_taxonomy_json(), "built-in taxonomy"); }

std::size_t Taxonomy::find(const std::string& subtopic) const {
  for (std::size_t i = 0; i < subtopics.size(); ++i)
    if (subtopics[i].name == subtopic) return i;
  return subtopics.size();
}

}  // namespace newsrl::news
