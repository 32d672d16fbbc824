// A user's observable signals as text: the cleaning filter (which events the
// prompt, the rewards and the labeller may see) and the text of each event
// (search text, page title, or the clicked article's title).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "news/schema.h"

namespace newsrl::news {

// True for an event the policy may see. The noise classifier replaces the default.
using SignalFilter = std::function<bool(const Event&)>;

// The default filter: every event whose annotator label is not false (so all
// events of data without labels). Never looks at `keep`, the hidden truth.
bool annotator_keeps(const Event& event);

// The user with only the events `keep` accepts (order and id unchanged).
User cleaned_signals(const User& user, const SignalFilter& keep = annotator_keeps);

// Article id -> title.
using NewsTitles = std::unordered_map<std::string, std::string>;

// The event's text made one printable line: control characters and runs of
// whitespace become one space, the ChatML marker "<|" becomes "< |" (a title
// cannot open or close a turn), trimmed. News events take the article's
// title; "" when the article is unknown or the text is blank.
std::string signal_text(const Event& event, const NewsTitles& titles);

// signal_text of every event, in event order, blanks left out.
std::vector<std::string> signal_texts(const User& user, const NewsTitles& titles);

}  // namespace newsrl::news
