// The schema's records, their JSON form and the validating readers.
#include "news/schema.h"

#include <charconv>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "news/jsonl.h"
#include "news/utf8.h"

namespace newsrl::news {

using nlohmann::json;

// ---- small things ---------------------------------------------------------------

bool is_cold(const User& user) {
  std::size_t clicks = 0;
  for (const Event& e : user.events) clicks += e.domain == Domain::news;
  return clicks <= kColdMaxNewsEvents;
}

std::string_view domain_name(Domain d) {
  switch (d) {
    case Domain::search: return "search";
    case Domain::browse: return "browse";
    case Domain::news: return "news";
  }
  return "?";
}

std::optional<Domain> parse_domain(std::string_view name) {
  if (name == "search") return Domain::search;
  if (name == "browse") return Domain::browse;
  if (name == "news") return Domain::news;
  return std::nullopt;
}

bool valid_user_id(std::string_view id) {
  if (id.size() != 17 || id[0] != 'u') return false;
  for (std::size_t i = 1; i < id.size(); ++i) {
    const char c = id[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// ---- time ---------------------------------------------------------------------------

// The civil-date arithmetic of the proleptic Gregorian calendar in 400-year eras.
std::int64_t days_from_civil(std::int64_t year, unsigned month, unsigned day) {
  year -= month <= 2;
  const std::int64_t era = (year >= 0 ? year : year - 399) / 400;
  const auto year_of_era = static_cast<unsigned>(year - era * 400);
  const unsigned day_of_year = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1;
  const unsigned day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
  return era * 146097 + static_cast<std::int64_t>(day_of_era) - 719468;
}

namespace {

struct Civil {
  std::int64_t year;
  unsigned month, day;
};

Civil civil_from_days(std::int64_t z) {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto day_of_era = static_cast<unsigned>(z - era * 146097);
  const unsigned year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
  const unsigned day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
  const unsigned mp = (5 * day_of_year + 2) / 153;
  const unsigned day = day_of_year - (153 * mp + 2) / 5 + 1;
  const unsigned month = mp < 10 ? mp + 3 : mp - 9;
  return {static_cast<std::int64_t>(year_of_era) + era * 400 + (month <= 2), month, day};
}

bool leap(std::int64_t y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

unsigned days_in_month(std::int64_t y, unsigned m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && leap(y) ? 29 : kDays[m - 1];
}

// Digits at text[pos, pos+n) as a number; -1 when any is not a digit.
int digits(std::string_view text, std::size_t pos, std::size_t n) {
  int v = 0;
  for (std::size_t i = pos; i < pos + n; ++i) {
    if (text[i] < '0' || text[i] > '9') return -1;
    v = v * 10 + (text[i] - '0');
  }
  return v;
}

}  // namespace

std::optional<std::int64_t> parse_time(std::string_view t) {
  // YYYY-MM-DDTHH:MM:SSZ
  if (t.size() != 20 || t[4] != '-' || t[7] != '-' || t[10] != 'T' || t[13] != ':' || t[16] != ':' || t[19] != 'Z')
    return std::nullopt;
  const int y = digits(t, 0, 4), mo = digits(t, 5, 2), d = digits(t, 8, 2);
  const int h = digits(t, 11, 2), mi = digits(t, 14, 2), s = digits(t, 17, 2);
  if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59)
    return std::nullopt;
  if (static_cast<unsigned>(d) > days_in_month(y, static_cast<unsigned>(mo))) return std::nullopt;
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 + h * 3600 + mi * 60 + s;
}

std::string format_time(std::int64_t seconds) {
  std::int64_t days = seconds / 86400;
  std::int64_t rest = seconds % 86400;
  if (rest < 0) rest += 86400, --days;
  const Civil c = civil_from_days(days);
  // Written digit by digit: this runs for every event of every generated user.
  std::string out = "0000-00-00T00:00:00Z";
  const auto put = [&](std::size_t pos, std::int64_t value, int width) {
    for (int i = width - 1; i >= 0; --i, value /= 10) out[pos + static_cast<std::size_t>(i)] = static_cast<char>('0' + value % 10);
  };
  put(0, c.year % 10000, 4);
  put(5, c.month, 2);
  put(8, c.day, 2);
  put(11, rest / 3600, 2);
  put(14, rest / 60 % 60, 2);
  put(17, rest % 60, 2);
  return out;
}

// ---- problems -------------------------------------------------------------------------

std::string DataIssue::str() const {
  return line > 0 ? file + ":" + std::to_string(line) + ": " + message : file + ": " + message;
}

DataError::DataError(DataIssue issue) : std::invalid_argument(issue.str()), issue_(std::move(issue)) {}

// ---- from JSON ---------------------------------------------------------------------------

namespace {

// Each getter returns "" or what is wrong with the field.
std::string get_string(const json& j, const char* key, std::string& out, bool required, bool non_empty) {
  const auto it = j.find(key);
  if (it == j.end()) {
    out.clear();
    return required ? std::string("missing field \"") + key + "\"" : "";
  }
  if (!it->is_string()) return std::string("field \"") + key + "\" must be a string";
  out = it->get<std::string>();
  if (non_empty && out.empty()) return std::string("field \"") + key + "\" is empty";
  return "";
}

std::string get_time(const json& j, const char* key, std::int64_t& out) {
  std::string text;
  if (std::string e = get_string(j, key, text, true, false); !e.empty()) return e;
  const auto t = parse_time(text);
  if (!t) return std::string("field \"") + key + "\" = \"" + text + "\" is not a time like 2026-10-05T14:03:00Z";
  out = *t;
  return "";
}

std::string get_optional_bool(const json& j, const char* key, std::optional<bool>& out) {
  const auto it = j.find(key);
  out.reset();
  if (it == j.end()) return "";
  if (!it->is_boolean()) return std::string("field \"") + key + "\" must be true or false";
  out = it->get<bool>();
  return "";
}

std::string get_user(const json& j, std::string& out) {
  if (std::string e = get_string(j, "user", out, true, true); !e.empty()) return e;
  if (!valid_user_id(out)) return "field \"user\" = \"" + out + "\" is not a hashed id (\"u\" and 16 lowercase hex digits)";
  return "";
}

std::string get_string_list(const json& j, const char* key, std::vector<std::string>& out) {
  out.clear();
  const auto it = j.find(key);
  if (it == j.end()) return std::string("missing field \"") + key + "\"";
  if (!it->is_array()) return std::string("field \"") + key + "\" must be a list of strings";
  out.reserve(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    if (!v.is_string() || v.get_ref<const std::string&>().empty())
      return std::string(key) + "[" + std::to_string(i) + "] must be a non-empty string";
    out.push_back(v.get<std::string>());
  }
  return "";
}

std::string event_from_json(const json& j, Event& e) {
  if (!j.is_object()) return "must be an object";
  std::string domain;
  if (std::string err = get_string(j, "domain", domain, true, false); !err.empty()) return err;
  const auto d = parse_domain(domain);
  if (!d) return "field \"domain\" = \"" + domain + "\" is not search, browse or news";
  e.domain = *d;
  if (std::string err = get_time(j, "time", e.time); !err.empty()) return err;
  e.text.clear(), e.url.clear(), e.news.clear();
  std::string err;
  switch (e.domain) {
    case Domain::search: err = get_string(j, "text", e.text, true, true); break;
    case Domain::browse:
      err = get_string(j, "title", e.text, true, true);
      if (err.empty()) err = get_string(j, "url", e.url, false, false);
      break;
    case Domain::news: err = get_string(j, "news", e.news, true, true); break;
  }
  if (!err.empty()) return err;
  if (err = get_optional_bool(j, "keep", e.keep); !err.empty()) return err;
  return get_optional_bool(j, "annotator", e.annotator);
}

}  // namespace

std::string article_from_json(const json& j, Article& a) {
  if (!j.is_object()) return "an article must be a JSON object";
  std::string e;
  if (e = get_string(j, "id", a.id, true, true); !e.empty()) return e;
  if (e = get_string(j, "title", a.title, true, true); !e.empty()) return e;
  if (e = get_string(j, "abstract", a.abstract, true, false); !e.empty()) return e;
  if (e = get_string(j, "category", a.category, true, true); !e.empty()) return e;
  if (e = get_string(j, "subcategory", a.subcategory, true, true); !e.empty()) return e;
  if (e = get_string(j, "url", a.url, false, false); !e.empty()) return e;
  return get_time(j, "published", a.published);
}

std::string user_from_json(const json& j, User& u) {
  if (!j.is_object()) return "a user must be a JSON object";
  if (std::string e = get_user(j, u.id); !e.empty()) return e;
  const auto it = j.find("events");
  if (it == j.end()) return "missing field \"events\"";
  if (!it->is_array()) return "field \"events\" must be a list";
  u.events.resize(it->size());
  for (std::size_t i = 0; i < it->size(); ++i) {
    if (std::string e = event_from_json((*it)[i], u.events[i]); !e.empty())
      return "events[" + std::to_string(i) + "]: " + e;
  }
  return "";
}

std::string truth_from_json(const json& j, Truth& t) {
  if (!j.is_object()) return "a truth record must be a JSON object";
  if (std::string e = get_user(j, t.user); !e.empty()) return e;
  return get_string_list(j, "items", t.items);
}

std::string interests_from_json(const json& j, UserInterests& ui) {
  if (!j.is_object()) return "an interests record must be a JSON object";
  if (std::string e = get_user(j, ui.user); !e.empty()) return e;
  const auto it = j.find("interests");
  if (it == j.end()) return "missing field \"interests\"";
  if (!it->is_array()) return "field \"interests\" must be a list";
  ui.interests.clear();
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& v = (*it)[i];
    const auto where = [&] { return "interests[" + std::to_string(i) + "]: "; };
    if (!v.is_object()) return where() + "must be an object";
    Interest in;
    if (std::string e = get_string(v, "subtopic", in.subtopic, true, true); !e.empty()) return where() + e;
    const auto w = v.find("weight");
    if (w == v.end() || !w->is_number() || w->get<double>() < 0) return where() + "field \"weight\" must be a number >= 0";
    in.weight = w->get<double>();
    const auto lt = v.find("long_term");
    if (lt == v.end() || !lt->is_boolean()) return where() + "field \"long_term\" must be true or false";
    in.long_term = lt->get<bool>();
    ui.interests.push_back(std::move(in));
  }
  return "";
}

std::string split_from_json(const json& j, Split& s) {
  if (!j.is_object()) return "the split must be a JSON object";
  for (const char* name : {"train", "test"}) {
    const auto it = j.find(name);
    if (it == j.end()) return std::string("missing field \"") + name + "\"";
    if (!it->is_object()) return std::string("field \"") + name + "\" must be an object with start and end";
    Window& w = std::string_view(name) == "train" ? s.train : s.test;
    if (std::string e = get_time(*it, "start", w.start); !e.empty()) return std::string(name) + ": " + e;
    if (std::string e = get_time(*it, "end", w.end); !e.empty()) return std::string(name) + ": " + e;
    if (w.end <= w.start) return std::string(name) + ": the window is empty (end must be after start)";
  }
  if (s.train.end > s.test.start) return "the train window must end where or before the test window starts";
  return "";
}

// ---- to JSON -------------------------------------------------------------------------------

namespace {

void add_key(std::string& out, const char* key) {
  out += '"';
  out += key;
  out += "\":";
}

void add_field(std::string& out, const char* key, std::string_view value, bool first = false) {
  if (!first) out += ',';
  add_key(out, key);
  append_json_string(out, value);
}

}  // namespace

std::string to_json_line(const Article& a) {
  std::string out = "{";
  add_field(out, "id", a.id, true);
  add_field(out, "title", a.title);
  add_field(out, "abstract", a.abstract);
  add_field(out, "category", a.category);
  add_field(out, "subcategory", a.subcategory);
  if (!a.url.empty()) add_field(out, "url", a.url);
  add_field(out, "published", format_time(a.published));
  out += '}';
  return out;
}

std::string to_json_line(const User& u) {
  std::string out = "{";
  add_field(out, "user", u.id, true);
  out += ",\"events\":[";
  for (std::size_t i = 0; i < u.events.size(); ++i) {
    const Event& e = u.events[i];
    if (i) out += ',';
    out += '{';
    add_field(out, "domain", domain_name(e.domain), true);
    add_field(out, "time", format_time(e.time));
    switch (e.domain) {
      case Domain::search: add_field(out, "text", e.text); break;
      case Domain::browse:
        add_field(out, "title", e.text);
        if (!e.url.empty()) add_field(out, "url", e.url);
        break;
      case Domain::news: add_field(out, "news", e.news); break;
    }
    if (e.keep) out += *e.keep ? ",\"keep\":true" : ",\"keep\":false";
    if (e.annotator) out += *e.annotator ? ",\"annotator\":true" : ",\"annotator\":false";
    out += '}';
  }
  out += "]}";
  return out;
}

std::string to_json_line(const Truth& t) {
  std::string out = "{";
  add_field(out, "user", t.user, true);
  out += ",\"items\":[";
  for (std::size_t i = 0; i < t.items.size(); ++i) {
    if (i) out += ',';
    append_json_string(out, t.items[i]);
  }
  out += "]}";
  return out;
}

std::string to_json_line(const UserInterests& ui) {
  std::string out = "{";
  add_field(out, "user", ui.user, true);
  out += ",\"interests\":[";
  for (std::size_t i = 0; i < ui.interests.size(); ++i) {
    const Interest& in = ui.interests[i];
    if (i) out += ',';
    out += '{';
    add_field(out, "subtopic", in.subtopic, true);
    char weight[32];
    std::snprintf(weight, sizeof weight, "%.4f", in.weight);
    out += ",\"weight\":";
    out += weight;
    out += in.long_term ? ",\"long_term\":true}" : ",\"long_term\":false}";
  }
  out += "]}";
  return out;
}

std::string to_json_text(const Split& s) {
  return "{\"train\":{\"start\":\"" + format_time(s.train.start) + "\",\"end\":\"" + format_time(s.train.end) +
         "\"},\"test\":{\"start\":\"" + format_time(s.test.start) + "\",\"end\":\"" + format_time(s.test.end) +
         "\"}}\n";
}

// ---- readers ----------------------------------------------------------------------------------

RecordReader::RecordReader(const std::string& path, IssueSink sink, ReadLimits limits)
    : path_(path), sink_(std::move(sink)), lines_(std::make_unique<JsonlReader>(path, limits.max_line_bytes)) {}

RecordReader::~RecordReader() = default;

std::int64_t RecordReader::line() const { return lines_->line_number(); }

std::uint64_t RecordReader::bytes_read() const { return lines_->bytes_read(); }

void RecordReader::report_at(std::int64_t line_number, const std::string& message) {
  ++issues_;
  DataIssue issue{path_, line_number, message};
  if (!sink_) throw DataError(std::move(issue));
  sink_(issue);
}

void RecordReader::report(const std::string& message) { report_at(lines_->line_number(), message); }

bool RecordReader::next_json(json& out) {
  std::string text;
  for (;;) {
    const JsonlReader::Status status = lines_->next(text);
    if (status == JsonlReader::Status::end) return false;
    if (status == JsonlReader::Status::oversized) {
      report("line longer than the limit of " + std::to_string(limits_bytes()) + " bytes");
      continue;
    }
    if (text.empty()) {
      report("empty line (a JSONL file holds one JSON object per line)");
      continue;
    }
    if (const auto bad = find_invalid_utf8(text)) {
      report("invalid UTF-8 at byte " + std::to_string(*bad + 1) + " of the line");
      continue;
    }
    try {
      out = json::parse(text);
    } catch (const json::parse_error& e) {
      // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."; keep what follows "line 1, ".
      std::string what = e.what();
      const auto at = what.find("column");
      report("malformed JSON (" + (at == std::string::npos ? what : what.substr(at)) + ")");
      continue;
    }
    return true;
  }
}

std::size_t RecordReader::limits_bytes() const { return lines_->max_line_bytes(); }

NewsReader::NewsReader(const std::string& path, IssueSink sink, const Split* split, ReadLimits limits)
    : RecordReader(path, std::move(sink), limits), split_(split) {}

bool NewsReader::next(Article& a) {
  json j;
  while (next_json(j)) {
    if (std::string e = article_from_json(j, a); !e.empty()) {
      report(e);
      continue;
    }
    if (split_ && (a.published < split_->train.start || a.published >= split_->test.end)) {
      report("article " + a.id + " published " + format_time(a.published) + ", outside the windows [" +
             format_time(split_->train.start) + ", " + format_time(split_->test.end) + ")");
      continue;
    }
    if (!catalog_.emplace(a.id, a.published).second) {
      report("duplicate article id \"" + a.id + "\"");
      continue;
    }
    ++records_;
    return true;
  }
  return false;
}

UsersReader::UsersReader(const std::string& path, IssueSink sink, CheckContext context, ReadLimits limits)
    : RecordReader(path, std::move(sink), limits), context_(context) {}

bool UsersReader::next(User& u) {
  json j;
  while (next_json(j)) {
    if (std::string e = user_from_json(j, u); !e.empty()) {
      report(e);
      continue;
    }
    const std::int64_t before = issues();
    for (std::size_t i = 0; i < u.events.size(); ++i) {
      const Event& e = u.events[i];
      const auto where = [&] { return "user " + u.id + " events[" + std::to_string(i) + "]: "; };  // built on a problem only
      if (i > 0 && e.time < u.events[i - 1].time) report(where() + "events are not sorted by time");
      if (context_.split && !context_.split->train.contains(e.time)) {
        report(where() + "time " + format_time(e.time) + " is outside the train window [" +
               format_time(context_.split->train.start) + ", " + format_time(context_.split->train.end) + ")");
      }
      if (context_.news && e.domain == Domain::news) {
        const auto it = context_.news->find(e.news);
        if (it == context_.news->end()) {
          report(where() + "unknown news id \"" + e.news + "\"");
        } else if (e.time < it->second) {
          report(where() + "click on " + e.news + " at " + format_time(e.time) + " before its publication " +
                 format_time(it->second));
        }
      }
    }
    if (!seen_.insert(u.id).second) report("duplicate user " + u.id);
    if (issues() != before) continue;
    ++records_;
    return true;
  }
  return false;
}

TruthReader::TruthReader(const std::string& path, IssueSink sink, CheckContext context,
                         const std::unordered_set<std::string>* users, ReadLimits limits)
    : RecordReader(path, std::move(sink), limits), context_(context), users_(users) {}

bool TruthReader::next(Truth& t) {
  json j;
  while (next_json(j)) {
    if (std::string e = truth_from_json(j, t); !e.empty()) {
      report(e);
      continue;
    }
    const std::int64_t before = issues();
    if (users_ && !users_->contains(t.user)) report("user " + t.user + " is not in users.jsonl");
    if (!seen_.insert(t.user).second) report("duplicate user " + t.user);
    if (context_.news) {
      for (std::size_t i = 0; i < t.items.size(); ++i) {
        const auto it = context_.news->find(t.items[i]);
        const auto where = [&] { return "user " + t.user + " items[" + std::to_string(i) + "]: "; };
        if (it == context_.news->end()) {
          report(where() + "unknown news id \"" + t.items[i] + "\"");
        } else if (context_.split && context_.truth_in_test_window && !context_.split->test.contains(it->second)) {
          report(where() + t.items[i] + " was published " + format_time(it->second) + ", outside the test window");
        }
      }
    }
    if (issues() != before) continue;
    ++records_;
    return true;
  }
  return false;
}

InterestsReader::InterestsReader(const std::string& path, IssueSink sink, ReadLimits limits)
    : RecordReader(path, std::move(sink), limits) {}

bool InterestsReader::next(UserInterests& ui) {
  json j;
  while (next_json(j)) {
    if (std::string e = interests_from_json(j, ui); !e.empty()) {
      report(e);
      continue;
    }
    ++records_;
    return true;
  }
  return false;
}

std::optional<Split> read_split(const std::string& path, IssueSink sink) {
  auto fail = [&](const std::string& message) -> std::optional<Split> {
    DataIssue issue{path, 0, message};
    if (!sink) throw DataError(issue);
    sink(issue);
    return std::nullopt;
  };
  std::ifstream in(path, std::ios::binary);
  if (!in) return fail("cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  if (const auto bad = find_invalid_utf8(text)) return fail("invalid UTF-8 at byte " + std::to_string(*bad + 1));
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    return fail(std::string("malformed JSON (") + e.what() + ")");
  }
  Split s;
  if (std::string e = split_from_json(j, s); !e.empty()) return fail(e);
  return s;
}

std::vector<Article> load_news(const std::string& path, const Split* split) {
  NewsReader reader(path, {}, split);
  std::vector<Article> out;
  Article a;
  while (reader.next(a)) out.push_back(a);
  return out;
}

std::vector<User> load_users(const std::string& path, CheckContext context) {
  UsersReader reader(path, {}, context);
  std::vector<User> out;
  User u;
  while (reader.next(u)) out.push_back(u);
  return out;
}

std::vector<Truth> load_truth(const std::string& path, CheckContext context) {
  TruthReader reader(path, {}, context);
  std::vector<Truth> out;
  Truth t;
  while (reader.next(t)) out.push_back(t);
  return out;
}

}  // namespace newsrl::news
