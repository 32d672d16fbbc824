// A user's signals as text (news/signals.h).
#include "news/signals.h"

namespace newsrl::news {

bool annotator_keeps(const Event& event) { return event.annotator.value_or(true); }

User cleaned_signals(const User& user, const SignalFilter& keep) {
  User out;
  out.id = user.id;
  for (const Event& e : user.events)
    if (keep(e)) out.events.push_back(e);
  return out;
}

namespace {

std::string one_line(std::string_view text) {
  std::string out;
  bool space = false;
  for (char c : text) {
    unsigned char u = static_cast<unsigned char>(c);
    if (u < 0x20 || u == 0x7f || c == ' ') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out += ' ';
    space = false;
    if (c == '|' && !out.empty() && out.back() == '<') out += ' ';
    out += c;
  }
  return out;
}

}  // namespace

std::string signal_text(const Event& event, const NewsTitles& titles) {
  if (event.domain != Domain::news) return one_line(event.text);
  auto it = titles.find(event.news);
  return it == titles.end() ? std::string() : one_line(it->second);
}

std::vector<std::string> signal_texts(const User& user, const NewsTitles& titles) {
  std::vector<std::string> out;
  for (const Event& e : user.events) {
    std::string text = signal_text(e, titles);
    if (!text.empty()) out.push_back(std::move(text));
  }
  return out;
}

}  // namespace newsrl::news
