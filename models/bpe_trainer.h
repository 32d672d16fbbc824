// Trains a small byte-level BPE vocabulary and writes it as a Hugging Face
// tokenizer.json of the Qwen2.5 kind (NFC, Qwen's split regex, ByteLevel,
// special tokens as added tokens after the merges). Words are counted once
// with their frequencies; after each merge only the words that hold the
// merged pair update the pair counts. Ties go to the pair with the smaller
// ids, so the same texts give the same file, byte for byte.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/tokenizer_pretokenizer.h"

namespace newsrl::models {

struct BpeTrainerOptions {
  // Total ids in the file: 256 bytes + merges + special tokens.
  std::int32_t vocab_size = 1024;
  std::vector<std::string> special_tokens = {"<|endoftext|>", "<|im_start|>", "<|im_end|>"};
  // Pairs seen fewer times than this are not merged (the vocabulary may then
  // come out smaller than vocab_size).
  std::int64_t min_frequency = 2;
};

class BpeTrainer {
 public:
  // Throws std::invalid_argument when vocab_size cannot hold the bytes and
  // the special tokens, or a special token is empty or repeated.
  explicit BpeTrainer(BpeTrainerOptions options);

  // Counts the words of one text (special tokens in it are left out).
  void add_text(std::string_view text);
  // Learns the merges and returns the tokenizer.json.
  nlohmann::ordered_json train() const;

  // The split regex the trainer uses and writes (Qwen2.5's).
  static const char* split_pattern();

 private:
  BpeTrainerOptions options_;
  PreTokenizer pre_tokenizer_;
  std::unordered_map<std::string, std::int64_t> word_counts_;
};

}  // namespace newsrl::models
