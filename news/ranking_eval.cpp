// Rankings scored against truth.jsonl with segments from users.jsonl (news/ranking_eval.h).
#include "news/ranking_eval.h"

#include "news/fast_jsonl.h"
#include "news/schema.h"

#include <unordered_map>

namespace newsrl::news {

std::vector<UserTruth> read_truth(const std::string& path) {
  // The truth's own checks that scoring relies on (ids, lists of strings, a
  // user once); `newsrl data check` checks the rest against news.jsonl.
  std::vector<UserTruth> out;
  std::vector<std::int64_t> lines;  // of each record, for the duplicate check's message
  std::unordered_map<std::string_view, std::int64_t> seen;
  for_each_jsonl_object(path, "truth", [&](simdjson::ondemand::object& object, const JsonlPlace& place) {
    UserTruth t;
    bool have_items = false;
    for (auto field : object) {
      const std::string_view key = field.unescaped_key();
      if (key == "user") {
        t.user = json_string(field.value(), place, "\"user\"");
      } else if (key == "items") {
        simdjson::ondemand::array items;
        if (field.value().get_array().get(items) != simdjson::SUCCESS) {
          throw std::invalid_argument(place.str() + "\"items\" must be a list of article ids");
        }
        t.items.reserve(items.count_elements());
        for (auto item : items) t.items.emplace_back(json_string(item.value(), place, "every item of \"items\""));
        have_items = true;
      }
    }
    if (!valid_user_id(t.user)) throw std::invalid_argument(place.str() + "\"user\" must be \"u\" and 16 lowercase hex digits");
    if (!have_items) throw std::invalid_argument(place.str() + "\"items\" is missing");
    out.push_back(std::move(t));
    lines.push_back(place.line);
  });
  seen.reserve(out.size());
  for (std::size_t i = 0; i < out.size(); ++i) {
    const auto [first, fresh] = seen.try_emplace(out[i].user, lines[i]);
    if (!fresh) {
      throw std::invalid_argument(path + ":" + std::to_string(lines[i]) + ": user " + out[i].user +
                                  " appears a second time (first at line " + std::to_string(first->second) + ")");
    }
  }
  return out;
}

UserSegments read_segments(const std::string& users_path) {
  // Only ids and event domains are read (with simdjson: users.jsonl is the
  // largest file); `newsrl data check` validates everything else.
  UserSegments out;
  for_each_jsonl_object(users_path, "users", [&](simdjson::ondemand::object& object, const JsonlPlace& place) {
    std::string user;
    std::size_t news_events = 0;
    bool have_events = false;
    for (auto field : object) {
      const std::string_view key = field.unescaped_key();
      if (key == "user") {
        user = json_string(field.value(), place, "\"user\"");
      } else if (key == "events") {
        simdjson::ondemand::array events;
        if (field.value().get_array().get(events) != simdjson::SUCCESS) {
          throw std::invalid_argument(place.str() + "\"events\" must be a list of events");
        }
        for (auto event : events) {
          simdjson::ondemand::object e;
          if (event.get_object().get(e) != simdjson::SUCCESS) throw std::invalid_argument(place.str() + "an event is not an object");
          for (auto part : e) {
            if (std::string_view(part.unescaped_key()) == "domain" && json_string(part.value(), place, "\"domain\"") == "news") {
              ++news_events;
            }
          }
        }
        have_events = true;
      }
    }
    if (!valid_user_id(user)) throw std::invalid_argument(place.str() + "\"user\" must be \"u\" and 16 lowercase hex digits");
    if (!have_events) throw std::invalid_argument(place.str() + "\"events\" is missing");
    if (!out.segment_of.emplace(user, news_events <= kColdMaxNewsEvents ? "cold" : "warm").second) {
      throw std::invalid_argument(place.str() + "user " + user + " appears twice");
    }
    out.users.push_back(std::move(user));
  });
  return out;
}

EvalReport evaluate_rankings(const std::unordered_map<std::string, std::vector<std::string>>& rankings,
                             const std::vector<UserTruth>& truth, const std::vector<int>& cutoffs,
                             const UserSegments* segments) {
  if (segments == nullptr) return evaluate(truth, rankings, cutoffs);
  std::unordered_map<std::string, std::string> segment_of = segments->segment_of;
  for (const UserTruth& t : truth) segment_of.try_emplace(t.user, "cold");
  return evaluate(truth, rankings, cutoffs, segment_of, segments->users);
}

}  // namespace newsrl::news
