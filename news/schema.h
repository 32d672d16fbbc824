// The news data schema (docs/data-format.md): the records of a dataset folder
// (news.jsonl, users.jsonl, split.json, truth.jsonl, interests.jsonl), their
// time format, and readers that stream a file line by line and validate every
// record the way `newsrl data check` does. A reader either throws DataError
// "FILE:LINE: what is wrong" at the first problem (a loader) or hands every
// problem to an IssueSink and skips the bad record (the checker).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace newsrl::news {

// ---- records ----------------------------------------------------------------

struct Article {
  std::string id, title, abstract, category, subcategory, url;  // url may be empty
  std::int64_t published = 0;                                   // seconds since the Unix epoch, UTC
};

enum class Domain { search, browse, news };

struct Event {
  Domain domain = Domain::search;
  std::int64_t time = 0;
  std::string text;  // the search text (search) or the page title (browse)
  std::string url;   // browse only (may be empty)
  std::string news;  // the article id (news only)
  std::optional<bool> keep, annotator;  // noise labels: the truth (synthetic only) and the annotator's
};

struct User {
  std::string id;  // "u" + 16 lowercase hex digits (a salted keyed hash; never a raw id)
  std::vector<Event> events;  // sorted by time
};

struct Window {
  std::int64_t start = 0, end = 0;  // half-open [start, end)
  bool contains(std::int64_t t) const { return t >= start && t < end; }
};

struct Split {
  Window train, test;
};

struct Truth {
  std::string user;
  std::vector<std::string> items;  // clicks in the test window, in click order
};

struct Interest {
  std::string subtopic;
  double weight = 0;
  bool long_term = true;
};

struct UserInterests {
  std::string user;
  std::vector<Interest> interests;
};

// The file names inside a dataset folder.
inline constexpr const char* kNewsFile = "news.jsonl";
inline constexpr const char* kUsersFile = "users.jsonl";
inline constexpr const char* kSplitFile = "split.json";
inline constexpr const char* kTruthFile = "truth.jsonl";
inline constexpr const char* kInterestsFile = "interests.jsonl";
inline constexpr const char* kStatsFile = "stats.json";

// A user with at most this many news events in the train window is cold.
inline constexpr std::size_t kColdMaxNewsEvents = 3;
bool is_cold(const User& user);

std::string_view domain_name(Domain d);
std::optional<Domain> parse_domain(std::string_view name);

// ---- time -------------------------------------------------------------------

// Strict ISO-8601 UTC "YYYY-MM-DDTHH:MM:SSZ" (years 1970..9999); nullopt when
// the text is anything else or names an impossible date (2026-02-30).
std::optional<std::int64_t> parse_time(std::string_view text);
// The inverse of parse_time, for times in years 1970..9999.
std::string format_time(std::int64_t seconds);
// Days since 1970-01-01 of a proleptic Gregorian date (month 1..12).
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day);

// True when `id` is "u" followed by 16 lowercase hex digits.
bool valid_user_id(std::string_view id);

// ---- problems ---------------------------------------------------------------

// One problem found in a dataset file; line 0 means the whole file.
struct DataIssue {
  std::string file;
  std::int64_t line = 0;
  std::string message;
  std::string str() const;  // "FILE:LINE: message" (or "FILE: message")
};

class DataError : public std::invalid_argument {
 public:
  explicit DataError(DataIssue issue);
  const DataIssue& issue() const { return issue_; }

 private:
  DataIssue issue_;
};

// Receives problems; an empty sink means "throw DataError at the first".
using IssueSink = std::function<void(const DataIssue&)>;

struct ReadLimits {
  std::size_t max_line_bytes = std::size_t{8} << 20;  // longer lines are reported, never held
};

// ---- records from and to JSON -------------------------------------------------
// The from_json functions return "" when `j` is a valid record, else what is
// wrong with it (one line, naming the field); they check one record alone.

std::string article_from_json(const nlohmann::json& j, Article& out);
std::string user_from_json(const nlohmann::json& j, User& out);
std::string truth_from_json(const nlohmann::json& j, Truth& out);
std::string interests_from_json(const nlohmann::json& j, UserInterests& out);
std::string split_from_json(const nlohmann::json& j, Split& out);

