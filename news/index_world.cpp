#include "news/index_world.h"

#include <filesystem>
#include <unordered_map>

#include "news/schema.h"

namespace newsrl::news {

std::string index_world_mismatch(const NewsIndex& index, const std::string& index_dir, const std::string& dataset) {
  const std::string news_path = (std::filesystem::path(dataset) / kNewsFile).string();
  std::unordered_map<std::string, std::string> title_of;
  for (const Article& a : load_news(news_path)) title_of.emplace(a.id, a.title);
  std::size_t missing = 0, retitled = 0;
  std::string first;
  for (const IndexedArticle& a : index.articles()) {
    const auto it = title_of.find(a.id);
    if (it == title_of.end()) {
      if (first.empty()) first = "article " + a.id + " is not in " + news_path;
      ++missing;
    } else if (it->second != a.title) {
      if (first.empty()) first = "article " + a.id + " has another title in " + news_path;
      ++retitled;
    }
  }
  if (missing + retitled == 0) return "";
  return index_dir + " was built from another world than " + dataset + ": " + std::to_string(missing + retitled) +
         " of its " + std::to_string(index.articles().size()) + " articles differ (" + first + ")";
}

}  // namespace newsrl::news
