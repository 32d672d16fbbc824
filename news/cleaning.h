// Stage 1 of the pipeline: the noise-cleaning classifier. Each event of a
// dataset becomes one example (its signal text as token ids, the tokenizer's
// "<|endoftext|>" first as the token the classifier pools on), labelled by
// the ANNOTATOR (1 = keep); an EncoderClassifier learns those labels on a
// seeded share of the users and is scored on the others against the TRUE
// `keep` labels. Applying it writes a cleaned copy of a dataset whose events
// carry the classifier's decision as their "annotator" label, so the default
// SignalFilter (annotator_keeps) downstream follows it (docs/cleaning.md).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "models/encoder_classifier.h"
#include "models/tokenizer.h"
#include "news/schema.h"
#include "news/signals.h"

namespace newsrl::news {

struct CleaningOptions {
  std::string preset = "cls-tiny";
  int max_tokens = 32;        // per event, the first (pooling) token included
  double train_share = 0.3;   // of the users, by a seeded shuffle
  std::uint64_t seed = 0;
  int epochs = 2;
  int batch_size = 32;
  float learning_rate = 1e-3f;
};

struct CleaningExample {
  std::vector<std::int32_t> ids;
  int label = 1;                // the annotator's: 1 keep, 0 drop (events without one are not examples)
  std::optional<bool> truth;    // the true `keep`, when the data has it (evaluation only)
};

// The pooling token's id ("<|endoftext|>"); one line when the tokenizer lacks it.
std::int32_t cleaning_cls_id(const models::Tokenizer& tokenizer);
// The pooling token, then the text's tokens, truncated to max_tokens in all.
std::vector<std::int32_t> cleaning_tokens(const std::string& text, const models::Tokenizer& tokenizer,
                                          int max_tokens);

// The indices 0..n-1 split by a seeded shuffle: round(share * n) of them
// (at least 1 and at most n-1 when n >= 2) train, the rest are held out;
// both lists ascending.
struct UserSplit {
  std::vector<std::size_t> train, held_out;
};
UserSplit split_users(std::size_t n, double share, std::uint64_t seed);

// Every annotated event of the chosen users, in user then event order.
std::vector<CleaningExample> cleaning_examples(const std::vector<User>& users, const std::vector<std::size_t>& which,
                                               const NewsTitles& titles, const models::Tokenizer& tokenizer,
                                               int max_tokens);

// A classifier of options.preset sized to vocab_size and max_tokens, trained
// on the examples' labels: length buckets cut into batches, the batch order
// shuffled each epoch from the seed, AdamW with warm-up and cosine decay.
// `losses`, when given, receives each epoch's mean loss.
models::EncoderClassifier train_cleaner(const std::vector<CleaningExample>& examples, std::int64_t vocab_size,
                                        const CleaningOptions& options, std::vector<double>* losses = nullptr);

// P(keep) of each sequence.
std::vector<float> keep_probabilities(models::EncoderClassifier& model,
                                      const std::vector<std::vector<std::int32_t>>& sequences);

// Precision and recall of a "drop" decision against the truth (drop when keep is false).
struct DropScore {
  std::int64_t events = 0, dropped = 0, noise = 0, dropped_noise = 0;
  double precision() const { return dropped == 0 ? 0.0 : static_cast<double>(dropped_noise) / dropped; }
  double recall() const { return noise == 0 ? 0.0 : static_cast<double>(dropped_noise) / noise; }
};
struct CleaningReport {
  std::int64_t train_users = 0, held_out_users = 0, train_examples = 0;
  std::vector<double> epoch_losses;
  DropScore classifier, annotator;  // on the held-out users' events that carry the truth
};

// The whole of `newsrl clean train`: reads the dataset folder, trains,
// evaluates on the held-out users, saves the classifier to model_path.
CleaningReport train_and_evaluate(const std::string& world_dir, const models::Tokenizer& tokenizer,
                                  const CleaningOptions& options, const std::string& model_path);

struct ApplyCounts {
  std::int64_t users = 0, events = 0, kept = 0, dropped = 0;
};
// Writes out_dir: users.jsonl with every event's "annotator" set to the
// classifier's decision (P(keep) >= 0.5), the other dataset files copied.
ApplyCounts apply_cleaner(const std::string& world_dir, models::EncoderClassifier& model,
                          const models::Tokenizer& tokenizer, const std::string& out_dir);

}  // namespace newsrl::news
