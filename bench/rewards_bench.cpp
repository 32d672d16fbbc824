// Reward-worker throughput and a sanity check of the rubric rewards on a
// world: for each of the first USERS users, a group of G lists made from the
// user's own search texts ("own") and G lists of random train-window titles
// ("random"); prints lists scored per second (prepare + score) and each
// reward's mean per kind. Usage (docs/performance.md, "Rewards"):
//   rewards_bench WORLD_DIR INDEX_DIR [USERS=200] [G=8]
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "news/rewards.h"
#include "news/rng.h"
#include "news/schema.h"
#include "news/signals.h"

namespace nn = newsrl::news;

namespace {

// The first 4 words of a text: queries are short.
std::string first_words(const std::string& text) {
  std::string out;
  int words = 0;
  bool in_word = false;
  for (char c : text) {
    const bool space = c == ' ';
    if (!space && !in_word && ++words > 4) break;
    in_word = !space;
    out += c;
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

nn::ParsedList list_of(std::vector<std::string> queries) {
  nn::ParsedList p;
  p.valid = true;
  p.queries = std::move(queries);
  return p;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: rewards_bench WORLD_DIR INDEX_DIR [USERS=200] [G=8]\n");
    return 2;
  }
  namespace fs = std::filesystem;
  const std::string world = argv[1];
  const int users_wanted = argc > 3 ? std::stoi(argv[3]) : 200, g = argc > 4 ? std::stoi(argv[4]) : 8;
  const nn::Split split = *nn::read_split((fs::path(world) / nn::kSplitFile).string());
  nn::NewsTitles titles;
  std::vector<std::string> train_titles;
  for (const nn::Article& a : nn::load_news((fs::path(world) / nn::kNewsFile).string(), &split)) {
    titles[a.id] = a.title;
    if (split.train.contains(a.published)) train_titles.push_back(a.title);
  }
  const std::vector<nn::User> users = nn::load_users((fs::path(world) / nn::kUsersFile).string());
  const nn::NewsIndex index = nn::NewsIndex::load(argv[2]);
  nn::RewardModel model(index, {split.train.start, split.train.end}, nn::RewardConfig{});

  nn::Rng rng(7);
  double sums[2][6] = {};
  std::int64_t lists = 0, scored_users = 0;
  double seconds = 0;
  for (const nn::User& user : users) {
    if (scored_users == users_wanted) break;
    const std::vector<std::string> signals = nn::signal_texts(nn::cleaned_signals(user), titles);
    std::vector<std::string> searches;
    for (const nn::Event& e : nn::cleaned_signals(user).events)
      if (e.domain == nn::Domain::search && !e.text.empty()) searches.push_back(first_words(e.text));
    if (searches.size() < 4) continue;
    std::vector<nn::ParsedList> group;
    for (int i = 0; i < g; ++i) {  // own: 4 of the user's searches
      std::vector<std::string> q;
      for (int j = 0; j < 4; ++j) q.push_back(searches[rng.below(searches.size())]);
      group.push_back(list_of(q));
    }
    for (int i = 0; i < g; ++i) {  // random: 4 train titles
      std::vector<std::string> q;
      for (int j = 0; j < 4; ++j) q.push_back(first_words(train_titles[rng.below(train_titles.size())]));
      group.push_back(list_of(q));
    }
    const auto t0 = std::chrono::steady_clock::now();
    const nn::UserSignals prepared = model.prepare(signals);
    const std::vector<nn::Rewards> r = model.score(prepared, group);
    seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    for (std::size_t i = 0; i < r.size(); ++i) {
      double* s = sums[i < static_cast<std::size_t>(g) ? 0 : 1];
      s[0] += r[i].ret, s[1] += r[i].cov, s[2] += r[i].spec, s[3] += r[i].div, s[4] += r[i].structure;
      s[5] += r[i].composite;
    }
    lists += static_cast<std::int64_t>(r.size());
    ++scored_users;
  }
  std::printf("%lld users, %lld lists (%d own + %d random per user) in %.3f s: %.0f lists/s\n",
              static_cast<long long>(scored_users), static_cast<long long>(lists), g, g, seconds,
              static_cast<double>(lists) / seconds);
  const char* kinds[2] = {"own", "random"};
  std::printf("kind    R_ret  R_cov  R_spec R_div  R_struct composite\n");
  for (int k = 0; k < 2; ++k) {
    const double n = static_cast<double>(scored_users) * g;
    std::printf("%-7s %.3f  %.3f  %.3f  %.3f  %.3f    %.3f\n", kinds[k], sums[k][0] / n, sums[k][1] / n, sums[k][2] / n,
                sums[k][3] / n, sums[k][4] / n, sums[k][5] / n);
  }
  return 0;
}
