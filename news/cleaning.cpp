// The noise-cleaning classifier: examples, the user split, training,
// evaluation against the truth, and the cleaned copy of a dataset.
#include "news/cleaning.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <numeric>
#include <random>
#include <stdexcept>

#include "models/encoder_classifier_file.h"
#include "models/optimizer.h"

namespace newsrl::news {

namespace fs = std::filesystem;

std::int32_t cleaning_cls_id(const models::Tokenizer& tokenizer) {
  const std::optional<std::int32_t> id = tokenizer.token_to_id("<|endoftext|>");
  if (!id) throw std::invalid_argument("the tokenizer has no <|endoftext|> token (the classifier pools on it)");
  return *id;
}

std::vector<std::int32_t> cleaning_tokens(const std::string& text, const models::Tokenizer& tokenizer,
                                          int max_tokens) {
  std::vector<std::int32_t> ids{cleaning_cls_id(tokenizer)};
  for (std::int32_t id : tokenizer.encode(text)) {
    if (static_cast<int>(ids.size()) >= max_tokens) break;
    ids.push_back(id);
  }
  return ids;
}

UserSplit split_users(std::size_t n, double share, std::uint64_t seed) {
  std::vector<std::size_t> order(n);
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::mt19937_64 rng(seed);
  for (std::size_t i = n; i > 1; --i) std::swap(order[i - 1], order[rng() % i]);  // Fisher-Yates, portable
  auto take = static_cast<std::size_t>(std::llround(share * static_cast<double>(n)));
  if (n >= 2) take = std::clamp<std::size_t>(take, 1, n - 1);
  UserSplit s;
  s.train.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(std::min(take, n)));
  s.held_out.assign(order.begin() + static_cast<std::ptrdiff_t>(std::min(take, n)), order.end());
  std::sort(s.train.begin(), s.train.end());
  std::sort(s.held_out.begin(), s.held_out.end());
  return s;
}

std::vector<CleaningExample> cleaning_examples(const std::vector<User>& users, const std::vector<std::size_t>& which,
                                               const NewsTitles& titles, const models::Tokenizer& tokenizer,
                                               int max_tokens) {
  std::vector<CleaningExample> out;
  for (std::size_t u : which) {
    for (const Event& e : users.at(u).events) {
      if (!e.annotator) continue;
      CleaningExample ex;
      ex.ids = cleaning_tokens(signal_text(e, titles), tokenizer, max_tokens);
      ex.label = *e.annotator ? 1 : 0;
      ex.truth = e.keep;
      out.push_back(std::move(ex));
    }
  }
  return out;
}

models::EncoderClassifier train_cleaner(const std::vector<CleaningExample>& examples, std::int64_t vocab_size,
                                        const CleaningOptions& o, std::vector<double>* losses) {
  if (examples.empty()) throw std::invalid_argument("no training examples (no event carries an annotator label)");
  models::EncoderConfig config = models::EncoderConfig::preset(o.preset);
  config.vocab_size = vocab_size;
  config.max_position_embeddings = o.max_tokens;
  config.validate();
  models::EncoderClassifier model(config);
  model.init(o.seed);

  // Batches: each length bucket cut into batch_size pieces (fixed), their order shuffled each epoch.
  std::map<std::size_t, std::vector<std::size_t>> buckets;
  for (std::size_t i = 0; i < examples.size(); ++i) buckets[examples[i].ids.size()].push_back(i);
  std::vector<std::vector<std::size_t>> batches;
  for (const auto& [len, members] : buckets) {
    for (std::size_t at = 0; at < members.size(); at += static_cast<std::size_t>(o.batch_size)) {
      const std::size_t end = std::min(members.size(), at + static_cast<std::size_t>(o.batch_size));
      batches.emplace_back(members.begin() + static_cast<std::ptrdiff_t>(at),
                           members.begin() + static_cast<std::ptrdiff_t>(end));
    }
  }
  const auto total = static_cast<std::int64_t>(batches.size()) * o.epochs;
  models::Optimizer opt(model.parameters(), kernels::AdamW{o.learning_rate, 0.9f, 0.999f, 1e-8f, 0.01f},
                        models::Schedule{o.learning_rate, o.learning_rate / 10, std::max<std::int64_t>(1, total / 20),
                                         std::max<std::int64_t>(1, total)},
                        1.0f);
  std::mt19937_64 rng(o.seed ^ 0x9e3779b97f4a7c15ULL);
  models::Graph g;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    for (std::size_t i = batches.size(); i > 1; --i) std::swap(batches[i - 1], batches[rng() % i]);
    double sum = 0;
    std::int64_t seen = 0;
    for (const std::vector<std::size_t>& batch : batches) {
      const auto b = static_cast<std::int64_t>(batch.size());
      const auto t = static_cast<std::int64_t>(examples[batch[0]].ids.size());
      kernels::Tensor ids = kernels::Tensor::empty({b, t}, kernels::DType::i32);
      std::vector<std::int32_t> labels;
      for (std::int64_t r = 0; r < b; ++r) {
        const CleaningExample& ex = examples[batch[static_cast<std::size_t>(r)]];
        std::copy(ex.ids.begin(), ex.ids.end(), ids.data<std::int32_t>() + r * t);
        labels.push_back(ex.label);
      }
      g.clear();
      model.zero_grad();
      models::Value loss = model.loss(g, ids, kernels::Tensor::from(labels, {b}));
      sum += static_cast<double>(loss.tensor().to_vector<float>()[0]) * static_cast<double>(b);
      seen += b;
      g.backward(loss);
      opt.step();
    }
    if (losses) losses->push_back(sum / static_cast<double>(std::max<std::int64_t>(1, seen)));
  }
  return model;
}

