#include "news/dataset_check.h"

#include <filesystem>

namespace newsrl::news {

CheckReport check_dataset(const std::string& dir, std::size_t max_shown, ReadLimits limits,
                          const CheckProgress& progress) {
  namespace fs = std::filesystem;
  CheckReport report;
  IssueSink sink = [&](const DataIssue& issue) {
    ++report.issue_count;
    if (report.shown.size() < max_shown) report.shown.push_back(issue);
  };
  const auto path = [&](const char* name) { return (fs::path(dir) / name).string(); };
  // Every 4096 records, and once at the end of each file.
  const auto tell = [&](const char* name, const RecordReader& reader, bool done) {
    if (!progress || (!done && reader.records() % 4096 != 0)) return;
    std::error_code ec;
    const auto size = fs::file_size(path(name), ec);
    progress(name, reader.bytes_read(), ec ? reader.bytes_read() : size);
  };
  const auto exists = [&](const char* name) {
    if (fs::is_regular_file(path(name))) return true;
    sink({path(name), 0, "missing (a dataset folder holds news.jsonl, users.jsonl, split.json and truth.jsonl)"});
    return false;
  };
  if (!fs::is_directory(dir)) {
    sink({dir, 0, "not a folder"});
    return report;
  }

  std::optional<Split> split;
  if (exists(kSplitFile)) split = read_split(path(kSplitFile), sink);
  const Split* windows = split ? &*split : nullptr;

  NewsCatalog catalog;
  const bool have_news = exists(kNewsFile);
  if (have_news) {
    NewsReader reader(path(kNewsFile), sink, windows, limits);
    Article a;
    while (reader.next(a)) tell(kNewsFile, reader, false);
    tell(kNewsFile, reader, true);
    report.counts.news = reader.records();
    catalog = reader.take_catalog();
  }
  const CheckContext context{windows, have_news ? &catalog : nullptr, true};

  std::unordered_set<std::string> users;
  const bool have_users = exists(kUsersFile);
  if (have_users) {
    UsersReader reader(path(kUsersFile), sink, context, limits);
    User u;
    while (reader.next(u)) {
      users.insert(u.id);
      for (const Event& e : u.events) ++report.counts.events[static_cast<std::size_t>(e.domain)];
      report.counts.cold_users += is_cold(u);
      tell(kUsersFile, reader, false);
    }
    tell(kUsersFile, reader, true);
    report.counts.users = reader.records();
  }

  if (exists(kTruthFile)) {
    TruthReader reader(path(kTruthFile), sink, context, have_users ? &users : nullptr, limits);
    Truth t;
    while (reader.next(t)) {
      report.counts.truth_items += static_cast<std::int64_t>(t.items.size());
      tell(kTruthFile, reader, false);
    }
    tell(kTruthFile, reader, true);
    report.counts.truth_users = reader.records();
  }

  if (fs::is_regular_file(path(kInterestsFile))) {
    InterestsReader reader(path(kInterestsFile), sink, limits);
    UserInterests ui;
    while (reader.next(ui)) {
      if (have_users && !users.contains(ui.user)) {
        sink({path(kInterestsFile), reader.line(), "user " + ui.user + " is not in users.jsonl"});
      }
      tell(kInterestsFile, reader, false);
    }
    tell(kInterestsFile, reader, true);
    report.counts.interests_users = reader.records();
  }
  return report;
}

}  // namespace newsrl::news
