#include "news/world.h"

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <vector>

#include "news/jsonl.h"
#include "news/rng.h"
#include "news/user_hash.h"
#include "news/world_text.h"

namespace newsrl::news {

namespace {

constexpr std::int64_t kDay = 86400;
constexpr std::size_t kChunkUsers = 2048;

// ---- time of day: people read more in the evening than at night ------------------------

constexpr std::array<double, 24> kHourWeight = {0.20, 0.15, 0.10, 0.10, 0.10, 0.20, 0.40, 0.70,
                                                0.85, 0.90, 0.90, 0.90, 0.95, 0.90, 0.85, 0.85,
                                                0.85, 0.90, 1.00, 1.00, 1.00, 0.90, 0.70, 0.40};

// A time in [a, b) following the day's rhythm (by rejection; the weights are at least 0.1).
std::int64_t time_of_day(std::int64_t a, std::int64_t b, Rng& rng) {
  for (;;) {
    const std::int64_t t = a + static_cast<std::int64_t>(rng.uniform() * static_cast<double>(b - a));
    const auto hour = static_cast<std::size_t>(((t % kDay) + kDay) % kDay / 3600);
    if (rng.uniform() < kHourWeight[hour]) return std::min(t, b - 1);
  }
}

// ---- article pools: publish-time order with cumulative popularity --------------------

struct Pool {
  std::vector<std::int64_t> published;
  std::vector<double> cumulative;  // popularity summed in publish order
  std::vector<std::uint32_t> article;

