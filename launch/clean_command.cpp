#include "launch/clean_command.h"

#include <cstdio>
#include <iostream>
#include <nlohmann/json.hpp>

#include "models/encoder_classifier_file.h"
#include "models/encoder_config.h"
#include "models/tokenizer.h"
#include "news/cleaning.h"

namespace newsrl::launch {

namespace {

struct TrainFlags {
  std::string world, tokenizer, out;
  news::CleaningOptions options;
  bool json = false;
};

struct ApplyFlags {
  std::string world, tokenizer, model, out;
};

nlohmann::json score_json(const news::DropScore& s) {
  return {{"events", s.events},       {"dropped", s.dropped},         {"noise", s.noise},
          {"dropped_noise", s.dropped_noise}, {"precision", s.precision()}, {"recall", s.recall()}};
}

std::string fixed3(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

int clean_train(const TrainFlags& f) {
  const models::Tokenizer tokenizer = models::Tokenizer::load(f.tokenizer);
  const news::CleaningReport r = news::train_and_evaluate(f.world, tokenizer, f.options, f.out);
  if (f.json) {
    nlohmann::json j = {{"model", f.out},
                        {"train_users", r.train_users},
                        {"held_out_users", r.held_out_users},
                        {"train_examples", r.train_examples},
                        {"epoch_losses", r.epoch_losses},
                        {"classifier", score_json(r.classifier)},
                        {"annotator", score_json(r.annotator)}};
    std::cout << j.dump() << "\n";
    return 0;
  }
  std::cout << "trained on " << r.train_examples << " events of " << r.train_users << " users (annotator labels); "
            << "final epoch loss " << fixed3(r.epoch_losses.back()) << "; wrote " << f.out << "\n";
  std::cout << "held-out " << r.held_out_users << " users, " << r.classifier.events << " events, "
            << r.classifier.noise << " noise (true labels)\n";
  std::cout << "classifier drop: precision " << fixed3(r.classifier.precision()) << " recall "
            << fixed3(r.classifier.recall()) << " (" << r.classifier.dropped << " dropped)\n";
  std::cout << "annotator drop:  precision " << fixed3(r.annotator.precision()) << " recall "
            << fixed3(r.annotator.recall()) << " (" << r.annotator.dropped << " dropped)\n";
  return 0;
}

int clean_apply(const ApplyFlags& f) {
  const models::Tokenizer tokenizer = models::Tokenizer::load(f.tokenizer);
  models::EncoderClassifier model = models::load_classifier(f.model);
  const news::ApplyCounts c = news::apply_cleaner(f.world, model, tokenizer, f.out);
  std::cout << "wrote " << f.out << ": " << c.users << " users, " << c.events << " events, " << c.kept << " kept, "
            << c.dropped << " dropped\n";
  return 0;
}

}  // namespace

Runner add_clean_commands(CLI::App& app) {
  CLI::App* clean = app.add_subcommand("clean", "The noise-cleaning classifier (stage 1, docs/cleaning.md)");
  clean->require_subcommand(1);

  auto t = std::make_shared<TrainFlags>();
  CLI::App* train = clean->add_subcommand(
      "train", "Train on the annotator labels of a share of the users; report drop precision/recall on the others");
  train->add_option("--world", t->world, "Dataset folder (news.jsonl, users.jsonl, split.json)")
      ->required()
      ->check(CLI::ExistingDirectory);
  train->add_option("--tokenizer", t->tokenizer, "tokenizer.json (with <|endoftext|>)")
      ->required()
      ->check(CLI::ExistingFile);
  train->add_option("--out", t->out, "Classifier checkpoint to write (.h5)")->required();
  train->add_option("--preset", t->options.preset, "Classifier shape")
      ->check(CLI::IsMember(models::EncoderConfig::preset_names()))
      ->capture_default_str();
  train->add_option("--epochs", t->options.epochs, "Passes over the training events")
      ->check(CLI::Range(1, 1000))
      ->capture_default_str();
  train->add_option("--train-share", t->options.train_share, "Share of the users trained on (the rest evaluate)")
      ->check(CLI::Range(0.01, 0.99))
      ->capture_default_str();
  train->add_option("--max-tokens", t->options.max_tokens, "Tokens per event, the pooling token included")
      ->check(CLI::Range(2, 512))
      ->capture_default_str();
  train->add_option("--seed", t->options.seed, "Seed of the user split, the initialisation and the batch order")
      ->capture_default_str();
  train->add_flag("--json", t->json, "One JSON object instead of text");

  auto a = std::make_shared<ApplyFlags>();
  CLI::App* apply = clean->add_subcommand(
      "apply", "Write a cleaned copy of a dataset: every event's \"annotator\" becomes the classifier's decision");
  apply->add_option("--world", a->world, "Dataset folder to clean")->required()->check(CLI::ExistingDirectory);
  apply->add_option("--tokenizer", a->tokenizer, "tokenizer.json the classifier was trained with")
      ->required()
      ->check(CLI::ExistingFile);
  apply->add_option("--model", a->model, "Classifier from `newsrl clean train`")->required()->check(CLI::ExistingFile);
  apply->add_option("--out", a->out, "Output dataset folder")->required();

  return [=]() -> std::optional<int> {
    if (*train) return clean_train(*t);
    if (*apply) return clean_apply(*a);
    return std::nullopt;
  };
}

}  // namespace newsrl::launch
