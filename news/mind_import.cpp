#include "news/mind_import.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <unordered_map>

#include "news/jsonl.h"
#include "news/user_hash.h"
#include "news/utf8.h"

namespace newsrl::news {

namespace {

constexpr std::int64_t kDay = 86400;

std::vector<std::string_view> split_on(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t at = s.find(sep, begin);
    out.push_back(s.substr(begin, at == std::string_view::npos ? std::string_view::npos : at - begin));
    if (at == std::string_view::npos) return out;
    begin = at + 1;
  }
}

// Space-separated tokens, empty ones skipped (MIND's history may be empty).
std::vector<std::string_view> tokens(std::string_view s) {
  std::vector<std::string_view> out;
  for (std::string_view t : split_on(s, ' '))
    if (!t.empty()) out.push_back(t);
  return out;
}

// Digits only, 1..max_len of them.
std::optional<int> number(std::string_view s, std::size_t max_len) {
  if (s.empty() || s.size() > max_len) return std::nullopt;
  int v = 0;
  for (const char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

struct Click {
  std::int64_t time;
  std::uint32_t article;
};

// What one user did, gathered across their impression rows (keyed by hashed id).
struct UserLog {
  std::vector<std::uint32_t> history;  // from the first row seen (MIND repeats it on every row)
  bool history_read = false;
  std::int64_t first_impression = INT64_MAX;
  std::vector<Click> clicks;  // clicked impressions, train and test
};

}  // namespace

std::optional<std::int64_t> parse_mind_time(std::string_view text) {
  const auto parts = split_on(text, ' ');
  if (parts.size() != 3) return std::nullopt;
  const auto date = split_on(parts[0], '/');
  const auto clock = split_on(parts[1], ':');
  if (date.size() != 3 || clock.size() != 3) return std::nullopt;
  const auto month = number(date[0], 2), day = number(date[1], 2), year = number(date[2], 4);
  const auto hour = number(clock[0], 2), minute = number(clock[1], 2), second = number(clock[2], 2);
  if (!month || !day || !year || !hour || !minute || !second || date[2].size() != 4) return std::nullopt;
  if (*month < 1 || *month > 12 || *day < 1 || *hour < 1 || *hour > 12 || *minute > 59 || *second > 59)
    return std::nullopt;
  const bool pm = parts[2] == "PM";
  if (!pm && parts[2] != "AM") return std::nullopt;
  const int h24 = *hour % 12 + (pm ? 12 : 0);
  // Reuse the strict ISO parser for the calendar check (2019-02-30 is refused).
  char iso[96];
  std::snprintf(iso, sizeof iso, "%04d-%02d-%02dT%02d:%02d:%02dZ", *year % 10000, *month % 100, *day % 100, h24,
                *minute, *second);
  return parse_time(iso);
}

MindImportReport import_mind(const MindImportOptions& o) {
  namespace fs = std::filesystem;
  if (o.test_days < 1) throw std::invalid_argument("--test-days must be at least 1");
  if (o.history_days < 1) throw std::invalid_argument("--history-days must be at least 1");
  MindImportReport r;
  auto bad = [&](const std::string& file, std::int64_t line, const std::string& what) {
    ++r.bad_rows;
    if (r.bad_rows_shown.size() < o.max_shown) r.bad_rows_shown.push_back({file, line, what});
  };

  // news.tsv: id, category, subcategory, title, abstract, url, title entities, abstract entities.
  std::vector<Article> articles;
  std::unordered_map<std::string, std::uint32_t> index;
  {
    JsonlReader lines(o.news_tsv, o.limits.max_line_bytes);
    std::string line;
    for (JsonlReader::Status s; (s = lines.next(line)) != JsonlReader::Status::end;) {
      const std::int64_t n = lines.line_number();
      ++r.news_rows;
      if (s == JsonlReader::Status::oversized) {
        bad(o.news_tsv, n, "row longer than " + std::to_string(o.limits.max_line_bytes) + " bytes");
        continue;
      }
      if (const auto at = find_invalid_utf8(line)) {
        bad(o.news_tsv, n, "invalid UTF-8 at byte " + std::to_string(*at + 1));
        continue;
      }
      const auto cols = split_on(line, '\t');
      if (cols.size() != 8) {
        bad(o.news_tsv, n, "expected 8 tab-separated columns (id, category, subcategory, title, abstract, url, "
                           "title entities, abstract entities), found " + std::to_string(cols.size()));
        continue;
      }
      if (cols[0].empty() || cols[1].empty() || cols[2].empty() || cols[3].empty()) {
        bad(o.news_tsv, n, "empty id, category, subcategory or title");
        continue;
      }
      Article a{std::string(cols[0]), std::string(cols[3]), std::string(cols[4]), std::string(cols[1]),
                std::string(cols[2]), std::string(cols[5]), 0};
      if (!index.emplace(a.id, static_cast<std::uint32_t>(articles.size())).second) {
        bad(o.news_tsv, n, "duplicate news id " + a.id);
        continue;
      }
      articles.push_back(std::move(a));
    }
  }

  // behaviors.tsv: impression id, user id, time, history, impressions.
  const UserHasher hash(o.salt);
  std::map<std::string, UserLog> users;  // ordered by hashed id: the output order
  std::unordered_map<std::string, std::int64_t> missing;
  auto lookup = [&](std::string_view id) -> std::optional<std::uint32_t> {
    const auto it = index.find(std::string(id));
    if (it != index.end()) return it->second;
    ++r.missing_id_uses;
    if (missing.emplace(std::string(id), 0).second && r.missing_examples.size() < 10)
      r.missing_examples.emplace_back(id);
    return std::nullopt;
  };
  std::int64_t first_time = INT64_MAX, last_time = INT64_MIN;
  struct Row {
    std::string user;
    std::int64_t time;
    std::vector<std::uint32_t> clicked;
  };
  std::vector<Row> rows;  // the clicked part of each row, until the windows are known
  std::vector<std::int64_t> first_shown(articles.size(), INT64_MAX);
  {
    JsonlReader lines(o.behaviors_tsv, o.limits.max_line_bytes);
    std::string line;
    for (JsonlReader::Status s; (s = lines.next(line)) != JsonlReader::Status::end;) {
      const std::int64_t n = lines.line_number();
      ++r.behavior_rows;
      if (s == JsonlReader::Status::oversized) {
        bad(o.behaviors_tsv, n, "row longer than " + std::to_string(o.limits.max_line_bytes) + " bytes");
        continue;
      }
      if (const auto at = find_invalid_utf8(line)) {
        bad(o.behaviors_tsv, n, "invalid UTF-8 at byte " + std::to_string(*at + 1));
        continue;
      }
      const auto cols = split_on(line, '\t');
      if (cols.size() != 5) {
        bad(o.behaviors_tsv, n, "expected 5 tab-separated columns (impression id, user, time, history, "
                                "impressions), found " + std::to_string(cols.size()));
        continue;
      }
      if (cols[1].empty()) {
        bad(o.behaviors_tsv, n, "empty user id");
        continue;
      }
      const auto time = parse_mind_time(cols[2]);
      if (!time) {
        bad(o.behaviors_tsv, n, "time \"" + std::string(cols[2]) + "\" is not like 11/15/2019 8:55:22 AM");
        continue;
      }
      // Check the impressions before using any of the row.
      const auto shown = tokens(cols[4]);
      std::string problem;
      for (std::string_view t : shown) {
        const auto dash = t.rfind('-');
        if (dash != std::string_view::npos && (dash == 0 || (t.substr(dash + 1) != "0" && t.substr(dash + 1) != "1"))) {
          problem = "impression \"" + std::string(t) + "\" is not like N123-1 or N123-0";
          break;
        }
      }
      if (!problem.empty()) {
        bad(o.behaviors_tsv, n, problem);
        continue;
      }
      std::string user = hash(cols[1]);
      UserLog& log = users[user];
      first_time = std::min(first_time, *time);
      last_time = std::max(last_time, *time);
      log.first_impression = std::min(log.first_impression, *time);
      if (!log.history_read) {
        log.history_read = true;
        for (std::string_view id : tokens(cols[3]))
          if (const auto a = lookup(id)) log.history.push_back(*a);
      }
      Row row{std::move(user), *time, {}};
      for (std::string_view t : shown) {
        const auto dash = t.rfind('-');
        const std::string_view id = dash == std::string_view::npos ? t : t.substr(0, dash);
        if (dash == std::string_view::npos) ++r.unlabeled_impressions;
        const auto a = lookup(id);
        if (!a) continue;
        first_shown[*a] = std::min(first_shown[*a], *time);
        if (dash != std::string_view::npos && t.substr(dash + 1) == "1") row.clicked.push_back(*a);
      }
      if (!row.clicked.empty()) rows.push_back(std::move(row));
    }
  }
  r.missing_ids = static_cast<std::int64_t>(missing.size());
  if (r.bad_rows > 0 && !o.skip_bad_rows) return r;  // nothing written
  if (users.empty()) throw std::invalid_argument(o.behaviors_tsv + ": no usable impression rows");

  // Windows: the test window is the last test_days calendar days (UTC) of impressions; the train
  // window starts history_days before the day of the first impression and ends where test starts.
  const std::int64_t last_day = last_time - ((last_time % kDay) + kDay) % kDay;
  const std::int64_t first_day = first_time - ((first_time % kDay) + kDay) % kDay;
  r.split.test = {last_day - (o.test_days - 1) * kDay, last_day + kDay};
  r.split.train = {std::min(first_day, r.split.test.start) - o.history_days * kDay, r.split.test.start};
  const Split& split = r.split;

  for (Row& row : rows) {
    UserLog& log = users[row.user];
    for (const std::uint32_t a : row.clicked) log.clicks.push_back({row.time, a});
  }
  rows.clear();
  rows.shrink_to_fit();

  // History times: spread evenly before the user's first impression (and before the test window).
  // Publish times: the earliest time anything shows the article; never shown: the train start.
  std::vector<std::int64_t> published = first_shown;
  std::vector<std::vector<Click>> history_clicks;  // by user, in map order
  history_clicks.reserve(users.size());
  for (auto& [id, log] : users) {
    const std::int64_t until = std::min(log.first_impression, split.test.start);
    const auto n = static_cast<std::int64_t>(log.history.size());
    std::vector<Click> h;
    for (std::int64_t i = 0; i < n; ++i) {
      const std::int64_t t = split.train.start + (i + 1) * (until - split.train.start) / (n + 1);
      h.push_back({t, log.history[static_cast<std::size_t>(i)]});
      published[log.history[static_cast<std::size_t>(i)]] =
          std::min(published[log.history[static_cast<std::size_t>(i)]], t);
    }
    history_clicks.push_back(std::move(h));
  }
  for (std::size_t a = 0; a < articles.size(); ++a)
    articles[a].published = published[a] == INT64_MAX ? split.train.start : published[a];

  std::error_code ec;
  fs::create_directories(o.out_dir, ec);
  if (ec || !fs::is_directory(o.out_dir)) throw std::invalid_argument(o.out_dir + ": cannot create the folder");
  const auto path = [&](const char* name) { return (fs::path(o.out_dir) / name).string(); };
  AtomicFileWriter news_file(path(kNewsFile)), users_file(path(kUsersFile)), truth_file(path(kTruthFile)),
      split_file(path(kSplitFile)), stats_file(path(kStatsFile));
  for (const Article& a : articles) news_file.line(to_json_line(a));
  std::size_t u = 0;
  for (auto& [id, log] : users) {
    User user{id, {}};
    for (const Click& c : history_clicks[u]) {
      Event e;
      e.domain = Domain::news;
      e.time = c.time;
      e.news = articles[c.article].id;
      user.events.push_back(std::move(e));
    }
    r.history_clicks += static_cast<std::int64_t>(history_clicks[u].size());
    ++u;
    std::stable_sort(log.clicks.begin(), log.clicks.end(), [](const Click& a, const Click& b) { return a.time < b.time; });
    Truth truth{id, {}};
    for (const Click& c : log.clicks) {
      if (split.train.contains(c.time)) {
        Event e;
        e.domain = Domain::news;
        e.time = c.time;
        e.news = articles[c.article].id;
        user.events.push_back(std::move(e));
        ++r.train_clicks;
      } else {
        ++r.test_clicks;
        if (!split.test.contains(articles[c.article].published)) {
          ++r.test_clicks_on_older_news;
        } else if (std::find(truth.items.begin(), truth.items.end(), articles[c.article].id) == truth.items.end()) {
          truth.items.push_back(articles[c.article].id);
        }
      }
    }
    std::stable_sort(user.events.begin(), user.events.end(), [](const Event& a, const Event& b) { return a.time < b.time; });
    users_file.line(to_json_line(user));
    if (!truth.items.empty()) {
      truth_file.line(to_json_line(truth));
      ++r.truth_users;
      r.truth_items += static_cast<std::int64_t>(truth.items.size());
    }
  }
  r.users = static_cast<std::int64_t>(users.size());
  split_file.text(to_json_text(split));
  const nlohmann::json stats = {
      {"source", "mind"},
      {"news", articles.size()},
      {"users", r.users},
      {"news_rows", r.news_rows},
      {"behavior_rows", r.behavior_rows},
      {"bad_rows_skipped", r.bad_rows},
      {"events", {{"news", {{"total", r.history_clicks + r.train_clicks},
                            {"per_user", static_cast<double>(r.history_clicks + r.train_clicks) /
                                             static_cast<double>(r.users)},
                            {"history", r.history_clicks},
                            {"impressions", r.train_clicks}}},
                  {"search", {{"total", 0}}},
                  {"browse", {{"total", 0}}}}},
      {"test_clicks", r.test_clicks},
      {"test_clicks_on_older_news", r.test_clicks_on_older_news},
      {"truth_users", r.truth_users},
      {"truth_clicks", r.truth_items},
      {"missing_ids", r.missing_ids},
      {"missing_id_uses", r.missing_id_uses},
      {"unlabeled_impressions", r.unlabeled_impressions},
      {"test_days", o.test_days},
      {"history_days", o.history_days},
      {"split", nlohmann::json::parse(to_json_text(split))},
  };
  stats_file.text(stats.dump(2) + "\n");
  news_file.commit();
  users_file.commit();
  truth_file.commit();
  split_file.commit();
  stats_file.commit();
  r.written = true;
  return r;
}

}  // namespace newsrl::news
