#include "news/generic_words.h"

namespace newsrl::news {

const std::vector<std::string>& default_generic_words() {
  // Words that name no topic: freshness ("latest"), kind of content
  // ("headlines"), vague quantity or quality ("top", "best"), filler.
  static const std::vector<std::string> words = {
      "news",     "latest",      "today",       "todays",  "update",   "updates",   "breaking", "new",     "newest",
      "recent",   "current",     "top",         "best",    "headline", "headlines", "story",    "stories", "article",
      "articles", "info",        "information", "things",  "stuff",    "events",    "daily",    "live",    "trending",
      "popular",  "interesting", "general",     "various", "now",      "online",    "happening"};
  return words;
}

}  // namespace newsrl::news
