#include "news/policy_users.h"

#include <filesystem>
#include <optional>
#include <stdexcept>

namespace newsrl::news {

PolicyUsers load_policy_users(const std::string& dataset, std::int64_t max_users) {
  namespace fs = std::filesystem;
  const fs::path dir(dataset);
  const std::string split_path = (dir / kSplitFile).string();
  const std::optional<Split> split = read_split(split_path);
  if (!split) throw std::invalid_argument(split_path + ": no valid split (newsrl data check shows why)");
  PolicyUsers out;
  out.split = *split;
  for (const Article& a : load_news((dir / kNewsFile).string(), &*split)) out.titles[a.id] = a.title;
  CheckContext context;
  context.split = &out.split;
  for (const User& raw : load_users((dir / kUsersFile).string(), context)) {
    if (max_users > 0 && out.read >= max_users) break;
    ++out.read;
    User user = cleaned_signals(raw);
    if (user.events.empty()) {
      ++out.no_signals;
      continue;
    }
    out.users.push_back(std::move(user));
  }
  return out;
}

}  // namespace newsrl::news
