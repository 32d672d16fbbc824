// Generation and evaluation of a policy on the actors (actors/policy_eval.h).
// Users go to the rollout-workers in fixed batches of `batch` users, whole
// batches round-robin, so every call samples the same prompts with the same
// streams whatever the number of workers: the lists do not depend on the
// rank count. Scoring (the rewards), best-of-N and retrieval run on the driver
// while the workers sample the next batches.
#include "actors/policy_eval.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <unordered_map>
#include <unordered_set>

#include "actors/best_of_n.h"
#include "actors/policy_actors.h"
#include "models/model_file.h"
#include "models/tokenizer.h"
#include "news/heuristics.h"
#include "news/index_world.h"
#include "news/metrics.h"
#include "news/news_index.h"
#include "news/ranking_eval.h"
#include "news/rankings.h"
#include "news/rewards.h"
#include "news/schema.h"
#include "news/signals.h"
#include "runtime/errors.h"
#include "runtime/h5_file.h"

namespace newsrl::actors {

namespace {

namespace fs = std::filesystem;

constexpr const char* kImStart = "<|im_start|>";
constexpr const char* kImEnd = "<|im_end|>";  // the end of the assistant's turn: the stop token

std::string in_dir(const std::string& dir, const char* file) { return (fs::path(dir) / file).string(); }

news::TimeWindow time_window(const news::Window& w) { return {w.start, w.end}; }

// One user as the driver sees it.
struct EvalUser {
  std::string id;
  std::vector<std::int32_t> prompt;
  std::vector<std::string> signals;  // cleaned signal texts, for the rewards
  bool no_signals = false;           // nothing left after cleaning: no list, the fallback ranks them
};

// A batch of users handed to one rollout-worker.
struct PendingBatch {
  std::size_t first = 0, users = 0;  // a range of the users with signals
  runtime::Future<std::vector<Sample>> samples;
};

// The rewards that were computed (a weight of 0 leaves NaN: left out).
nlohmann::ordered_json rewards_json(const news::Rewards& r) {
  nlohmann::ordered_json j;
  j["composite"] = r.composite;
  const std::pair<const char*, double> parts[] = {
      {"ret", r.ret}, {"cov", r.cov}, {"spec", r.spec}, {"div", r.div}, {"struct", r.structure}};
  for (const auto& [name, value] : parts) {
    if (!std::isnan(value)) j[name] = value;
  }
  return j;
}

std::string clock_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const long s = std::lround(seconds);
  std::ostringstream out;
  if (s >= 3600) out << s / 3600 << "h";
  if (s >= 60) out << (s % 3600) / 60 << "m";
  out << s % 60 << "s";
  return out.str();
}

// A live line on a terminal; in a log, a line about every 10 seconds.
class ProgressLine {
 public:
  ProgressLine(std::ostream& out, std::size_t total)
      : out_(out), total_(total), terminal_(&out == &std::cerr && isatty(STDERR_FILENO) != 0) {}

  void update(std::size_t done) {
    const auto now = std::chrono::steady_clock::now();
    const double elapsed = std::chrono::duration<double>(now - start_).count();
    const bool last = done == total_;
    if (!last && !terminal_ && std::chrono::duration<double>(now - last_print_).count() < 10) return;
    last_print_ = now;
    const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0;
    std::ostringstream line;
    line << "eval policy: " << done << "/" << total_ << " users (" << std::fixed;
    line.precision(2);
    line << rate << " users/s, ETA " << clock_text(rate > 0 ? static_cast<double>(total_ - done) / rate : -1) << ")";
    out_ << (terminal_ ? "\r" : "") << line.str() << (terminal_ && !last ? "   " : "\n") << std::flush;
  }

 private:
  std::ostream& out_;
  std::size_t total_;
  bool terminal_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now(), last_print_ = start_;
};

// Writes lines to PATH.tmp and renames it over PATH when done, so that an
// interrupted run never leaves a half-written file under the real name.
class AtomicFile {
 public:
  explicit AtomicFile(std::string path) : path_(std::move(path)) {
    if (path_.empty()) return;
    out_.open(path_ + ".tmp", std::ios::trunc);
    if (!out_) throw std::invalid_argument(path_ + ": cannot write");
  }
  void line(const std::string& text) {
    if (!path_.empty()) out_ << text << "\n";
  }
  void commit() {
    if (path_.empty()) return;
    out_.close();
    if (!out_) throw std::invalid_argument(path_ + ": write failed (disk full?)");
    fs::rename(path_ + ".tmp", path_);
  }