  void finish(std::vector<std::pair<std::int64_t, std::pair<double, std::uint32_t>>>& items) {
    std::sort(items.begin(), items.end());
    double sum = 0;
    for (const auto& [pub, rest] : items) {
      sum += rest.first;
      published.push_back(pub);
      cumulative.push_back(sum);
      article.push_back(rest.second);
    }
    items.clear();
    items.shrink_to_fit();
  }
  // A position of an article published in [a, b), chosen in proportion to popularity; -1 when none.
  std::ptrdiff_t sample(std::int64_t a, std::int64_t b, Rng& rng) const {
    const auto lo = static_cast<std::size_t>(std::lower_bound(published.begin(), published.end(), a) - published.begin());
    const auto hi = static_cast<std::size_t>(std::lower_bound(published.begin(), published.end(), b) - published.begin());
    if (lo >= hi) return -1;
    const double base = lo ? cumulative[lo - 1] : 0.0;
    const double x = base + rng.uniform() * (cumulative[hi - 1] - base);
    const auto it = std::upper_bound(cumulative.begin() + static_cast<std::ptrdiff_t>(lo),
                                     cumulative.begin() + static_cast<std::ptrdiff_t>(hi), x);
    return std::min<std::ptrdiff_t>(it - cumulative.begin(), static_cast<std::ptrdiff_t>(hi - 1));
  }
};

struct Articles {
  std::vector<Pool> train_by_topic, test_by_topic;
  Pool train_all, test_all;
  std::vector<std::uint16_t> topic;  // by article number - 1
};

// ---- per-user counts calibrated so the capped means hit their targets --------------------

// The inverse of the standard normal CDF, by bisection (called a few hundred times).
double normal_quantile(double p) {
  double lo = -10, hi = 10;
  for (int i = 0; i < 100; ++i) {
    const double mid = 0.5 * (lo + hi);
    (0.5 * std::erfc(-mid / std::sqrt(2.0)) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// E[min(Poisson(lambda), cap)].
double capped_poisson_mean(double lambda, std::int64_t cap) {
  double p = std::exp(-lambda), below = 0, mean = 0;
  for (std::int64_t k = 0; k < cap; ++k) {
    mean += static_cast<double>(k) * p;
    below += p;
    p *= lambda / static_cast<double>(k + 1);
  }
  return mean + static_cast<double>(cap) * std::max(0.0, 1.0 - below);
}

// The activity multipliers of a log-normal with mean 1 at 256 evenly spaced quantiles.
std::vector<double> activity_grid(double sigma) {
  std::vector<double> grid(256);
  for (std::size_t i = 0; i < grid.size(); ++i) {
    const double z = normal_quantile((static_cast<double>(i) + 0.5) / static_cast<double>(grid.size()));
    grid[i] = std::exp(sigma * z - 0.5 * sigma * sigma);
  }
  return grid;
}

double solve_mean(double target, std::int64_t cap, const std::vector<double>& grid) {
  if (target <= 0) return 0;
  auto expected = [&](double m) {
    double sum = 0;
    for (const double a : grid) sum += capped_poisson_mean(m * a, cap);
    return sum / static_cast<double>(grid.size());
  };
  double lo = 0, hi = target;
  while (expected(hi) < target && hi < 1e6) hi *= 2;
  for (int i = 0; i < 60; ++i) {
    const double mid = 0.5 * (lo + hi);
    (expected(mid) < target ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

// ---- one user ---------------------------------------------------------------------------------

struct ShortInterest {
  std::size_t topic;
  std::int64_t start, end;
};

struct UserOutput {
  std::string user_line, interests_line, truth_line;
  std::array<std::int64_t, 3> events{};
  std::int64_t noise = 0, disagreements = 0, truth_clicks = 0;
  bool cold = false;
};

class UserMaker {
 public:
  UserMaker(const WorldConfig& c, const Taxonomy& t, const Articles& a, const Split& s)
      : c_(c), tax_(t), art_(a), split_(s), hasher_("newsrl-world-" + std::to_string(c.seed)) {
    const std::array<double, 3> m = calibrated_means(c);
    search_mean_ = m[0], browse_mean_ = m[1], news_mean_ = m[2];
    double sum = 0;
    for (const Category& cat : t.categories) category_cdf_.push_back(sum += cat.weight);
  }

  UserOutput make(std::int64_t index) const {
    Rng rng(c_.seed, "user", static_cast<std::uint64_t>(index));
    UserOutput out;
    User user;
    user.id = hasher_("user-" + std::to_string(index));

    // Interests: 2..8 long-term ones of unequal weight, 0..2 short-lived ones.
    std::vector<std::size_t> long_topics;
    std::vector<double> long_weights;
    const auto k = static_cast<std::size_t>(c_.long_term_min) +
                   rng.below(static_cast<std::uint64_t>(c_.long_term_max - c_.long_term_min + 1));
    // Bounded: a category of tiny weight could otherwise keep a small taxonomy from ever filling k.
    for (std::size_t tries = 0; long_topics.size() < std::min(k, tax_.subtopics.size()) && tries < 64 * k; ++tries) {
      const std::size_t topic = random_topic(rng);
      if (std::find(long_topics.begin(), long_topics.end(), topic) == long_topics.end()) {
        long_topics.push_back(topic);
        long_weights.push_back(std::pow(-std::log(1.0 - rng.uniform()), 1.5) + 1e-6);
      }
    }
    double total = 0;
    for (const double w : long_weights) total += w;
    std::vector<std::size_t> order(long_topics.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return long_weights[x] > long_weights[y]; });
    UserInterests interests{user.id, {}};
    std::vector<std::size_t> topics_sorted;
    std::vector<double> cdf;
    double acc = 0;
    for (const std::size_t i : order) {
      topics_sorted.push_back(long_topics[i]);
      cdf.push_back(acc += long_weights[i] / total);
      interests.interests.push_back({tax_.subtopics[long_topics[i]].name, long_weights[i] / total, true});
    }
    std::vector<ShortInterest> shorts;
    const auto n_short = rng.below(static_cast<std::uint64_t>(c_.short_term_max + 1));
    const double train_span = static_cast<double>(split_.train.end - split_.train.start);
    for (std::uint64_t i = 0; i < n_short; ++i) {
      const std::size_t topic = random_topic(rng);
      if (std::find(long_topics.begin(), long_topics.end(), topic) != long_topics.end()) continue;
      const double length = std::min(train_span, c_.short_term_days * kDay * (0.5 + rng.uniform()));
      const auto start = split_.train.start + static_cast<std::int64_t>(rng.uniform() * (train_span - length));
      shorts.push_back({topic, start, start + static_cast<std::int64_t>(length)});
      interests.interests.push_back({tax_.subtopics[topic].name, c_.short_term_share, false});
    }

    // Activity: a long-tailed multiplier shared by the domains.
    const double activity = std::exp(c_.activity_sigma * rng.normal() - 0.5 * c_.activity_sigma * c_.activity_sigma);
    const auto cap = c_.max_per_domain;
    out.cold = rng.chance(c_.cold_share);
    const std::int64_t n_search = std::min(rng.poisson(search_mean_ * activity), cap);
    const std::int64_t n_browse = std::min(rng.poisson(browse_mean_ * activity), cap);
    const std::int64_t n_news = out.cold ? static_cast<std::int64_t>(rng.below(kColdMaxNewsEvents + 1))
                                         : std::min(rng.poisson(news_mean_ * activity), cap);

    auto pick_topic = [&](std::int64_t t, const ShortInterest** short_pick) {
      *short_pick = nullptr;
      if (!shorts.empty() && rng.chance(c_.short_term_share)) {
        const ShortInterest* active[16];
        std::size_t n = 0;
        for (const ShortInterest& s : shorts)
          if (t >= s.start && t < s.end && n < 16) active[n++] = &s;
        if (n > 0) {
          *short_pick = active[rng.below(n)];
          return (*short_pick)->topic;
        }
      }
      const double u = rng.uniform();
      const auto at = static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
      return topics_sorted[std::min(at, topics_sorted.size() - 1)];
    };
    auto label = [&](Event& e, bool keep) {
      e.keep = keep;
      e.annotator = rng.chance(c_.annotator_error) ? !keep : keep;
      out.noise += !keep;
      out.disagreements += *e.annotator != *e.keep;
    };

    for (std::int64_t i = 0; i < n_search; ++i) {
      Event e;
      e.domain = Domain::search;
      e.time = time_of_day(split_.train.start, split_.train.end, rng);
      const bool noise = rng.chance(c_.noise_rate);
      const ShortInterest* s = nullptr;
      e.text = noise ? write_noise_query(rng) : write_search_query(tax_.subtopics[pick_topic(e.time, &s)], rng);
      label(e, !noise);
      user.events.push_back(std::move(e));
    }
    for (std::int64_t i = 0; i < n_browse; ++i) {
      Event e;
      e.domain = Domain::browse;
      e.time = time_of_day(split_.train.start, split_.train.end, rng);
      const bool noise = rng.chance(c_.noise_rate);
      const ShortInterest* s = nullptr;
      PageText page = noise ? write_noise_page(rng) : write_page(tax_.subtopics[pick_topic(e.time, &s)], rng);
      e.text = std::move(page.title);
      e.url = std::move(page.url);
      label(e, !noise);
      user.events.push_back(std::move(e));
    }
    std::vector<std::uint32_t> clicked;
    for (std::int64_t i = 0; i < n_news; ++i) {
      bool keep = !rng.chance(c_.noise_rate);
      std::ptrdiff_t pos = -1;
      const Pool* pool = nullptr;
      const Pool* again_pool = nullptr;  // an article read before: taken when nothing new turns up
      std::ptrdiff_t again = -1;
      const auto seen = [&](const Pool* p, std::ptrdiff_t at) {
        return std::find(clicked.begin(), clicked.end(), p->article[static_cast<std::size_t>(at)]) != clicked.end();
      };
      for (int attempt = 0; attempt < 6 && pos < 0; ++attempt) {
        if (keep) {
          const ShortInterest* s = nullptr;
          const std::size_t topic = pick_topic(time_of_day(split_.train.start, split_.train.end, rng), &s);
          pool = &art_.train_by_topic[topic];
          pos = s ? pool->sample(s->start, s->end, rng) : pool->sample(split_.train.start, split_.train.end, rng);
          if (pos >= 0 && seen(pool, pos)) again_pool = pool, again = pos, pos = -1;
        } else {  // an off-interest click: anything popular outside the long-term interests
          pool = &art_.train_all;
          pos = pool->sample(split_.train.start, split_.train.end, rng);
          if (pos >= 0 && (seen(pool, pos) || std::find(long_topics.begin(), long_topics.end(),
                                                        art_.topic[pool->article[static_cast<std::size_t>(pos)]]) !=
                                                  long_topics.end()))
            pos = -1;
        }
      }
      if (pos < 0 && again >= 0) pool = again_pool, pos = again;  // a second read of an article on-interest
      if (pos < 0) {  // a tiny world where the interests have no articles yet: a popular one, marked off-interest
        keep = false;
        pool = &art_.train_all;
        pos = pool->sample(split_.train.start, split_.train.end, rng);
        if (pos < 0) continue;  // no article at all in the train window
      }
      Event e;
      e.domain = Domain::news;
      const std::uint32_t article = pool->article[static_cast<std::size_t>(pos)];
      e.time = click_time(pool->published[static_cast<std::size_t>(pos)], split_.train.end, rng);
      e.news = "N" + std::to_string(article + 1);
      clicked.push_back(article);
      label(e, keep);
      user.events.push_back(std::move(e));
    }
    std::stable_sort(user.events.begin(), user.events.end(),
                     [](const Event& a, const Event& b) { return a.time < b.time; });
    for (const Event& e : user.events) ++out.events[static_cast<std::size_t>(e.domain)];

    // The test week: future clicks on its articles, by long-term interest and popularity.
    const std::int64_t n_test = std::min(rng.poisson(c_.test_clicks_mean * activity), cap);
    std::vector<std::pair<std::int64_t, std::uint32_t>> future;
    for (std::int64_t i = 0; i < n_test; ++i) {
      std::ptrdiff_t pos = -1;
      const Pool* pool = nullptr;
      for (int attempt = 0; attempt < 6 && pos < 0; ++attempt) {
        if (rng.chance(c_.test_popular_share) || attempt == 5) {
          pool = &art_.test_all;
        } else {
          const double u = rng.uniform();
          const auto at = static_cast<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin());
          pool = &art_.test_by_topic[topics_sorted[std::min(at, topics_sorted.size() - 1)]];
        }
        pos = pool->sample(split_.test.start, split_.test.end, rng);
        if (pos >= 0) {
          const std::uint32_t article = pool->article[static_cast<std::size_t>(pos)];
          for (const auto& f : future) pos = f.second == article ? -1 : pos;
        }
      }
      if (pos < 0) continue;
      future.emplace_back(click_time(pool->published[static_cast<std::size_t>(pos)], split_.test.end, rng),
                          pool->article[static_cast<std::size_t>(pos)]);
    }
    std::stable_sort(future.begin(), future.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
    if (!future.empty()) {
      Truth truth{user.id, {}};
      for (const auto& f : future) truth.items.push_back("N" + std::to_string(f.second + 1));
      out.truth_clicks = static_cast<std::int64_t>(truth.items.size());
      out.truth_line = to_json_line(truth);
    }
    out.cold = is_cold(user);
    out.user_line = to_json_line(user);
    out.interests_line = to_json_line(interests);
    return out;
  }

 private:
  std::size_t random_topic(Rng& rng) const {
    const double u = rng.uniform();
    auto c = static_cast<std::size_t>(std::lower_bound(category_cdf_.begin(), category_cdf_.end(), u) -
                                      category_cdf_.begin());
    c = std::min(c, tax_.categories.size() - 1);
    const auto& subs = tax_.categories[c].subtopics;
    return subs[rng.below(subs.size())];
  }
  // Publication plus an exponential age (most clicks within two days), inside the window.
  std::int64_t click_time(std::int64_t published, std::int64_t window_end, Rng& rng) const {
    const double age = rng.exponential(c_.freshness_hours * 3600.0);
    const double room = static_cast<double>(window_end - 1 - published);
    if (age <= room) return published + static_cast<std::int64_t>(age);
    return published + static_cast<std::int64_t>(rng.uniform() * room);
  }

  const WorldConfig& c_;
  const Taxonomy& tax_;
  const Articles& art_;
  const Split& split_;
  UserHasher hasher_;
  double search_mean_, browse_mean_, news_mean_;
  std::vector<double> category_cdf_;
};

}  // namespace

std::array<double, 3> calibrated_means(const WorldConfig& c) {
  const std::vector<double> grid = activity_grid(c.activity_sigma);
  const double warm_news = (c.news_mean - c.cold_share * 1.5) / (1.0 - c.cold_share);
  return {solve_mean(c.search_mean, c.max_per_domain, grid), solve_mean(c.browse_mean, c.max_per_domain, grid),
          solve_mean(warm_news, c.max_per_domain, grid)};
}

WorldStats generate_world(const WorldConfig& config, const Taxonomy& taxonomy, const std::string& out_dir,
                          const WorldProgress& progress) {
  namespace fs = std::filesystem;
  if (const auto problems = config.problems(); !problems.empty()) throw std::invalid_argument(problems.front());
  if (taxonomy.subtopics.size() > 65535) throw std::invalid_argument("the taxonomy has more than 65535 subtopics");
  std::error_code ec;
  fs::create_directories(out_dir, ec);
  if (ec || !fs::is_directory(out_dir)) throw std::invalid_argument(out_dir + ": cannot create the folder");

  WorldStats stats;
  const std::int64_t t0 = *parse_time(config.start);
  stats.split = {{t0, t0 + config.train_days * kDay}, {t0 + config.train_days * kDay,
                                                       t0 + (config.train_days + config.test_days) * kDay}};
  const Split& split = stats.split;

  // Articles: text to news.jsonl, times and popularity into the pools.
  Articles art;
  art.topic.resize(static_cast<std::size_t>(config.news));
  std::vector<double> category_cdf;
  double sum = 0;
  for (const Category& cat : taxonomy.categories) category_cdf.push_back(sum += cat.weight);
  using Item = std::pair<std::int64_t, std::pair<double, std::uint32_t>>;
  std::vector<std::vector<Item>> train_items(taxonomy.subtopics.size()), test_items(taxonomy.subtopics.size());
  std::vector<Item> all_train, all_test;
  AtomicFileWriter news_file((fs::path(out_dir) / kNewsFile).string());
  for (std::int64_t j = 0; j < config.news; ++j) {
    Rng rng(config.seed, "article", static_cast<std::uint64_t>(j));
    auto c = static_cast<std::size_t>(std::lower_bound(category_cdf.begin(), category_cdf.end(), rng.uniform()) -
                                      category_cdf.begin());
    c = std::min(c, taxonomy.categories.size() - 1);
    const std::size_t topic = taxonomy.categories[c].subtopics[rng.below(taxonomy.categories[c].subtopics.size())];
    const Subtopic& sub = taxonomy.subtopics[topic];
    Article a;
    a.id = "N" + std::to_string(j + 1);
    a.published = time_of_day(split.train.start, split.test.end, rng);
    const double popularity = std::min(std::pow(1.0 - rng.uniform(), -1.0 / config.popularity_alpha), 1e6);
    ArticleText text = write_article(sub, static_cast<std::uint64_t>(j + 1), rng);
    a.title = std::move(text.title);
    a.abstract = std::move(text.abstract);
    a.url = std::move(text.url);
    a.category = taxonomy.categories[c].name;
    a.subcategory = sub.name;
    news_file.line(to_json_line(a));
    art.topic[static_cast<std::size_t>(j)] = static_cast<std::uint16_t>(topic);
    const Item item{a.published, {popularity, static_cast<std::uint32_t>(j)}};
    const bool train = split.train.contains(a.published);
    (train ? train_items : test_items)[topic].push_back(item);
    (train ? all_train : all_test).push_back(item);
    ++(train ? stats.news_train : stats.news_test);
    if (progress && (j + 1) % 65536 == 0) progress("news", j + 1, config.news);
  }
  news_file.commit();
  stats.news = config.news;
  art.train_by_topic.resize(taxonomy.subtopics.size());
  art.test_by_topic.resize(taxonomy.subtopics.size());
  for (std::size_t t = 0; t < taxonomy.subtopics.size(); ++t) {
    art.train_by_topic[t].finish(train_items[t]);
    art.test_by_topic[t].finish(test_items[t]);
  }
  art.train_all.finish(all_train);
  art.test_all.finish(all_test);
  if (progress) progress("news", config.news, config.news);

  // Users, a chunk at a time: generated in parallel, written in order.
  const UserMaker maker(config, taxonomy, art, split);
  const auto path = [&](const char* name) { return (fs::path(out_dir) / name).string(); };
  AtomicFileWriter users_file(path(kUsersFile)), truth_file(path(kTruthFile)), interests_file(path(kInterestsFile));
  std::vector<UserOutput> chunk(kChunkUsers);
  for (std::int64_t first = 0; first < config.users; first += static_cast<std::int64_t>(kChunkUsers)) {
    const std::int64_t n = std::min<std::int64_t>(static_cast<std::int64_t>(kChunkUsers), config.users - first);
    std::exception_ptr error;
#pragma omp parallel for schedule(dynamic, 16)
    for (std::int64_t i = 0; i < n; ++i) {
      try {
        chunk[static_cast<std::size_t>(i)] = maker.make(first + i);
      } catch (...) {
#pragma omp critical
        error = std::current_exception();
      }
    }
    if (error) std::rethrow_exception(error);
    for (std::int64_t i = 0; i < n; ++i) {
      UserOutput& u = chunk[static_cast<std::size_t>(i)];
      users_file.line(u.user_line);
      interests_file.line(u.interests_line);
      if (!u.truth_line.empty()) {
        truth_file.line(u.truth_line);
        ++stats.truth_users;
        stats.truth_clicks += u.truth_clicks;
      }
      for (std::size_t d = 0; d < 3; ++d) {
        stats.events[d] += u.events[d];
        stats.max_events[d] = std::max(stats.max_events[d], u.events[d]);
      }
      stats.noise_events += u.noise;
      stats.annotator_disagreements += u.disagreements;
      stats.cold_users += u.cold;
      u = UserOutput{};
    }
    stats.users += n;
    if (progress) progress("users", stats.users, config.users);
  }
  users_file.commit();
  truth_file.commit();
  interests_file.commit();

  AtomicFileWriter split_file((fs::path(out_dir) / kSplitFile).string());
  split_file.text(to_json_text(split));
  split_file.commit();

  const auto per_user = [&](std::int64_t n) { return static_cast<double>(n) / static_cast<double>(stats.users); };
  const std::int64_t events = stats.events[0] + stats.events[1] + stats.events[2];
  nlohmann::json j = {
      {"seed", config.seed},
      {"users", stats.users},
      {"news", stats.news},
      {"news_train", stats.news_train},
      {"news_test", stats.news_test},
      {"categories", taxonomy.categories.size()},
      {"subtopics", taxonomy.subtopics.size()},
      {"events", {{"total", events}}},
      {"noise_share", events ? static_cast<double>(stats.noise_events) / static_cast<double>(events) : 0.0},
      {"annotator_disagreement",
       events ? static_cast<double>(stats.annotator_disagreements) / static_cast<double>(events) : 0.0},
      {"cold_users", stats.cold_users},
      {"cold_share", per_user(stats.cold_users)},
      {"truth_users", stats.truth_users},
      {"truth_clicks", stats.truth_clicks},
      {"clicks_per_test_user",
       stats.truth_users ? static_cast<double>(stats.truth_clicks) / static_cast<double>(stats.truth_users) : 0.0},
      {"split", nlohmann::json::parse(to_json_text(split))},
      {"config", config.to_json()},
  };
  for (std::size_t d = 0; d < 3; ++d) {
    j["events"][std::string(domain_name(static_cast<Domain>(d)))] = {
        {"total", stats.events[d]}, {"per_user", per_user(stats.events[d])}, {"max_per_user", stats.max_events[d]}};
  }
  AtomicFileWriter stats_file((fs::path(out_dir) / kStatsFile).string());
  stats_file.text(j.dump(2) + "\n");
  stats_file.commit();
  return stats;
}

}  // namespace newsrl::news
