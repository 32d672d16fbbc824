// A Hugging Face tokenizer.json of the byte-level BPE kind (GPT-2, Qwen2.5,
// Qwen3): added and special tokens are split out of the text first, the rest
// is NFC-normalized when the file asks for it, split by the pre-tokenizer's
// regex, and each word merged by BPE. Works on bytes: any byte string
// encodes, and decode gives the same bytes back.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "models/bpe.h"
#include "models/tokenizer_pretokenizer.h"

namespace newsrl::models {

struct AddedToken {
  std::int32_t id = 0;
  std::string content;
  bool special = false;
};

class Tokenizer {
 public:
  // Reads a tokenizer.json; throws std::invalid_argument with "<path>: <what>"
  // when it is missing, not JSON, or asks for something not supported here.
  static Tokenizer load(const std::string& path);
  // The same from parsed JSON; `source` names it in errors.
  static Tokenizer from_json(const nlohmann::json& j, const std::string& source);

  std::vector<std::int32_t> encode(std::string_view text) const;
  // encode() of each text, in parallel over texts (OpenMP).
  std::vector<std::vector<std::int32_t>> encode_batch(const std::vector<std::string>& texts) const;
  // The bytes of the tokens; throws std::out_of_range for an id with no token.
  std::string decode(std::span<const std::int32_t> ids) const;

  // One more than the largest id (vocab and added tokens).
  std::int32_t vocab_size() const { return static_cast<std::int32_t>(token_of_id_.size()); }
  // A token as written in the file (byte-level form, e.g. "Ġthe") or an added token's content.
  std::optional<std::int32_t> token_to_id(std::string_view token) const;
  // The token of an id as written in the file; throws std::out_of_range.
  const std::string& id_to_token(std::int32_t id) const;
  const std::vector<AddedToken>& added_tokens() const { return added_; }
  const PreTokenizer& pre_tokenizer() const { return *pre_tokenizer_; }

 private:
  Tokenizer() = default;
  void encode_plain(std::string_view text, std::vector<std::int32_t>& out) const;
  // Position and index (into added_) of the leftmost-longest added token in
  // text at or after `from`; nullopt when none.
  std::optional<std::pair<std::size_t, std::size_t>> find_added(std::string_view text, std::size_t from) const;

  std::unique_ptr<BpeModel> model_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::vector<AddedToken> added_;         // longest content first
  bool starts_added_[256] = {};           // first bytes of added tokens
  std::vector<std::string> token_of_id_;  // as written in the file ("" for a hole)
  std::vector<std::string> bytes_of_id_;  // what decode writes
  std::vector<bool> has_id_;
};

}  // namespace newsrl::models
