#include "news/world_text.h"

#include <array>
#include <cctype>
#include <string_view>
#include <vector>

namespace newsrl::news {

namespace {

template <typename T>
const T& pick(const std::vector<T>& v, Rng& rng) {
  return v[rng.below(v.size())];
}
template <typename T, std::size_t N>
const T& pick(const std::array<T, N>& v, Rng& rng) {
  return v[rng.below(N)];
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string capitalise(std::string s) {
  if (!s.empty()) s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
  return s;
}

// Title Case for page titles ("fresh powder" -> "Fresh Powder").
std::string title_case(std::string_view s) {
  std::string out(s);
  bool start = true;
  for (char& c : out) {
    if (start) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    start = c == ' ' || c == '-';
  }
  return out;
}

std::string slug(std::string_view s) {
  std::string out;
  for (const char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u)) out.push_back(static_cast<char>(std::tolower(u)));
    else if (!out.empty() && out.back() != '-') out.push_back('-');
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

// Fills {T} {U} term, second term; {P} person; {O} org; {L} place; {B} the subtopic's label.
struct Slots {
  std::string t, u, p, o, l, b;
  Slots(const Subtopic& s, Rng& rng)
      : t(pick(s.terms, rng)), p(pick(s.people, rng)), o(pick(s.orgs, rng)), l(pick(s.places, rng)), b(s.label) {
    u = pick(s.terms, rng);
    for (int tries = 0; tries < 4 && u == t; ++tries) u = pick(s.terms, rng);
  }
};

std::string fill(std::string_view pattern, const Slots& s, bool lowercase) {
  std::string out;
  out.reserve(pattern.size() + 48);
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && i + 2 < pattern.size() && pattern[i + 2] == '}') {
      const std::string* v = nullptr;
      switch (pattern[i + 1]) {
        case 'T': v = &s.t; break;
        case 'U': v = &s.u; break;
        case 'P': v = &s.p; break;
        case 'O': v = &s.o; break;
        case 'L': v = &s.l; break;
        case 'B': v = &s.b; break;
      }
      if (v) {
        out += lowercase ? lower(*v) : *v;
        i += 2;
        continue;
      }
    }
    out.push_back(pattern[i]);
  }
  return out;
}

constexpr std::array<std::string_view, 14> kHeadlines = {
    "{O} announces {T} plan for {L}",
    "{P} weighs in on {T} as {U} debate grows",
    "What the latest {T} news means for {L}",
    "{L} {T}: {O} responds to {U} concerns",
    "{P} and {O} face new questions over {T}",
    "Inside the {T} story that has {L} talking",
    "{O} says {T} will reshape {U}",
    "{T} update: {P} makes a surprise move",
    "Five things to know about {T} in {L}",
    "{P} links {T} to {U} in new remarks",
    "How {O} is rethinking {T}",
    "{L} sees record interest in {T} as {P} steps in",
    "{T} and {U}: the week ahead for {B}",
    "Analysis: {O} bets big on {T}",
};

constexpr std::array<std::string_view, 8> kAbstracts = {
    "{P} said the {T} in {L} would be watched closely. {O} expects {U} to follow within weeks.",
    "{O} confirmed new details about {T} on Tuesday. The move puts {U} back in the spotlight in {L}.",
    "Officials in {L} are reviewing {T}. {P} called it a turning point for {U}.",
    "A look at how {T} is shaping {B} this season, with {P} and {O} at the center.",
    "{P} spoke about {T} and {U}. Reaction from {O} was swift.",
    "The latest on {T}: {O} and {P} disagree on what comes next for {L}.",
    "From {L}, a closer look at {T} and why {U} matters now.",
    "",  // some articles have no abstract, as in MIND
};

constexpr std::array<std::string_view, 18> kQueries = {
    "{T}", "{T} {L}", "{P}", "{O} {T}", "latest {T}", "{T} near me", "what is {T}", "{P} {O}",
    "{T} news today", "{O}", "{B} {L}", "is {T} worth it", "{T} vs {U}", "how does {T} work",
    "{P} latest", "{O} schedule", "{T} 2026", "best {T}",
};

constexpr std::array<std::string_view, 12> kPages = {
    "{T} - Complete Guide | {S}",
    "{O} | Official Site",
    "{P}: Bio, Stats and Career | {S}",
    "{T} in {L}: Reviews, Tips and Prices - {S}",
    "Forum: anyone following {t}? | {S} Community",
    "Best {T} Picks This Year | {S}",
    "{O} Tickets, Schedule and Deals - {S}",
    "{B} | {L} Local Guide - {S}",
    "Shop {T} - Free Shipping | {S}",
    "{T} FAQ - {O} Help Center",
    "{T} vs {U}: Which Is Right for You? | {S}",
    "Photos: {T} Around {L} | {S}",
};

constexpr std::array<std::string_view, 12> kSites = {"TopicHub",  "CityWire", "FanZone",   "ReviewNest",
                                                      "GuideLine", "AskAround", "DealBarn", "InfoBase",
                                                      "TrailMap",  "PageOne",  "HowWire",  "LocalLens"};

constexpr std::array<std::string_view, 24> kNavigational = {
    "facebook login",   "gmail",          "youtube",        "amazon",        "netflix login",   "google maps",
    "instagram",        "outlook mail",   "translate",      "speed test",    "craigslist",      "walmart",
    "bank login",       "yahoo mail",     "twitter",        "whatsapp web",  "weather",         "calculator",
    "linkedin sign in", "ebay",           "paypal login",   "spotify",       "zoom download",   "chase online",
};

constexpr std::array<std::string_view, 20> kGenericPages = {
    "Home",           "Sign in",        "Log in to your account", "Page not found", "Inbox (3)",
    "Shopping Cart",  "Checkout",       "Search results",         "Untitled",       "Loading...",
    "Access denied",  "Privacy Policy", "Terms of Service",       "New Tab",        "Settings",
    "Order confirmation", "Reset your password", "Welcome", "403 Forbidden", "My Account",
};

std::string random_letters(Rng& rng, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('a' + rng.below(26)));
  return s;
}

