// The synthetic world's topics: categories with a share of the articles, each
// with subtopics that carry a readable vocabulary (terms, people, orgs,
// places). The default is news/data/taxonomy.json, compiled into the binary
// so that an installed newsrl needs no data folder; `--taxonomy F` reads
// another file of the same shape (docs/world.md).
#pragma once

#include <string>
#include <vector>

namespace newsrl::news {

struct Subtopic {
  std::string name, label;  // name is unique across the taxonomy
  std::size_t category = 0;  // index into Taxonomy::categories
  std::vector<std::string> terms, people, orgs, places;
};

struct Category {
  std::string name;
  double weight = 0;                 // normalised: the weights sum to 1
  std::vector<std::size_t> subtopics;  // indices into Taxonomy::subtopics
};

struct Taxonomy {
  std::vector<Category> categories;
  std::vector<Subtopic> subtopics;

  // Parses and checks the JSON text; `source` names it in errors. Throws
  // std::invalid_argument "SOURCE: categories[2].subtopics[4].terms: what is wrong".
  static Taxonomy parse(const std::string& json_text, const std::string& source);
  static Taxonomy load(const std::string& path);
  // The taxonomy compiled into the binary (news/data/taxonomy.json at build time).
  static Taxonomy builtin();
  std::size_t find(const std::string& subtopic) const;  // index, or subtopics.size() when absent
};

// The text of news/data/taxonomy.json as it was when newsrl was built.
const char* builtin_taxonomy_json();

}  // namespace newsrl::news