 private:
  std::string path_;
  std::ofstream out_;
};

void check_inputs(const PolicyEvalSpec& s) {
  if (const std::string p = s.generate.problem(); !p.empty()) throw runtime::ConfigError(p);
  if (const std::string p = news::check_prompt_config(s.prompt); !p.empty()) throw runtime::ConfigError(p);
  if (const std::string p = news::check_limits(s.limits); !p.empty()) throw runtime::ConfigError(p);
  if (const auto problems = s.rewards.problems(); !problems.empty()) throw runtime::ConfigError(problems.front());
  if (s.limits.closing != kImEnd) {
    throw runtime::ConfigError("[grammar] closing: the policy stops at " + std::string(kImEnd) + ", so lists must close with it");
  }

  if (!fs::is_directory(s.world)) throw runtime::ConfigError(s.world + ": no such dataset folder");
  for (const char* file : {news::kNewsFile, news::kUsersFile, news::kSplitFile, news::kTruthFile}) {
    if (!fs::is_regular_file(in_dir(s.world, file))) {
      throw runtime::ConfigError(in_dir(s.world, file) + ": missing (a dataset folder holds news, users, split and truth)");
    }
  }
  if (fs::file_size(in_dir(s.world, news::kUsersFile)) == 0) {
    throw runtime::ConfigError(in_dir(s.world, news::kUsersFile) + ": no users");
  }
  if (!fs::is_regular_file(s.checkpoint)) throw runtime::ConfigError(s.checkpoint + ": no such checkpoint file");
  if (!fs::is_regular_file(s.tokenizer)) throw runtime::ConfigError(s.tokenizer + ": no such tokenizer file");
  if (!fs::is_directory(s.index)) throw runtime::ConfigError(s.index + ": no such index folder");

  // The policy and its tokenizer: every id the tokenizer writes must be one
  // the model has (a larger model vocabulary is fine: Qwen pads it).
  const models::Qwen2Config config = models::read_config(runtime::H5File(s.checkpoint, runtime::H5File::Mode::read));
  const models::Tokenizer tokenizer = models::Tokenizer::load(s.tokenizer);
  if (tokenizer.vocab_size() > config.vocab_size) {
    throw runtime::ConfigError(s.tokenizer + ": " + std::to_string(tokenizer.vocab_size()) + " token ids, but the policy " +
                               s.checkpoint + " has a vocabulary of " + std::to_string(config.vocab_size) +
                               " (the tokenizer of another model?)");
  }
  for (const char* marker : {kImStart, kImEnd}) {
    if (!tokenizer.token_to_id(marker)) {
      throw runtime::ConfigError(s.tokenizer + ": no " + std::string(marker) + " token (the prompt's chat markers)");
    }
  }

  // The index must come from this world: every indexed article is the
  // world's article of the same id and title.
  const news::NewsIndex index = news::NewsIndex::load(s.index);
  for (const char* window : {"train", "test"}) {
    const std::vector<std::string> windows = index.windows();
    if (std::find(windows.begin(), windows.end(), window) == windows.end()) {
      throw runtime::ConfigError(s.index + ": no " + std::string(window) +
                                 " window (build the index with `newsrl index build` over the whole world)");
    }
  }
  if (const std::string m = news::index_world_mismatch(index, s.index, s.world); !m.empty()) {
    throw runtime::ConfigError(m);
  }
}

// The users to evaluate, in file order, each with the prompt `newsrl data
// sft` renders; a user with no signal left after cleaning gets no prompt
// (data sft makes no example of them either, so the policy never saw one).
std::vector<EvalUser> read_users(const PolicyEvalSpec& s, const models::Tokenizer& tokenizer, const news::Split& split,
                                 std::int64_t& empty_signals) {
  news::NewsTitles titles;
  for (news::Article& a : news::load_news(in_dir(s.world, news::kNewsFile), &split)) titles.emplace(std::move(a.id), std::move(a.title));
  news::CheckContext context;
  context.split = &split;
  news::UsersReader reader(in_dir(s.world, news::kUsersFile), {}, context);
  std::vector<EvalUser> out;
  news::User raw;
  while (reader.next(raw)) {
    if (s.generate.max_users > 0 && static_cast<std::int64_t>(out.size()) >= s.generate.max_users) break;
    const news::User user = news::cleaned_signals(raw);
    if (user.events.empty()) {
      ++empty_signals;
      out.push_back({user.id, {}, {}, true});
      continue;
    }
    const news::RenderedPrompt prompt = news::render_prompt(user, titles, tokenizer, s.prompt, s.limits);
    out.push_back({user.id, tokenizer.encode(prompt.text), news::signal_texts(user, titles), false});
  }
  return out;
}

std::unordered_map<std::string, std::vector<std::string>> as_map(const std::vector<news::Ranking>& rankings) {
  std::unordered_map<std::string, std::vector<std::string>> out;
  for (const news::Ranking& r : rankings) out.emplace(r.user, r.items);
  return out;
}

PolicyEvalSummary drive(runtime::Cluster& cluster, std::vector<runtime::ActorHandle<PolicyRollout>>& workers,
                        const PolicyEvalSpec& s, const PolicyEvalOutputs& outputs, std::ostream& progress) {
  const GenerateConfig& g = s.generate;
  const std::vector<int> cutoffs = news::parse_cutoffs(g.k);
  const int length = g.length > 0 ? g.length : cutoffs.back();
  const models::Tokenizer tokenizer = models::Tokenizer::load(s.tokenizer);
  const news::NewsIndex index = news::NewsIndex::load(s.index);
  const news::Split split = *news::read_split(in_dir(s.world, news::kSplitFile));
  news::RewardModel rewards(index, time_window(split.train), s.rewards);

  PolicyEvalSummary summary;
  const std::vector<EvalUser> users = read_users(s, tokenizer, split, summary.empty_signals);
  if (users.empty()) throw std::invalid_argument(in_dir(s.world, news::kUsersFile) + ": no users");
  std::vector<std::string> fallback_list;
  if (g.fallback == "popular") {
    fallback_list = news::popular_list(news::read_heuristic_input(s.world, news::HeuristicOptions{}), length);
  }

  SamplingParams sampling;
  sampling.max_new_tokens = g.max_new_tokens;
  sampling.temperature = static_cast<float>(g.temperature_in_effect());
  sampling.top_k = g.top_k;
  sampling.top_p = static_cast<float>(g.top_p);
  sampling.stop_tokens = {*tokenizer.token_to_id(kImEnd)};
  sampling.seed = g.seed;

  std::vector<std::size_t> active;  // the users with signals, in file order
  for (std::size_t u = 0; u < users.size(); ++u) {
    if (!users[u].no_signals) active.push_back(u);
  }

  const auto t0 = std::chrono::steady_clock::now();
  const auto batch_size = static_cast<std::size_t>(g.batch);
  const std::size_t batches = (active.size() + batch_size - 1) / batch_size;
  // Batch b goes to worker b mod W; two batches per worker in flight, so a
  // worker samples the next one while the driver scores the last.
  std::deque<PendingBatch> in_flight;
  std::size_t next_batch = 0;
  auto submit = [&] {
    const std::size_t first = next_batch * batch_size;
    PendingBatch p;
    p.first = first;
    p.users = std::min(batch_size, active.size() - first);
    std::vector<std::vector<std::int32_t>> prompts;
    for (std::size_t a = first; a < first + p.users; ++a) prompts.push_back(users[active[a]].prompt);
    SamplingParams params = sampling;
    params.first_stream = static_cast<std::uint64_t>(first) * static_cast<std::uint64_t>(g.n);
    p.samples = workers[next_batch % workers.size()].call(&PolicyRollout::sample, prompts, g.n, params);
    in_flight.push_back(std::move(p));
    ++next_batch;
  };

  AtomicFile lists_file(outputs.lists);
  std::vector<news::Ranking> rankings;
  rankings.reserve(users.size());
  // Users without signals are written in their place in file order, as the
  // batches pass them.
  std::size_t written = 0;
  auto pass_users_without_signals = [&](std::size_t until) {
    for (; written < until; ++written) {
      const EvalUser& user = users[written];
      if (!user.no_signals) continue;
      nlohmann::ordered_json j;
      j["user"] = user.id;
      j["queries"] = nlohmann::ordered_json::array();
      j["n"] = 0;
      j["parsed"] = false;
      j["error"] = "no signal left after cleaning";
      j["fallback"] = g.fallback;
      lists_file.line(j.dump());
      rankings.push_back({user.id, fallback_list});
      ++summary.fallbacks;
    }
  };
  ProgressLine line(progress, active.size());
  double composite_sum = 0;
  while (next_batch < batches || !in_flight.empty()) {
    while (next_batch < batches && in_flight.size() < 2 * workers.size()) submit();
    PendingBatch batch = std::move(in_flight.front());
    in_flight.pop_front();
    const std::vector<Sample> samples = batch.samples.get();
    if (samples.size() != batch.users * static_cast<std::size_t>(g.n)) {
      throw std::logic_error("a rollout-worker returned " + std::to_string(samples.size()) + " samples for " +
                             std::to_string(batch.users) + " users");
    }
    // Per user: decode and parse every list and score them; then keep the
    // best of each user's lists by the batch's rule (actors/best_of_n.h).
    std::vector<std::vector<news::ParsedList>> lists(batch.users);
    std::vector<std::vector<news::Rewards>> scored(batch.users);
    for (std::size_t b = 0; b < batch.users; ++b) {
      const EvalUser& user = users[active[batch.first + b]];
      for (int j = 0; j < g.n; ++j) {
        const Sample& sample = samples[b * static_cast<std::size_t>(g.n) + static_cast<std::size_t>(j)];
        summary.generated_tokens += static_cast<std::int64_t>(sample.completion.size());
        news::ParsedList list;
        try {
          list = news::parse_completion(tokenizer.decode(sample.completion), s.limits);
        } catch (const std::out_of_range&) {  // an id the model has and the tokenizer lacks
          list.error = "a token id outside the tokenizer";
        }
        if (!list.valid) ++summary.parse_failures;
        lists[b].push_back(std::move(list));
      }
      scored[b] = rewards.score(rewards.prepare(user.signals), lists[b]);
    }
    const std::vector<std::size_t> choice = choose_best_of_n(scored, s.rewards, g.select);
    std::vector<std::vector<std::string>> kept(batch.users);
    std::vector<bool> has_queries(batch.users);
    std::vector<std::string> lines(batch.users);
    for (std::size_t b = 0; b < batch.users; ++b) {
      const EvalUser& user = users[active[batch.first + b]];
      const std::size_t chosen = choice[b];
      const news::ParsedList& best = lists[b][chosen];
      // A list that does not parse gives no queries, and the fallback ranks
      // the user; with `salvage`, the queries the parser read from it (its
      // well-formed lines, repeats left out) rank the user if there are any.
      if (best.valid) kept[b] = best.queries;
      if (!best.valid && g.salvage) kept[b] = news::salvage_queries(best, s.limits);
      const bool salvaged = !best.valid && !kept[b].empty();
      has_queries[b] = !kept[b].empty();
      if (salvaged) ++summary.salvaged;
      composite_sum += scored[b][chosen].composite;
      nlohmann::ordered_json j;
      j["user"] = user.id;
      j["queries"] = kept[b];
      j["rewards"] = rewards_json(scored[b][chosen]);
      j["chosen"] = chosen;
      j["n"] = g.n;
      j["parsed"] = best.valid;
      if (!best.valid) {
        j["error"] = best.error;
        if (salvaged) {
          j["salvaged"] = true;
        } else {
          j["fallback"] = g.fallback;
        }
      }
      nlohmann::ordered_json composites = nlohmann::ordered_json::array();
      for (const news::Rewards& r : scored[b]) composites.push_back(r.composite);
      j["composites"] = composites;
      lines[b] = j.dump();
    }
    // Retrieval by the code of recent-searches, with the kept queries in
    // place of the user's own searches: each query's top `length` from the
    // test window, merged round-robin without duplicates.
    news::HeuristicInput queries;
    for (std::size_t b = 0; b < batch.users; ++b) {
      queries.users.push_back(users[active[batch.first + b]].id);
      queries.recent_searches.push_back(std::move(kept[b]));
    }
    std::vector<news::Ranking> retrieved = news::recent_search_rankings(queries, index, length, "test");
    for (std::size_t b = 0; b < batch.users; ++b) {
      pass_users_without_signals(active[batch.first + b]);
      if (!has_queries[b]) {
        ++summary.fallbacks;
        retrieved[b].items = fallback_list;
      }
      lists_file.line(lines[b]);
      rankings.push_back(std::move(retrieved[b]));
      ++written;
    }
    line.update(batch.first + batch.users);
  }
  pass_users_without_signals(users.size());
  cluster.shutdown();
  summary.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  summary.users = static_cast<std::int64_t>(users.size());
  summary.lists = static_cast<std::int64_t>(active.size()) * g.n;
  summary.mean_composite = active.empty() ? 0.0 : composite_sum / static_cast<double>(active.size());

  // The metrics, by the code of `newsrl eval rankings --users`: the truth and
  // the segments of the users evaluated.
  news::UserSegments segments = news::read_segments(in_dir(s.world, news::kUsersFile));
  std::vector<news::UserTruth> truth = news::read_truth(in_dir(s.world, news::kTruthFile));
  if (g.max_users > 0) {
    std::unordered_set<std::string> evaluated;
    for (const EvalUser& u : users) evaluated.insert(u.id);
    std::erase_if(truth, [&](const news::UserTruth& t) { return !evaluated.contains(t.user); });
    std::erase_if(segments.users, [&](const std::string& u) { return !evaluated.contains(u); });
  }
  const news::EvalReport report = news::evaluate_rankings(as_map(rankings), truth, cutoffs, &segments);
  summary.metrics = report.to_json();
  summary.table = report.to_table();

  lists_file.commit();
  if (!outputs.rankings.empty()) news::write_rankings(outputs.rankings, rankings);
  if (!outputs.metrics.empty()) {
    AtomicFile metrics(outputs.metrics);
    metrics.line(summary.metrics.dump(1));
    metrics.commit();
  }
  return summary;
}

}  // namespace