std::string digits(Rng& rng, std::size_t n) {
  std::string s;
  for (std::size_t i = 0; i < n; ++i) s.push_back(static_cast<char>('0' + rng.below(10)));
  return s;
}

}  // namespace

ArticleText write_article(const Subtopic& topic, std::uint64_t article_number, Rng& rng) {
  const Slots s(topic, rng);
  ArticleText a;
  a.title = capitalise(fill(pick(kHeadlines, rng), s, false));
  a.abstract = fill(pick(kAbstracts, rng), s, false);
  a.url = "https://news.example/" + slug(topic.name) + "/" + std::to_string(article_number);
  return a;
}

std::string write_search_query(const Subtopic& topic, Rng& rng) {
  const Slots s(topic, rng);
  return fill(pick(kQueries, rng), s, true);
}

PageText write_page(const Subtopic& topic, Rng& rng) {
  Slots s(topic, rng);
  const std::string_view site = pick(kSites, rng);
  std::string pattern(pick(kPages, rng));
  // {S} is the site; {t} the term in lower case (forum posts); the rest in Title Case.
  std::string title;
  for (std::size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '{' && i + 2 < pattern.size() && pattern[i + 2] == '}') {
      const char k = pattern[i + 1];
      i += 2;
      switch (k) {
        case 'S': title += site; break;
        case 't': title += lower(s.t); break;
        case 'T': title += title_case(s.t); break;
        case 'U': title += title_case(s.u); break;
        case 'P': title += s.p; break;
        case 'O': title += s.o; break;
        case 'L': title += s.l; break;
        case 'B': title += title_case(s.b); break;
        default: title += std::string("{") + k + "}";
      }
      continue;
    }
    title.push_back(pattern[i]);
  }
  PageText p;
  p.title = std::move(title);
  p.url = "https://www." + lower(site) + ".example/" + slug(s.t) + "/" + std::to_string(rng.below(100000));
  return p;
}

std::string write_noise_query(Rng& rng) {
  switch (rng.below(3)) {
    case 0: {  // a random string, sometimes two
      std::string q = random_letters(rng, 3 + rng.below(9));
      if (rng.chance(0.4)) q += " " + random_letters(rng, 2 + rng.below(6));
      return q;
    }
    case 1: {  // a phone number in one of three spellings
      const std::string a = digits(rng, 3), b = digits(rng, 3), c = digits(rng, 4);
      switch (rng.below(3)) {
        case 0: return "(" + a + ") " + b + "-" + c;
        case 1: return a + "-" + b + "-" + c;
        default: return "+1 " + a + " " + b + " " + c;
      }
    }
    default: return std::string(pick(kNavigational, rng));
  }
}

PageText write_noise_page(Rng& rng) {
  PageText p;
  if (rng.chance(0.8)) {
    p.title = std::string(pick(kGenericPages, rng));
  } else {
    p.title = random_letters(rng, 4 + rng.below(8)) + " - index";
  }
  p.url = "https://www." + random_letters(rng, 5 + rng.below(6)) + ".example/" + slug(p.title);
  return p;
}

}  // namespace newsrl::news