std::vector<float> keep_probabilities(models::EncoderClassifier& model,
                                      const std::vector<std::vector<std::int32_t>>& sequences) {
  std::vector<float> out;
  out.reserve(sequences.size());
  for (const std::vector<float>& p : model.predict_proba(sequences, 64)) out.push_back(p.at(1));
  return out;
}

namespace {

struct Dataset {
  std::vector<User> users;
  NewsTitles titles;
};

Dataset read_dataset(const std::string& world_dir) {
  const fs::path dir(world_dir);
  for (const char* name : {kNewsFile, kUsersFile, kSplitFile}) {
    if (!fs::is_regular_file(dir / name)) throw std::invalid_argument((dir / name).string() + ": no such file");
  }
  const std::optional<Split> split = read_split((dir / kSplitFile).string());
  if (!split) throw std::invalid_argument((dir / kSplitFile).string() + ": not a valid split");
  Dataset d;
  for (const Article& a : load_news((dir / kNewsFile).string(), &*split)) d.titles[a.id] = a.title;
  CheckContext context;
  context.split = &*split;
  d.users = load_users((dir / kUsersFile).string(), context);
  return d;
}

void score(DropScore& s, bool dropped, bool truth_keep) {
  ++s.events;
  if (dropped) ++s.dropped;
  if (!truth_keep) ++s.noise;
  if (dropped && !truth_keep) ++s.dropped_noise;
}

}  // namespace

CleaningReport train_and_evaluate(const std::string& world_dir, const models::Tokenizer& tokenizer,
                                  const CleaningOptions& o, const std::string& model_path) {
  const Dataset d = read_dataset(world_dir);
  const UserSplit split = split_users(d.users.size(), o.train_share, o.seed);
  const std::vector<CleaningExample> train = cleaning_examples(d.users, split.train, d.titles, tokenizer, o.max_tokens);
  if (train.empty()) {
    throw std::invalid_argument(world_dir + ": no event of the training users carries an \"annotator\" label");
  }
  CleaningReport r;
  r.train_users = static_cast<std::int64_t>(split.train.size());
  r.held_out_users = static_cast<std::int64_t>(split.held_out.size());
  r.train_examples = static_cast<std::int64_t>(train.size());
  models::EncoderClassifier model = train_cleaner(train, tokenizer.vocab_size(), o, &r.epoch_losses);

  // Held-out events with the truth: every one, annotated or not.
  std::vector<std::vector<std::int32_t>> seqs;
  std::vector<const Event*> events;
  for (std::size_t u : split.held_out) {
    for (const Event& e : d.users[u].events) {
      if (!e.keep) continue;
      seqs.push_back(cleaning_tokens(signal_text(e, d.titles), tokenizer, o.max_tokens));
      events.push_back(&e);
    }
  }
  const std::vector<float> p = keep_probabilities(model, seqs);
  for (std::size_t i = 0; i < events.size(); ++i) {
    score(r.classifier, p[i] < 0.5f, *events[i]->keep);
    score(r.annotator, !annotator_keeps(*events[i]), *events[i]->keep);
  }
  models::save_classifier(model, model_path);
  return r;
}

ApplyCounts apply_cleaner(const std::string& world_dir, models::EncoderClassifier& model,
                          const models::Tokenizer& tokenizer, const std::string& out_dir) {
  if (model.config().vocab_size != tokenizer.vocab_size()) {
    throw std::invalid_argument("the classifier's vocabulary (" + std::to_string(model.config().vocab_size) +
                                ") does not match the tokenizer's (" + std::to_string(tokenizer.vocab_size()) + ")");
  }
  const fs::path in(world_dir), out(out_dir);
  std::error_code ec;
  if (fs::exists(out) && fs::equivalent(in, out, ec)) {
    throw std::invalid_argument(out_dir + ": the output folder must differ from the input");
  }
  Dataset d = read_dataset(world_dir);
  const auto max_tokens = static_cast<int>(model.config().max_position_embeddings);
  std::vector<std::vector<std::int32_t>> seqs;
  for (const User& u : d.users) {
    for (const Event& e : u.events) seqs.push_back(cleaning_tokens(signal_text(e, d.titles), tokenizer, max_tokens));
  }
  const std::vector<float> p = keep_probabilities(model, seqs);
  ApplyCounts c;
  std::size_t i = 0;
  for (User& u : d.users) {
    ++c.users;
    for (Event& e : u.events) {
      e.annotator = p[i++] >= 0.5f;
      ++c.events;
      ++(*e.annotator ? c.kept : c.dropped);
    }
  }
  fs::create_directories(out);
  const fs::path tmp = out / (std::string(kUsersFile) + ".tmp");
  {
    std::ofstream f(tmp, std::ios::binary | std::ios::trunc);
    if (!f) throw std::invalid_argument(tmp.string() + ": cannot write");
    for (const User& u : d.users) f << to_json_line(u) << '\n';
    f.flush();
    if (!f) throw std::invalid_argument(tmp.string() + ": write failed");
  }
  fs::rename(tmp, out / kUsersFile);
  for (const char* name : {kNewsFile, kSplitFile, kTruthFile, kInterestsFile, kStatsFile}) {
    if (fs::is_regular_file(in / name)) fs::copy_file(in / name, out / name, fs::copy_options::overwrite_existing);
  }
  return c;
}

}  // namespace newsrl::news
