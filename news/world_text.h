// The words of the synthetic world. Each domain writes in its own style from
// the same subtopic vocabulary: news titles and abstracts read like headlines,
// search queries are short and lowercase, page titles look like site pages.
// So the domains agree in meaning but not in wording. Noise (random strings,
// phone numbers, navigational queries, generic pages) is written here too.
#pragma once

#include <string>

#include "news/rng.h"
#include "news/taxonomy.h"

namespace newsrl::news {

struct ArticleText {
  std::string title, abstract, url;
};

ArticleText write_article(const Subtopic& topic, std::uint64_t article_number, Rng& rng);
std::string write_search_query(const Subtopic& topic, Rng& rng);

struct PageText {
  std::string title, url;
};
PageText write_page(const Subtopic& topic, Rng& rng);

// Noise: what a person types or visits that says nothing about their interests.
std::string write_noise_query(Rng& rng);
PageText write_noise_page(Rng& rng);

}  // namespace newsrl::news