std::string GenerateConfig::problem() const {
  if (n < 1 || n > 1024) return "[generate] n: " + std::to_string(n) + " should be between 1 and 1024";
  if (temperature && (*temperature < 0 || !std::isfinite(*temperature))) return "[generate] temperature: should be 0 (greedy) or more";
  if (n > 1 && temperature_in_effect() == 0) return "[generate] temperature: 0 (greedy) with n > 1 samples the same list n times";
  if (!(top_p > 0 && top_p <= 1)) return "[generate] top_p: should be in (0, 1]";
  if (top_k < 0) return "[generate] top_k: should be 0 (no limit) or more";
  if (max_new_tokens < 1 || max_new_tokens > 8192) return "[generate] max_new_tokens: should be between 1 and 8192";
  if (batch < 1 || batch > 4096) return "[generate] batch: should be between 1 and 4096";
  if (length < 0 || length > 10000) return "[generate] length: should be between 0 (the largest cutoff) and 10000";
  if (fallback != "popular" && fallback != "none") return "[generate] fallback: \"" + fallback + "\" (known: popular, none)";
  if (max_users < 0) return "[generate] max_users: should be 0 (every user) or more";
  if (!known_best_of_n_rule(select)) return "[generate] select: \"" + select + "\" (known: " + kBestOfNRules + ")";
  try {
    news::parse_cutoffs(k);
  } catch (const std::invalid_argument& e) {
    return "[generate] k: " + std::string(e.what());
  }
  return "";
}

