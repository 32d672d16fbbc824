// Whether an index folder was built from a dataset: an index records no
// world id, so its articles are compared with the dataset's news.jsonl (same
// ids, same titles), which tells an index of another world (another seed,
// another import) from the right one — a cleaned copy shares its news.
#pragma once

#include <string>

#include "news/news_index.h"

namespace newsrl::news {

// "" when every article of `index` is in `dataset`/news.jsonl with the same
// title, else one line saying what differs (naming the first article).
std::string index_world_mismatch(const NewsIndex& index, const std::string& index_dir, const std::string& dataset);

}  // namespace newsrl::news