// One JSONL line (no newline) per record, keys in the order of the schema.
std::string to_json_line(const Article& a);
std::string to_json_line(const User& u);
std::string to_json_line(const Truth& t);
std::string to_json_line(const UserInterests& ui);
std::string to_json_text(const Split& s);

// ---- what records are checked against ---------------------------------------------

// Known articles: id → publish time. Filled by NewsReader::next as it goes.
using NewsCatalog = std::unordered_map<std::string, std::int64_t>;

// Cross-file checks: a reader checks what it is given and skips what it is not.
struct CheckContext {
  const Split* split = nullptr;         // news published in [train.start, test.end); events in train
  const NewsCatalog* news = nullptr;    // event and truth ids must be known; clicks not before publication
  bool truth_in_test_window = true;     // truth items must be published in the test window
};

// ---- streaming readers ------------------------------------------------------------

class JsonlReader;

// The common part: a file read line by line, each line checked for length,
// UTF-8 and JSON syntax. Blank lines are errors (a JSONL file has none).
class RecordReader {
 public:
  RecordReader(const std::string& path, IssueSink sink, ReadLimits limits);
  ~RecordReader();
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  const std::string& path() const { return path_; }
  std::int64_t line() const;            // the line number of the record last returned
  std::int64_t records() const { return records_; }  // valid records returned so far
  std::int64_t issues() const { return issues_; }    // problems found so far
  std::uint64_t bytes_read() const;                  // of the file so far (for progress)

 protected:
  // The next line that is valid JSON; false at the end of the file.
  bool next_json(nlohmann::json& out);
  // Reports a problem at the current line (throws when there is no sink).
  void report(const std::string& message);
  void report_at(std::int64_t line, const std::string& message);
  std::size_t limits_bytes() const;

  std::int64_t records_ = 0;

 private:
  std::string path_;
  IssueSink sink_;
  std::unique_ptr<JsonlReader> lines_;
  std::int64_t issues_ = 0;
};

class NewsReader : public RecordReader {
 public:
  // Checks ids unique, publish times inside the split's windows (when given).
  explicit NewsReader(const std::string& path, IssueSink sink = {}, const Split* split = nullptr,
                      ReadLimits limits = {});
  bool next(Article& out);
  // Every valid article read so far: id → publish time.
  const NewsCatalog& catalog() const { return catalog_; }
  NewsCatalog take_catalog() { return std::move(catalog_); }

 private:
  const Split* split_;
  NewsCatalog catalog_;
};

class UsersReader : public RecordReader {
 public:
  // Checks ids unique, events sorted, inside the train window, known news ids.
  explicit UsersReader(const std::string& path, IssueSink sink = {}, CheckContext context = {},
                       ReadLimits limits = {});
  bool next(User& out);

 private:
  CheckContext context_;
  std::unordered_set<std::string> seen_;
};

class TruthReader : public RecordReader {
 public:
  // Checks users unique and known (when `users` is given), items known and published in the test window.
  explicit TruthReader(const std::string& path, IssueSink sink = {}, CheckContext context = {},
                       const std::unordered_set<std::string>* users = nullptr, ReadLimits limits = {});
  bool next(Truth& out);

 private:
  CheckContext context_;
  const std::unordered_set<std::string>* users_;
  std::unordered_set<std::string> seen_;
};

class InterestsReader : public RecordReader {
 public:
  explicit InterestsReader(const std::string& path, IssueSink sink = {}, ReadLimits limits = {});
  bool next(UserInterests& out);
};

// Reads and checks split.json (windows non-empty, train ends where or before test starts).
// Returns nullopt after reporting to `sink`, or throws DataError without one.
std::optional<Split> read_split(const std::string& path, IssueSink sink = {});

// Loaders: the whole file in memory, throwing DataError at the first problem.
std::vector<Article> load_news(const std::string& path, const Split* split = nullptr);
std::vector<User> load_users(const std::string& path, CheckContext context = {});
std::vector<Truth> load_truth(const std::string& path, CheckContext context = {});

}  // namespace newsrl::news