void check_policy_eval(const PolicyEvalSpec& spec) {
  try {
    check_inputs(spec);
  } catch (const runtime::ConfigError&) {
    throw;
  } catch (const std::invalid_argument& e) {  // a loader's one line (DataError, tokenizer, index)
    throw runtime::ConfigError(e.what());
  } catch (const runtime::H5Error& e) {
    throw runtime::ConfigError(e.what());
  }
}

std::optional<PolicyEvalSummary> run_policy_eval(runtime::Cluster& cluster, const PolicyEvalSpec& spec,
                                                 const PolicyEvalOutputs& outputs, std::ostream& progress) {
  auto workers = cluster.spawn<PolicyRollout>("rollout", PolicySource{spec.checkpoint, "", 0});
  if (!cluster.is_driver()) {
    cluster.serve();
    return std::nullopt;
  }
  return drive(cluster, workers, spec, outputs, progress);
}

nlohmann::json evaluate_policy(runtime::Cluster& cluster, const PolicyEvalSpec& spec, const PolicyEvalOutputs& outputs,
                               std::ostream& progress) {
  const std::optional<PolicyEvalSummary> summary = run_policy_eval(cluster, spec, outputs, progress);
  if (!summary) return nullptr;
  return nlohmann::json::parse(summary->metrics.dump());
}

}  // namespace newsrl::actors
